"""The workspace pages: /arbeitsplatz/, /arbeitsplatz/faelle/, /arbeitsplatz/team/.

Who sees what (own and deputised cases with names for the manager, the
team's open cases without client data for the supervisor, 404 for every
other role), the filters, search, sort and pages, the read log and the
start page leading to the dashboard.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from audit.models import ReadAccess
from tests.accounts.factories import UserFactory
from tests.workspace.factories import NOW, TODAY, build_day, case_row
from workspace.selectors import PAGE_SIZE

pytestmark = pytest.mark.django_db

CASES = "/arbeitsplatz/faelle/"
TEAM = "/arbeitsplatz/team/"
DASHBOARD = "/arbeitsplatz/"


@pytest.fixture(autouse=True)
def _frozen_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def day() -> Any:
    return build_day()


def client_of(user: Any, language: str = "de") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def case_numbers(html: str) -> list[int]:
    """The case numbers of the list's rows, in order."""
    return [int(n) for n in re.findall(r'data-label="Fall"><a href="[^"]+">#(\d+)</a>', html)]


def listed(user: Any, query: str = "", url: str = CASES) -> list[int]:
    response = client_of(user).get(url + query)
    assert response.status_code == 200, response.content.decode()
    return case_numbers(response.content.decode())


# --- the manager's case list -------------------------------------------------------


def test_the_manager_sees_own_and_deputised_open_cases_with_names(day) -> None:
    response = client_of(day.manager).get(CASES)

    html = response.content.decode()
    assert response.status_code == 200
    assert sorted(case_numbers(html)) == sorted(
        [day.overdue.pk, day.due.pk, day.ending.pk, day.later.pk, day.deputised.pk]
    )
    assert "Müller, Amal" in html
    assert "Mueller, Sami" in html
    assert "in Vertretung für Cem Kollege" in html
    for absent in ("Versteckt", "Fremd", "Abgeschlossen"):
        assert absent not in html


def test_the_list_is_sorted_by_the_next_deadline_and_can_be_reversed(day) -> None:
    soonest_first = [day.overdue.pk, day.deputised.pk, day.due.pk, day.ending.pk, day.later.pk]

    assert listed(day.manager) == soonest_first
    assert listed(day.manager, "?sort=-deadline") == list(reversed(soonest_first))
    assert listed(day.manager, "?sort=number") == sorted(soonest_first)


def test_closed_cases_appear_with_their_status_filter(day) -> None:
    assert listed(day.manager, "?status=CLOSED") == [day.closed.pk]
    assert day.closed.pk in listed(day.manager, "?status=ALL")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?review=overdue", ["overdue"]),
        ("?review=due", ["deputised", "due"]),
        ("?ending=30", ["ending"]),
        ("?ending=90", ["ending"]),
        ("?status=INITIAL_COUNSELLING", ["ending"]),
        ("?review=due&gemeinde={aach}", ["deputised", "due"]),
        ("?gemeinde={uberlingen}", ["overdue", "ending"]),
    ],
)
def test_the_filters_narrow_the_list(day, query: str, expected: list[str]) -> None:
    query = query.format(aach=day.aach.pk, uberlingen=day.uberlingen.pk)

    assert listed(day.manager, query) == [getattr(day, name).pk for name in expected]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Müller", ["overdue", "deputised"]),
        ("mueller", ["overdue", "deputised"]),
        ("MULLER", ["overdue", "deputised"]),
        ("muller sami", ["deputised"]),
        ("ordek", ["ending"]),
        ("Sahin emile", ["later"]),
        ("Layla", ["due"]),
        ("Versteckt", []),
    ],
)
def test_the_name_search_folds_umlauts_and_accents(day, term: str, expected: list[str]) -> None:
    assert listed(day.manager, f"?q={term}") == [getattr(day, name).pk for name in expected]


def test_the_search_finds_a_case_by_its_number(day) -> None:
    assert listed(day.manager, f"?q=%23{day.due.pk}") == [day.due.pk]
    assert listed(day.manager, f"?q={day.ending.pk}") == [day.ending.pk]
    assert listed(day.manager, f"?q={day.foreign.pk}") == []


def test_the_list_is_paged(day) -> None:
    for n in range(PAGE_SIZE + 3):
        case_row(day.manager, family_name=f"Seite {n}", review=TODAY + timedelta_days(100 + n))

    first = client_of(day.manager).get(CASES).content.decode()
    second = client_of(day.manager).get(CASES + "?page=2").content.decode()
    past_the_end = client_of(day.manager).get(CASES + "?page=9").content.decode()

    assert len(case_numbers(first)) == PAGE_SIZE
    assert "Fälle 1–25 von 33" in first
    assert "Seite 1 von 2" in first
    assert len(case_numbers(second)) == 8
    assert "Fälle 26–33 von 33" in second
    assert case_numbers(past_the_end) == case_numbers(second)
    assert not set(case_numbers(first)) & set(case_numbers(second))


