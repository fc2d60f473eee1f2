"""The case pages under /faelle/: the case file, the quick entry of a
consultation and the printable Integrationsplan.

Access is the case access selector's: the owner and a current deputy see
everything; the team's supervisor and the Träger's auditor and
data-protection officer see the case page's metadata and get 403 on the
content pages; everyone else gets 404 and nothing is logged or changed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import AuditEvent, ReadAccess
from cases import services
from cases.models import Case, CaseStatus, Consultation, Person
from handover import services as handover_services
from tests.accounts.factories import DeputyGrantFactory, TeamFactory, UserFactory
from tests.cases.factories import BERLIN, T0, case_drive_to, journey_to, manager_in, supervisor_of
from tests.handover.factories import member, submitted
from tests.handover.factories import world as handover_world
from workflows import engine
from workflows.flows import extension_check_due
from workflows.tasks import fire_due_timers_task

pytestmark = pytest.mark.django_db

PREFIX = "faelle/"
SECRET = "Qzxgeheimname"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)


# --- the routes under /faelle/ ----------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    methods: tuple[str, ...]
    content: bool  # content page (403 for metadata readers) or the case page


ROUTES = {
    "cases:detail": Route("cases:detail", ("get",), content=False),
    "cases:consultation_new": Route("cases:consultation_new", ("get", "post"), content=True),
    "cases:plan_pdf": Route("cases:plan_pdf", ("get",), content=True),
    "cases:consent_pdf": Route("cases:consent_pdf", ("get",), content=True),
    "cases:extension_request_new": Route(
        "cases:extension_request_new", ("get", "post"), content=True
    ),
    # Issue 18 (tests/cases/test_privacy_pages.py has their journeys).
    "cases:consents": Route("cases:consents", ("get", "post"), content=True),
    "cases:plan_pending": Route("cases:plan_pending", ("get", "post"), content=True),
    "cases:legal_hold": Route("cases:legal_hold", ("post",), content=False),
    "cases:referral_new": Route("cases:referral_new", ("get", "post"), content=True),
    "cases:clock_fact_new": Route("cases:clock_fact_new", ("get", "post"), content=True),
}
# Routes that name an entry of the case besides the case; their access is
# tested with their entries in tests/cases/test_day_views.py.
NESTED_ROUTES = {"cases:referral_outcome", "cases:correction"}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), namespace + (entry.name or "")))
    return found


# Routes under /faelle/ that name no case but a household or person, or
# register one: tests/cases/test_views_people.py covers them.
PEOPLE_ROUTES = {
    "cases:intake_new",
    "cases:household",
    "cases:household_edit",
    "cases:household_member_add",
    "cases:household_member_relation",
    "cases:household_member_remove",
    "cases:household_member_case",
    "cases:person_edit",
}


def case_page_routes() -> set[str]:
    """The names of the URL patterns under /faelle/ (each names one case)."""
    routes = {}
    for template, name in _walk(get_resolver().url_patterns):
        if template.startswith(PREFIX) and name not in PEOPLE_ROUTES:
            routes[name] = re.findall(r"<(?:\w+:)?(\w+)>", template)
    assert all(parameters[:1] == ["case_pk"] for parameters in routes.values()), routes
    nested = {name for name, parameters in routes.items() if parameters != ["case_pk"]}
    assert nested == NESTED_ROUTES, nested
    return set(routes) - nested


def test_every_route_under_faelle_is_tested_here() -> None:
    assert case_page_routes() == set(ROUTES)


def url(name: str, case: Case | int, **query: str) -> str:
    pk = case.pk if isinstance(case, Case) else case
    base = reverse(name, args=[pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the world -------------------------------------------------------------------


@dataclass
class World:
    owner: Any
    deputy: Any
    colleague: Any
    lead: Any
    lead_other: Any
    manager_other: Any
    auditor: Any
    dpo: Any
    auditor_other: Any
    gu: Any
    admin: Any
    case: Case


@pytest.fixture
def w() -> World:
    team = TeamFactory()
    other_team = TeamFactory(traeger=team.traeger)
    owner = manager_in(team)
    lead = supervisor_of(team)
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    Person.objects.filter(pk=case.person_id).update(family_name=SECRET)
    deputy = manager_in(team)
    DeputyGrantFactory(
        principal=owner,
        deputy=deputy,
        granted_by=lead,
        valid_from=timezone.now() - timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=1),
    )
    return World(
        owner=owner,
        deputy=deputy,
        colleague=manager_in(team),
        lead=lead,
        lead_other=supervisor_of(other_team),
        manager_other=manager_in(other_team),
        auditor=UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
        dpo=UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=team.traeger),
        auditor_other=UserFactory(role=Role.AUDITOR, team=None, traeger=TeamFactory().traeger),
        gu=UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=team.traeger),
        admin=UserFactory(
            role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
        ),
        case=Case.objects.get(pk=case.pk),
    )


def quick_entry_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "consultation_form": "phone",
        "topics": ["work"],
        "duration_minutes": "30",
        "other_minutes": "",
        "held_on": timezone.localdate().isoformat(),
        "status": "COMPLETED",
        "interpreter": "",
        "notes": "",
    }
    body.update(overrides)
    return body


def snapshot(case: Case) -> dict[str, Any]:
    return {
        "case": Case.objects.filter(pk=case.pk).values_list("status", "effective_end").get(),
        "consultations": Consultation.objects.filter(case=case).count(),
        "events": AuditEvent.objects.filter(case_id=case.pk).count(),
    }


def reads(case: Case) -> list[tuple[int, str]]:
    return list(
        ReadAccess.objects.filter(case_id=case.pk).order_by("pk").values_list("user_id", "view")
    )


# --- access -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "deputy"])
def test_owner_and_deputy_open_every_case_page_and_each_read_is_logged(w: World, who: str) -> None:
    user = getattr(w, who)
    client = client_of(user)
    views = {
        "cases:detail": "cases.case_detail",
        "cases:consultation_new": "cases.consultation_new",
        "cases:plan_pdf": "cases.plan_pdf",
        "cases:consent_pdf": "cases.consent_pdf",
    }
    for name, view in views.items():
        before = reads(w.case)
        response = client.get(url(name, w.case))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        assert reads(w.case) == [*before, (user.pk, view)], name


INTRUDERS = ("colleague", "lead_other", "manager_other", "auditor_other", "gu", "admin")


@pytest.mark.parametrize("who", INTRUDERS)
def test_everyone_without_the_case_gets_404_and_nothing_is_logged_or_written(
    w: World, who: str
) -> None:
    client = client_of(getattr(w, who))
    before, reads_before = snapshot(w.case), reads(w.case)
    for route in ROUTES.values():
        for method in route.methods:
            body = quick_entry_body() if method == "post" else {}
            response = getattr(client, method)(url(route.name, w.case), body)
            assert response.status_code == 404, (who, route.name, method)
            assert SECRET not in response.content.decode(errors="replace")
            assert "no-store" in response["Cache-Control"]
    assert snapshot(w.case) == before
    assert reads(w.case) == reads_before


def test_a_foreign_case_and_a_case_that_does_not_exist_answer_alike(w: World) -> None:
    client = client_of(w.manager_other)
    for name in ROUTES:
        real = client.get(url(name, w.case))
        missing = client.get(url(name, 10**9))
        assert (real.status_code, real.content) == (missing.status_code, missing.content)
    for bad in ("+1", "0", "1.0", "\u0661", str(2**63)):
        assert client_of(w.owner).get(f"/{PREFIX}{bad}/").status_code == 404, bad


@pytest.mark.parametrize("who", ["lead", "auditor", "dpo"])
def test_metadata_readers_see_status_and_clock_but_no_content(w: World, who: str) -> None:
    user = getattr(w, who)
    client = client_of(user)
    before, reads_before = snapshot(w.case), reads(w.case)

    page = client.get(url("cases:detail", w.case))
    quick = client.get(url("cases:consultation_new", w.case))
    posted = client.post(url("cases:consultation_new", w.case), quick_entry_body())
    pdf = client.get(url("cases:plan_pdf", w.case))

    assert page.status_code == 200
    html = page.content.decode()
    assert SECRET not in html
    assert "Deutschkurs B1" not in html  # the goal
    assert "04.01.2029" in html  # the effective end
    assert "Ihre Rolle sieht Status und Fristen des Falls, nicht seinen Inhalt." in html
    assert ('href="/pruefung/fall/' in html) == (user.role != Role.SUPERVISOR)
    for refused in (quick, posted, pdf):
        assert refused.status_code == 403
        assert SECRET not in refused.content.decode(errors="replace")
        assert "Ihre Rolle darf den Inhalt dieses Falls nicht sehen." in refused.content.decode()
    assert snapshot(w.case) == before
    assert reads(w.case) == [*reads_before, (user.pk, "cases.case_detail")]


def test_anonymous_users_are_sent_to_the_login_page(w: World) -> None:
    client = Client()
    before = snapshot(w.case)
    for route in ROUTES.values():
        for method in route.methods:
            response = getattr(client, method)(url(route.name, w.case))
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=")
    assert snapshot(w.case) == before


def test_a_post_without_csrf_token_is_refused(w: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.owner)
    before = snapshot(w.case)
    response = client.post(url("cases:consultation_new", w.case), quick_entry_body())
    assert response.status_code == 403
    assert snapshot(w.case) == before


# --- the case page -----------------------------------------------------------------


def test_case_page_shows_the_clock_computed_with_now(w: World) -> None:
    client = client_of(w.owner)
    with time_machine.travel(datetime(2028, 12, 25, 12, tzinfo=BERLIN), tick=False):
        html = client_of(w.owner).get(url("cases:detail", w.case)).content.decode()
    assert "05.01.2026" in html  # start
    assert "04.01.2029" in html  # regular and effective end
    assert "10 Tage" in html
    with time_machine.travel(datetime(2029, 1, 4, 12, tzinfo=BERLIN), tick=False):
        html = client_of(w.owner).get(url("cases:detail", w.case)).content.decode()
    assert "endet heute" in html
    assert (
        client.get(url("cases:detail", w.case)).context["clock"].days_left
        == (date(2029, 1, 4) - timezone.localdate()).days
    )


def test_case_page_shows_an_extended_period(w: World) -> None:
    services.extension_request_submit(
        case=w.case, actor=w.owner, now=T0, reason="illiteracy", months=6, justification="Kurs"
    )
    request = w.case.extension_requests.get()
    services.extension_request_approve(request=request, actor=w.lead, now=T0, note="")

    response = client_of(w.owner).get(url("cases:detail", w.case))

    clock = response.context["clock"]
    assert (clock.regular_end, clock.effective_end, clock.extended) == (
        date(2029, 1, 4),
        date(2029, 7, 4),
        True,
    )
    html = response.content.decode()
    assert "verlängert" in html
    assert "Verlängerungsanträge" in html


def test_case_page_shows_plan_goals_consultations_consents_and_timeline(w: World) -> None:
    response = client_of(w.owner).get(url("cases:detail", w.case))

    html = response.content.decode()
    assert f"{SECRET}, Amal" in html
    assert "Deutschkurs B1 abschließen" in html  # goal
    assert "B1-Zertifikat liegt vor" in html  # success criterion
    assert "Anmeldung VHS-Kurs" in html  # its step
    assert "Sprache (Deutsch)" in html  # field of action
    assert "Im Büro / Sprechstunde" in html  # the consultation's form
    assert "Sprache / Sprachkurse / Integrationskurs; Arbeit / Beruf / Arbeitssuche" in html
    assert "Verarbeitung der Falldaten" in html  # the consent's scope
    lines = [line for _event, line, _changes in response.context["timeline_rows"]]
    assert lines[-1].startswith("Hat den Fall erfasst")
    assert any(line.startswith("Schritt „Plan vereinbart“") for line in lines)
    assert f'action="/faelle/{w.case.pk}/plan.pdf"' in html
    assert '<option value="en">Englisch</option>' in html
    assert f'href="/aufgaben/fall/{w.case.pk}/"' in html


def test_system_events_show_in_the_timeline(w: World) -> None:
    # The beat fires the extension check's timer: an event without actor.
    with time_machine.travel(extension_check_due(w.case) + timedelta(minutes=1), tick=False):
        fire_due_timers_task()
        response = client_of(w.owner).get(url("cases:detail", w.case))

    assert response.status_code == 200
    first = response.context["timeline_rows"][0]
    assert first[0].actor_id is None
    assert "System: Aufgabe „Prüfen, ob eine Verlängerung beantragt wird“ zugewiesen." in (
        " ".join(response.content.decode().split())
    )
    assert [step.title for step in response.context["steps"]] == [
        "Integrationsplan fortschreiben",  # its timer fired too
        "Prüfen, ob eine Verlängerung beantragt wird",
    ]


def test_the_next_guided_step_is_the_main_action(w: World) -> None:
    planning = journey_to(CaseStatus.PLANNING, owner=w.owner)
    task = next(t for t in engine.open_tasks(planning) if t.flow_task.name == "integration_plan")
    task_url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])

    response = client_of(w.owner).get(url("cases:detail", planning))

    assert response.context["main_step"].url == task_url
    html = response.content.decode()
    assert f'<a class="button primary" href="{task_url}">' in html
    assert "Nächster Schritt: Integrationsplan entwerfen und vereinbaren" in html


def test_a_waiting_approval_is_the_supervisors_main_action_not_the_managers(w: World) -> None:
    services.extension_request_submit(
        case=w.case, actor=w.owner, now=T0, reason="illiteracy", months=6, justification="Kurs"
    )
    task = next(t for t in engine.open_tasks(w.case) if t.flow_task.name == "approve_extension")
    task_url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])

    lead_page = client_of(w.lead).get(url("cases:detail", w.case))
    owner_page = client_of(w.owner).get(url("cases:detail", w.case))

    assert lead_page.context["main_step"].url == task_url
    assert owner_page.context["main_step"] is None
    assert f'href="{task_url}"' not in owner_page.content.decode()


def _add_consultations(case: Case, count: int) -> None:
    for number in range(count):
        services.consultation_record(
            case=case,
            actor=case.owner,
            now=T0,
            held_on=date(2026, 1, 1) - timedelta(days=number),
            duration_minutes=30,
            form="phone",
            topics=["work", "housing"],
        )


def _queries(client: Client, target: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target)
    assert response.status_code == 200
    return len(queries)


def test_case_page_queries_do_not_grow_with_consultations_or_goals(w: World) -> None:
    few = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    many = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    _add_consultations(few, 1)  # 2 with the first one
    _add_consultations(many, 19)  # 20
    client = client_of(w.owner)
    client.get(url("cases:detail", few))  # warm the session

    counts = {
        "few": _queries(client, url("cases:detail", few)),
        "many": _queries(client, url("cases:detail", many)),
        "many, all": _queries(client, url("cases:detail", many, beratungen="alle")),
    }

    assert Consultation.objects.filter(case=few).count() == 2
    assert Consultation.objects.filter(case=many).count() == 20
    assert counts["few"] == counts["many"] == counts["many, all"], counts
    # Constant in the entries; 35 since the case page shows the person's clock,
    # household, chronology (consultations, assessments, referrals, plan
    # versions, documents, appointments, corrections), needs, documents,
    # appointments, transfers and the plan awaiting agreement.
    assert counts["few"] <= 35, counts


def test_quick_entry_page_queries_do_not_grow_with_the_data(w: World) -> None:
    few = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    many = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    _add_consultations(many, 25)
    client = client_of(w.owner)
    client.get(url("cases:consultation_new", few))

    assert _queries(client, url("cases:consultation_new", few)) == _queries(
        client, url("cases:consultation_new", many)
    )


def test_case_page_lists_the_latest_consultations_and_offers_all(w: World) -> None:
    _add_consultations(w.case, 20)  # 21 with the first one
    client = client_of(w.owner)

    page = client.get(url("cases:detail", w.case))
    everything = client.get(url("cases:detail", w.case, beratungen="alle"))

    assert len(page.context["file"].consultations) == 20
    assert page.context["file"].more_consultations is True
    assert "Alle Beratungen anzeigen" in page.content.decode()
    assert len(everything.context["file"].consultations) == 21
    assert everything.context["file"].more_consultations is False


def test_case_page_in_english(w: World) -> None:
    html = (
        client_of(w.owner)
        .get(url("cases:detail", w.case), HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    for text in (
        "Consultation period",
        "Effective end",
        "Person and household",
        "Language (German)",
        "At the office / office hours",
        "Record a consultation",
    ):
        assert text in html, text
    assert "Beratungszeitraum" not in html


# --- quick entry ---------------------------------------------------------------------


def test_quick_entry_form_is_keyboard_ready_with_today_and_the_most_used_first(w: World) -> None:
    # The owner mostly phones about housing; the team also uses "office".
    for _ in range(3):
        services.consultation_record(
            case=w.case,
            actor=w.owner,
            now=T0,
            held_on=T0.date(),
            duration_minutes=15,
            form="phone",
            topics=["housing"],
        )
    other = journey_to(CaseStatus.ACTIVE, owner=w.colleague)
    for _ in range(5):
        services.consultation_record(
            case=other,
            actor=w.colleague,
            now=T0,
            held_on=T0.date(),
            duration_minutes=60,
            form="digital",
            topics=["health"],
        )

    with time_machine.travel(NOW, tick=False):
        response = client_of(w.owner).get(url("cases:consultation_new", w.case))

    form = response.context["form"]
    forms_order = [key for key, _label in form.fields["consultation_form"].choices]
    topics_order = [key for key, _label in form.fields["topics"].choices]
    # own use first (phone 3, office 1 from the first consultation), then
    # the team's (digital 5), then catalogue order
    assert forms_order[:3] == ["phone", "office", "digital"]
    assert forms_order[3:] == ["outreach", "accompaniment", "group"]
    assert topics_order[:4] == ["housing", "language", "work", "health"]
    html = response.content.decode()
    assert 'value="phone" id="id_consultation_form_0" checked autofocus' in html
    assert html.count("autofocus") == 1
    assert 'value="2026-03-02"' in html  # today in Berlin
    assert 'max="2026-03-02"' in html
    assert 'value="15" id="id_duration_minutes_0" checked' in html  # the usual duration
    assert '<label for="id_other_minutes">Andere Dauer (Minuten)</label>' in html
    # tab order is document order: form, topics, duration, date, ..., save
    positions = [
        html.index(marker)
        for marker in (
            'name="consultation_form"',
            'name="topics"',
            'name="duration_minutes"',
            'name="other_minutes"',
            'name="held_on"',
            'name="status"',
            'name="notes"',
            "Beratung speichern</button>",
        )
    ]
    assert positions == sorted(positions)
    assert 'tabindex="1' not in html


def test_quick_entry_records_one_consultation_and_returns_to_the_case(w: World) -> None:
    client = client_of(w.owner)
    events_before = AuditEvent.objects.filter(case_id=w.case.pk).count()

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            url("cases:consultation_new", w.case),
            quick_entry_body(
                topics=["work", "housing"], duration_minutes="45", notes="Qzx Bewerbung"
            ),
        )

    assert response.status_code == 302
    assert response["Location"] == f"/faelle/{w.case.pk}/#beratungen"
    consultation = Consultation.objects.filter(case=w.case).order_by("-pk").first()
    assert (
        consultation.held_on,
        consultation.duration_minutes,
        consultation.form.key,
        consultation.setting.key,
        consultation.status,
        consultation.notes,
        consultation.recorded_by_id,
    ) == (date(2026, 3, 2), 45, "phone", "individual", "COMPLETED", "Qzx Bewerbung", w.owner.pk)
    assert sorted(t.key for t in consultation.topics.all()) == ["housing", "work"]
    assert [p.pk for p in consultation.participants.all()] == [w.case.person_id]
    events = AuditEvent.objects.filter(case_id=w.case.pk).order_by("pk")
    assert events.count() == events_before + 1
    assert events.last().event_type == "cases.consultation.recorded"
    page = client.get(response["Location"])
    assert "Die Beratung wurde erfasst." in page.content.decode()


def test_other_minutes_win_over_the_preset(w: World) -> None:
    client_of(w.owner).post(
        url("cases:consultation_new", w.case),
        quick_entry_body(duration_minutes="30", other_minutes="100"),
    )
    assert Consultation.objects.filter(case=w.case).order_by("-pk").first().duration_minutes == 100


@pytest.fixture
def family() -> tuple[Case, list[Person], Any]:
    hw = handover_world()
    handover = submitted(
        hw,
        members=[
            member(given_names="Amal"),
            member(given_names="Omar", relation="SPOUSE", date_of_birth=date(1987, 6, 1)),
            member(given_names="Lina", relation="CHILD", date_of_birth=date(2015, 2, 3)),
        ],
    )
    accepted = handover_services.handover_accept(handover=handover, actor=hw.manager, now=T0)
    case = case_drive_to(case=accepted.case, state=CaseStatus.ACTIVE, now=T0)
    people = [m.person for m in accepted.members.order_by("position")]
    return Case.objects.get(pk=case.pk), people, hw


def test_family_consultation_with_several_household_members(family) -> None:
    case, people, hw = family
    client = client_of(hw.manager)
    page = client.get(url("cases:consultation_new", case))
    choices = page.context["form"].fields["participants"].choices
    assert [pk for pk, _label in choices] == [p.pk for p in people]
    assert "Haddad, Omar (Ehepartner:in oder Lebenspartner:in)" in page.content.decode()

    response = client.post(
        url("cases:consultation_new", case),
        quick_entry_body(participants=[people[0].pk, people[1].pk]),
    )

    assert response.status_code == 302
    consultation = Consultation.objects.filter(case=case).order_by("-pk").first()
    assert consultation.setting.key == "family"
    assert sorted(p.pk for p in consultation.participants.all()) == sorted(
        [people[0].pk, people[1].pk]
    )


def test_a_participant_outside_the_household_is_refused(family, w: World) -> None:
    case, _people, hw = family
    before = snapshot(case)
    response = client_of(hw.manager).post(
        url("cases:consultation_new", case), quick_entry_body(participants=[w.case.person_id])
    )
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"topics": []}, "topics", "Bitte wählen Sie mindestens ein Thema."),
        ({"consultation_form": "fax"}, "consultation_form", "fax ist keine gültige Auswahl."),
        ({"held_on": "31.02.2026"}, "held_on", "Bitte ein gültiges Datum eingeben."),
        (
            {"held_on": "2026-03-03"},
            "held_on",
            # the shared date rules (cases.dates) at the field
            "Das Datum liegt in der Zukunft.",
        ),
        (
            {"held_on": "1999-12-31"},
            "held_on",
            "Das Datum liegt vor der Übergabe (05.01.2026).",
        ),
        (
            {"duration_minutes": "", "other_minutes": ""},
            "duration_minutes",
            "Wählen Sie eine Dauer oder geben Sie die Minuten ein.",
        ),
        (
            {"other_minutes": "721"},
            "other_minutes",
            "Dieser Wert muss kleiner oder gleich 720 sein.",
        ),
        ({"other_minutes": "0"}, "other_minutes", "Dieser Wert muss größer oder gleich 1 sein."),
        ({"status": "MAYBE"}, "status", "MAYBE ist keine gültige Auswahl."),
        ({"interpreter": "x" * 101}, "interpreter", "höchstens 100 Zeichen"),
    ],
)
def test_bad_input_is_refused_in_german_and_nothing_is_written(
    w: World, overrides: dict[str, Any], field: str, message: str
) -> None:
    before = snapshot(w.case)
    with time_machine.travel(NOW, tick=False):
        response = client_of(w.owner).post(
            url("cases:consultation_new", w.case), quick_entry_body(**overrides)
        )

    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert any(message in error for error in errors), errors
    html = response.content.decode()
    assert "Bitte prüfen Sie Ihre Angaben" in html
    assert message.replace("„", "&quot;") in html or message in html
    assert snapshot(w.case) == before


def test_quick_entry_points_to_the_guided_task_where_a_consultation_moves_the_case(
    w: World,
) -> None:
    for state, task_name, hint in (
        (CaseStatus.REGISTERED, "first_consultation", "Die Erstberatung beginnt"),
        (CaseStatus.DORMANT, "resume", "Ruhen des Falls"),
    ):
        case = journey_to(state, owner=w.owner)
        if state == CaseStatus.REGISTERED:
            services.case_handover_accept(case=case, actor=w.owner, now=T0)
        task = next(t for t in engine.open_tasks(case) if t.flow_task.name == task_name)
        before = snapshot(case)

        for response in (
            client_of(w.owner).get(url("cases:consultation_new", case)),
            client_of(w.owner).post(url("cases:consultation_new", case), quick_entry_body()),
        ):
            assert response.status_code == 409, state
            html = response.content.decode()
            assert hint in html, state
            assert task.flow_task.reverse("execute", args=[task.process_id, task.pk]) in html
        assert snapshot(case) == before


def test_a_closed_case_takes_no_quick_entry(w: World) -> None:
    case = journey_to(CaseStatus.CLOSED, owner=w.owner)
    before = snapshot(case)
    response = client_of(w.owner).post(url("cases:consultation_new", case), quick_entry_body())
    assert response.status_code == 409
    assert snapshot(case) == before
    page = client_of(w.owner).get(url("cases:detail", case))
    assert page.context["quick_entry"] is False


def test_quick_entry_in_english(w: World) -> None:
    response = client_of(w.owner).post(
        url("cases:consultation_new", w.case),
        quick_entry_body(topics=[]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose at least one topic." in html
    assert "Please check your entries" in html
    assert "By phone" in html


# --- the printable plan --------------------------------------------------------------


def pdf_text(response: Any) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_plan_pdf_in_german(w: World) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_of(w.owner).get(url("cases:plan_pdf", w.case, sprache="de"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="integrationsplan-fall-{w.case.pk}-de.pdf"'
    )
    text = pdf_text(response)
    for expected in (
        "Integrationsplan",
        f"{SECRET}, Amal",
        "Handlungsfelder",
        "Sprache (Deutsch)",
        "Ziel 1: Deutschkurs B1 abschließen",
        "Erfolgskriterium",
        "B1-Zertifikat liegt vor",
        "Anmeldung VHS-Kurs",
        "Klient:in",
        "Nächste Fortschreibung",
        "05.07.2026",
        "Beratungszeitraum",
        "05.01.2026 – 04.01.2029",
        "Unterschrift Klient:in",
        "Unterschrift Integrationsmanager:in",
        "Ort, Datum",
        "Gedruckt am 02.03.2026",
        "Seite 1",
    ):
        assert expected in text, expected
    assert "Signature" not in text


def test_plan_pdf_in_english(w: World) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_of(w.owner).get(url("cases:plan_pdf", w.case, sprache="en"))

    text = pdf_text(response)
    for expected in (
        "Integration plan",
        "Fields of action",
        "Language (German)",
        "Goal 1: Deutschkurs B1 abschließen",  # the client's words stay as written
        "Success criterion",
        "client",
        "Next review",
        "05.07.2026",  # values printed once beside both languages: DD.MM.YYYY
        "Signature of the client",
        "Signature of the integration manager",
        "Place, date",
        "Printed on 02.03.2026",
    ):
        assert expected in text, expected
    assert "Unterschrift Klient:in" in text  # bilingual: German beside English


def test_plan_pdf_is_logged_as_a_read_and_written_nowhere_else(w: World) -> None:
    before = snapshot(w.case)
    reads_before = reads(w.case)
    client_of(w.owner).get(url("cases:plan_pdf", w.case, sprache="en"))
    assert reads(w.case) == [*reads_before, (w.owner.pk, "cases.plan_pdf")]
    assert snapshot(w.case) == before


def test_plan_pdf_refuses_an_unknown_language_and_a_case_without_plan(w: World) -> None:
    client = client_of(w.owner)
    reads_before = reads(w.case)

    unknown = client.get(url("cases:plan_pdf", w.case, sprache="xx"))

    assert unknown.status_code == 400
    assert (
        "Dokumente für Klient:innen gibt es in dieser Sprache nicht. Verfügbar: Deutsch (de), "
        "Englisch (en), Arabisch (ar)" in unknown.content.decode()
    )
    assert reads(w.case) == reads_before
    registered = journey_to(CaseStatus.INITIAL_COUNSELLING, owner=w.owner)
    no_plan = client.get(url("cases:plan_pdf", registered))
    assert no_plan.status_code == 409
    assert "Für diesen Fall gibt es noch keinen Integrationsplan." in no_plan.content.decode()


def test_plan_pdf_defaults_to_the_page_language(w: World) -> None:
    response = client_of(w.owner).get(url("cases:plan_pdf", w.case), HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Disposition"].endswith('-en.pdf"')
    assert "Integration plan" in pdf_text(response)