def timedelta_days(days: int) -> Any:
    from datetime import timedelta

    return timedelta(days=days)


def test_the_list_logs_one_read_per_case_shown(day) -> None:
    client_of(day.manager).get(CASES + "?review=due")

    reads = ReadAccess.objects.filter(user=day.manager)
    assert sorted(reads.values_list("case_id", flat=True)) == sorted([day.deputised.pk, day.due.pk])
    assert set(reads.values_list("view", flat=True)) == {"workspace.case_list"}
    assert set(reads.values_list("accessed_at", flat=True)) == {NOW}


@pytest.mark.parametrize(
    "query",
    [
        "?status=DELETED",
        "?status=nope",
        "?review=soon",
        "?ending=45",
        "?gemeinde=abc",
        "?page=0",
        "?page=x",
        "?sort=name",
        "?q=" + "x" * 101,
    ],
)
def test_bad_filters_are_a_400_with_a_german_message_and_read_nothing(day, query: str) -> None:
    response = client_of(day.manager).get(CASES + query)

    html = response.content.decode()
    assert response.status_code == 400
    assert "Bitte korrigieren Sie die Suche oder die Filter oben." in html
    assert case_numbers(html) == []
    assert not ReadAccess.objects.exists()


def test_a_gemeinde_the_traeger_does_not_serve_is_refused(day) -> None:
    response = client_of(day.manager).get(CASES + f"?gemeinde={day.foreign.traeger_id + 999}")

    assert response.status_code == 400
    assert "Bitte eine gültige Auswahl treffen." in response.content.decode()


def test_the_english_page_is_complete(day) -> None:
    html = client_of(day.manager, "en").get(CASES).content.decode()

    assert "My cases" in html
    assert "Next deadline" in html
    assert "deputising for Cem Kollege" in html
    assert "Cases 1–5 of 5" in html


# --- the supervisor's team list ---------------------------------------------------


def test_the_supervisor_sees_the_teams_open_cases_without_client_data(day) -> None:
    response = client_of(day.supervisor).get(TEAM)

    html = response.content.decode()
    assert response.status_code == 200
    assert sorted(case_numbers(html)) == sorted(
        [day.overdue.pk, day.due.pk, day.ending.pk, day.later.pk, day.deputised.pk, day.hidden.pk]
    )
    for name in ("Müller", "Mueller", "Haddad", "Ördek", "Şahin", "Versteckt", "Fremd", "Amal"):
        assert name not in html
    assert "1 Verlängerungsantrag wartet auf Ihre Entscheidung" in html
    assert "Antrag wartet" in html
    assert not ReadAccess.objects.exists()


def test_the_team_list_shows_the_caseload_per_manager(day) -> None:
    html = client_of(day.supervisor).get(TEAM).content.decode()

    rows = re.findall(
        r'<tr>\s*<th scope="row"[^>]*>([^<]+)(?:<span[^<]*</span>)?</th>(.*?)</tr>', html, re.S
    )
    counts = {name.strip(): [int(n) for n in re.findall(r">(\d+)<", cells)] for name, cells in rows}
    # open, due, overdue, ending within 90 days, extension requests waiting
    assert counts == {
        "Olga Andere": [1, 0, 0, 0, 0],
        "Cem Kollege": [1, 1, 0, 0, 0],
        "Mira Manager": [4, 1, 1, 1, 1],
    }


def test_the_team_list_filters_by_manager_and_deadline(day) -> None:
    assert listed(day.supervisor, f"?owner={day.colleague.pk}", TEAM) == [day.deputised.pk]
    assert listed(day.supervisor, "?review=overdue", TEAM) == [day.overdue.pk]
    assert listed(day.supervisor, f"?q=%23{day.hidden.pk}", TEAM) == [day.hidden.pk]


def test_the_team_list_refuses_a_name_search(day) -> None:
    response = client_of(day.supervisor).get(TEAM + "?q=Müller")

    assert response.status_code == 400
    assert "Suchen Sie hier nach der Fallnummer" in response.content.decode()
    assert "Müller" in response.content.decode()  # only the search term itself
    assert case_numbers(response.content.decode()) == []


def test_a_manager_of_another_team_is_no_filter_value(day) -> None:
    response = client_of(day.supervisor).get(TEAM + f"?owner={day.foreign_manager.pk}")

    assert response.status_code == 400


# --- dashboards ----------------------------------------------------------------------


def test_the_managers_day_shows_what_is_due(day) -> None:
    response = client_of(day.manager).get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Mein Tag: Montag, 02.03.2026" in html
    reviews = html.split('id="reviews-heading"')[1].split("</section>")[0]
    assert re.findall(r">#(\d+)<", reviews) == [
        str(day.overdue.pk),
        str(day.deputised.pk),
        str(day.due.pk),
    ]
    ending = html.split('id="ending-heading"')[1].split("</section>")[0]
    assert re.findall(r">#(\d+)<", ending) == [str(day.ending.pk)]
    assert "(in 20 Tagen)" in ending
    handovers = html.split('id="handovers-heading"')[1].split("</section>")[0]
    assert f"Übergabe Nr. {day.handover.pk}" in handovers
    assert "2 Personen" in handovers
    notes = html.split('id="notifications-heading"')[1].split("</section>")[0]
    assert "Eine neue Übergabe" in notes


def test_the_managers_day_lists_open_tasks(day) -> None:
    from tests.cases.factories import new_case

    with time_machine.travel(NOW.replace(month=2), tick=False):
        registered = new_case(owner=day.manager, now=NOW.replace(month=2))

    html = client_of(day.manager).get(DASHBOARD).content.decode()

    tasks = html.split('id="tasks-heading"')[1].split("</section>")[0]
    assert re.findall(r">#(\d+)<", tasks) == [str(registered.pk)]
    assert "Übergabe annehmen" in tasks
    assert "überfällig" in tasks


def test_the_dashboard_logs_the_cases_it_names(day) -> None:
    client_of(day.manager).get(DASHBOARD)

    reads = ReadAccess.objects.filter(user=day.manager, view="workspace.dashboard")
    assert sorted(reads.values_list("case_id", flat=True)) == sorted(
        [day.overdue.pk, day.deputised.pk, day.due.pk, day.ending.pk]
    )


def test_the_supervisors_team_view(day) -> None:
    html = client_of(day.supervisor).get(DASHBOARD).content.decode()

    assert "Mein Team: " + day.supervisor.team.name in html
    approvals = html.split('id="approvals-heading"')[1].split("</section>")[0]
    assert re.findall(r">#(\d+)<", approvals) == [str(day.later.pk)]
    overdue = html.split('id="overdue-heading"')[1].split("</section>")[0]
    assert re.findall(r">#(\d+)<", overdue) == [str(day.overdue.pk)]
    assert "Mira Manager" in overdue
    for name in ("Müller", "Mueller", "Haddad", "Ördek", "Şahin", "Versteckt"):
        assert name not in html
    assert not ReadAccess.objects.exists()


@pytest.mark.parametrize(
    "role", ["AUDITOR", "DATA_PROTECTION_OFFICER", "GU_SOCIAL_WORKER", "ADMINISTRATOR"]
)
def test_other_roles_find_no_workspace(day, role: str) -> None:
    user = UserFactory(role=role, team=None, traeger=day.manager.traeger)
    client = client_of(user)

    assert [client.get(url).status_code for url in (DASHBOARD, CASES, TEAM)] == [404, 404, 404]


def test_managers_and_supervisors_miss_each_others_lists(day) -> None:
    assert client_of(day.manager).get(TEAM).status_code == 404
    assert client_of(day.supervisor).get(CASES).status_code == 404


def test_signed_out_users_are_sent_to_sign_in() -> None:
    response = Client().get(CASES)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/arbeitsplatz/faelle/"


# --- the start page --------------------------------------------------------------------


def test_the_start_page_is_the_managers_day(day) -> None:
    response = client_of(day.manager).get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Mein Tag" in html
    assert set(ReadAccess.objects.values_list("view", flat=True)) == {"home"}


def test_the_start_page_is_the_supervisors_team_view(day) -> None:
    html = client_of(day.supervisor).get("/").content.decode()

    assert "Auslastung je Integrationsmanager" in html


def test_the_navigation_leads_to_the_workspace(day) -> None:
    manager_nav = client_of(day.manager).get("/").content.decode().split("</nav>")[0]
    supervisor_nav = client_of(day.supervisor).get("/").content.decode().split("</nav>")[0]

    assert '<a href="/arbeitsplatz/">Arbeitsplatz</a><a href="/arbeitsplatz/faelle/">Fälle</a>' in (
        manager_nav
    )
    assert '<a href="/arbeitsplatz/">Arbeitsplatz</a><a href="/arbeitsplatz/team/">Fälle</a>' in (
        supervisor_nav
    )


def test_the_filters_show_what_was_chosen(day) -> None:
    html = (
        client_of(day.manager).get(CASES + f"?review=due&gemeinde={day.aach.pk}").content.decode()
    )

    assert '<option value="due" selected>fällig in den nächsten 14 Tagen</option>' in html
    assert f'<option value="{day.aach.pk}" selected>Aach</option>' in html
    assert '<option value="" selected>alle</option>' in html  # the period filter
    assert '<label for="id_gemeinde">Gemeinde</label>' in html


def test_a_refused_filter_is_marked_for_assistive_technology(day) -> None:
    html = client_of(day.manager).get(CASES + "?review=soon&page=0").content.decode()

    assert '<select name="review" id="id_review" aria-invalid="true">' in html
    assert "Seite: " in html  # the page has no field of its own: its error is named
