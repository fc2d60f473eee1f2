"""Restriction at closure (DOMAIN.md "Retention" and §14.5, T15; Art. 18 DSGVO).

The rule: a closed case stays with its managers and their supervisor while
T15 could still reopen it (until the period's last day, not after a death);
from then on, and a rejected case at once, it is restricted: its manager,
deputy and supervisor get 404 everywhere (web, API, lists, handovers), only
the data protection officer sees it (auditors its timeline), until the
retention sweep anonymises it. The system's sweeps do not depend on it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import ReadAccess
from cases import services
from cases.demo import case_drive_to
from cases.models import Case, CaseStatus
from cases.selectors import case_is_restricted, cases_visible_to, content_case_ids
from dataprotection.selectors import archived_cases
from dataprotection.services import retention_due, retention_sweep
from handover.selectors import handovers_visible_to
from notifications.services import deadline_sweep
from tests.accounts.factories import (
    DeputyGrantFactory,
    GemeindeFactory,
    TeamFactory,
    UserFactory,
    api_key,
)
from tests.cases.factories import (
    T0,
    finish_goals,
    journey_to,
    manager_in,
    new_case,
    supervisor_of,
)

pytestmark = pytest.mark.django_db

S = CaseStatus
SECRET = "Qzx-Archivname"


class People:
    def __init__(self) -> None:
        team = TeamFactory()
        self.owner = manager_in(team)
        self.lead = supervisor_of(team)
        self.deputy = manager_in(team)
        self.dpo = UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=team.traeger)
        self.auditor = UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger)
        DeputyGrantFactory(
            principal=self.owner,
            deputy=self.deputy,
            granted_by=self.lead,
            valid_from=datetime(2000, 1, 1, tzinfo=timezone.get_current_timezone()),
            valid_until=datetime(2099, 1, 1, tzinfo=timezone.get_current_timezone()),
        )

    def seeing(self, case: Case, now: datetime) -> set[str]:
        """The people to whom `case` exists at `now`."""
        names = ("owner", "lead", "deputy", "dpo", "auditor")
        return {
            name
            for name in names
            if cases_visible_to(user=getattr(self, name), now=now).filter(pk=case.pk).exists()
        }


@pytest.fixture
def people() -> People:
    return People()


def at(day: Any) -> datetime:
    """9:00 in Berlin on `day`."""
    return T0.replace(year=day.year, month=day.month, day=day.day)


EVERYONE = {"owner", "lead", "deputy", "dpo", "auditor"}
ARCHIVE = {"dpo", "auditor"}


# --- the rule, at the chokepoint ---------------------------------------------------


def test_closed_case_stays_with_its_managers_until_the_periods_last_day(people) -> None:
    case = journey_to(S.CLOSED, owner=people.owner)
    end = case.effective_end

    assert people.seeing(case, T0 + timedelta(days=1)) == EVERYONE
    assert people.seeing(case, at(end)) == EVERYONE
    assert case_is_restricted(case=case, now=at(end)) is False
    assert people.seeing(case, at(end + timedelta(days=1))) == ARCHIVE
    assert case_is_restricted(case=case, now=at(end + timedelta(days=1))) is True


def test_case_closed_on_death_is_restricted_at_once(people) -> None:
    case = journey_to(S.CLOSING, owner=people.owner)
    case = services.case_transition(
        case=case, name="close", actor=people.owner, now=T0, closure_reason="deceased"
    )

    assert people.seeing(case, T0) == ARCHIVE
    assert case_is_restricted(case=case, now=T0) is True


def test_rejected_case_is_restricted_at_once(people) -> None:
    case = journey_to(S.REJECTED, owner=people.owner)

    assert people.seeing(case, T0) == ARCHIVE
    assert case_is_restricted(case=case, now=T0) is True


def test_case_closed_on_withdrawn_consent_stays_while_it_could_be_reopened(people) -> None:
    """T15 reopens it once the consent is given again, within the period."""
    case = journey_to(S.ACTIVE, owner=people.owner)
    case = services.case_transition(
        case=case, name="withdraw_consent", actor=people.owner, now=T0, channel="IN_PERSON"
    )

    assert people.seeing(case, T0 + timedelta(days=1)) == EVERYONE
    assert people.seeing(case, at(case.effective_end + timedelta(days=1))) == ARCHIVE


def test_withdrawn_consent_before_the_period_started_restricts_at_once(people) -> None:
    """Without a period (no first consultation yet) T15 can never reopen."""
    case = new_case(owner=people.owner)
    services.consent_record(
        case=case,
        actor=people.owner,
        now=T0,
        scope="CASE_PROCESSING",
        form="SIGNED_PAPER",
        language="ar",
    )
    case = services.case_transition(
        case=case, name="withdraw_consent", actor=people.owner, now=T0, channel="IN_PERSON"
    )

    assert people.seeing(case, T0) == ARCHIVE


@pytest.mark.parametrize("state", [S.REGISTERED, S.ACTIVE, S.CLOSING])
def test_open_cases_are_never_restricted_even_after_the_period(people, state: str) -> None:
    case = journey_to(state, owner=people.owner)
    later = T0 + timedelta(days=365 * 5)

    assert people.seeing(case, later) == EVERYONE
    assert case_is_restricted(case=case, now=later) is False


def test_the_owner_fast_path_agrees_with_the_chokepoint(people) -> None:
    cases = [journey_to(state, owner=people.owner) for state in (S.ACTIVE, S.CLOSED, S.REJECTED)]
    for now in (T0, at(cases[1].effective_end + timedelta(days=1))):
        visible = set(cases_visible_to(user=people.owner, now=now).values_list("pk", flat=True))
        for case in cases:
            fast = services.case_is_visible_to(user=people.owner, case=case, now=now)
            assert fast == (case.pk in visible), (case.status, now)
            assert case_is_restricted(case=case, now=now) == (case.pk not in visible)


def test_a_list_reads_the_closure_reasons_once_whatever_its_length(people) -> None:
    closed = [journey_to(S.CLOSED, owner=people.owner) for _ in range(3)]
    rows = list(Case.objects.filter(pk__in=[case.pk for case in closed]))  # reasons not loaded

    with CaptureQueriesContext(connection) as queries:
        ids = content_case_ids(user=people.owner, cases=rows, now=T0)

    assert all(row.closure_reason_id for row in rows)
    assert len(queries) == 1
    assert ids == {row.pk for row in rows if not case_is_restricted(case=row, now=T0)}
    assert ids == {row.pk for row in rows}  # closed within the period: still the owner's


# --- the whole way: web, API, handovers, the DPO, the sweeps -------------------------


def api(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def web(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _archived_handover_case(people: People, now: datetime) -> Case:
    """A handed-over case, accepted and closed at `now`: by today its period
    has ended, so it is restricted."""
    from handover.services import handover_accept, handover_create

    gemeinde = GemeindeFactory()
    people.owner.traeger.gemeinden.add(gemeinde)
    sender = UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=None)
    handover, _created = handover_create(
        actor=sender,
        now=now,
        data={
            "gemeinde_ags": gemeinde.ags,
            "au_allocation_date": timezone.localdate(now),
            "consent_given": True,
            "consent_form": "SIGNED_PAPER",
            "consent_language": "ar",
            "consent_given_on": timezone.localdate(now),
            "notes": SECRET,
            "gu_contact_name": "GU",
        },
        members=[{"family_name": SECRET, "given_names": "Qzx"}],
    )
    handover = handover_accept(handover=handover, actor=people.owner, now=now, persons={})
    case = Case.objects.get(pk=handover.case_id)
    return case_drive_to(case=case, state=S.CLOSED, now=now)


@pytest.fixture
def archived(people) -> Case:
    """Closed four years ago, within its period; the period ended since."""
    case = _archived_handover_case(people, timezone.now() - timedelta(days=4 * 365))
    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert case.effective_end < timezone.localdate()
    return case


CASE_PATHS = ("", "history/", "consultations/", "consents/", "plan/", "assessment/", "referrals/")


def test_manager_deputy_and_supervisor_get_404_everywhere_on_a_restricted_case(
    people, archived
) -> None:
    reads = ReadAccess.objects.filter(case_id=archived.pk).count()
    process = archived.processes.order_by("pk").first()
    for who in ("owner", "deputy", "lead"):
        user = getattr(people, who)
        client, browser = api(user), web(user)
        for suffix in CASE_PATHS:
            response = client.get(f"/api/v1/cases/{archived.pk}/{suffix}")
            assert response.status_code == 404, (who, suffix)
            assert response.json()["code"] == "not_found"
            assert SECRET not in response.content.decode()
        reopen = client.post(
            f"/api/v1/cases/{archived.pk}/transitions/reopen/",
            {"reason": "client_returned"},
            format="json",
        )
        assert reopen.status_code == 404, who
        listed = client.get("/api/v1/cases/?page_size=200").json()
        assert archived.pk not in {row["id"] for row in listed["results"]}, who
        handovers = client.get("/api/v1/handovers/")
        assert SECRET not in handovers.content.decode(), who
        assert archived.pk not in {row["case"] for row in handovers.json()["results"]}
        for url in (
            f"/aufgaben/fall/{archived.pk}/",
            f"/aufgaben/ablauf/{process.pk}.svg",
        ):
            assert browser.get(url).status_code == 404, (who, url)
        assert (
            browser.post(
                f"/aufgaben/fall/{archived.pk}/aktion/reopen/", {"reason": "CLIENT_RETURNED"}
            ).status_code
            == 404
        )
        assert SECRET not in browser.get("/uebergaben/").content.decode()
        assert handovers_visible_to(user=user).filter(case=archived).exists() is False

    assert ReadAccess.objects.filter(case_id=archived.pk).count() == reads
    archived.refresh_from_db()
    assert archived.status == S.CLOSED


def test_the_dpo_sees_exports_and_lists_a_restricted_case(people, archived) -> None:
    client, browser = api(people.dpo), web(people.dpo)

    detail = client.get(f"/api/v1/cases/{archived.pk}/")
    history = client.get(f"/api/v1/cases/{archived.pk}/history/")
    timeline = browser.get(f"/pruefung/fall/{archived.pk}/")
    export = browser.get(f"/pruefung/fall/{archived.pk}/export.csv")
    art15 = browser.get(f"/datenschutz/personen/{archived.person_id}/auskunft.json")
    overview = browser.get("/datenschutz/")

    assert detail.status_code == 200
    assert (detail.json()["status"], detail.json()["person"]) == ("closed", None)
    assert history.status_code == 200
    assert history.json()[0]["event_type"] == "cases.case.created"
    assert timeline.status_code == 200
    assert export.status_code == 200
    assert art15.status_code == 200
    data = json.loads(art15.content)
    assert [c["id"] for c in data["cases"]] == [archived.pk]
    assert data["person"]["family_name"] == SECRET
    assert overview.status_code == 200
    assert [row.case.pk for row in overview.context["archive"]] == [archived.pk]
    assert f'href="/pruefung/fall/{archived.pk}/"' in overview.content.decode()
    assert api(people.auditor).get(f"/api/v1/cases/{archived.pk}/history/").status_code == 200


def test_the_archive_lists_only_restricted_cases_of_the_dpos_traeger(people, archived) -> None:
    journey_to(S.CLOSED, owner=people.owner, now=timezone.now() - timedelta(days=3))
    journey_to(S.ACTIVE, owner=people.owner)
    rejected = journey_to(S.REJECTED, owner=people.owner)
    elsewhere = journey_to(S.REJECTED, owner=manager_in(TeamFactory()))

    rows = archived_cases(traeger_id=people.dpo.traeger_id, now=timezone.now())

    assert {row.case.pk for row in rows} == {archived.pk, rejected.pk}
    assert elsewhere.pk not in {row.case.pk for row in rows}
    by_pk = {row.case.pk: row for row in rows}
    assert by_pk[archived.pk].anonymised_after == services.retention_deadline(archived)


def test_the_retention_sweep_still_finds_and_anonymises_restricted_cases(people, archived) -> None:
    now = timezone.now()

    assert [case.pk for case in retention_due(today=timezone.localdate(now))] == [archived.pk]
    result = retention_sweep(now=now)

    assert result.anonymised == [archived.pk]
    archived.refresh_from_db()
    assert archived.status == S.DELETED
    assert archived.person.family_name == "—"


def test_period_expiry_sweep_then_closing_moves_the_case_into_the_archive(people) -> None:
    now = timezone.now()
    case = journey_to(S.ACTIVE, owner=people.owner, now=now - timedelta(days=3 * 365 + 10))
    assert case.effective_end < timezone.localdate(now)

    swept = deadline_sweep(name="period_expired", now=now)

    assert swept.done == 1
    case.refresh_from_db()
    assert case.status == S.CLOSING
    client = api(people.owner)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200  # open: still theirs
    finish_goals(case, now)
    closed = client.post(
        f"/api/v1/cases/{case.pk}/transitions/close/",
        {"closure_reason": "period_expired", "no_further_need": True},
        format="json",
    )
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["person"]) == ("closed", None)
    assert closed.json()["allowed_transitions"] == []
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api(people.lead).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api(people.dpo).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    # and the retention sweep takes it at the end of the third year after closing
    later = now.replace(year=now.year + 4, month=1, day=2)
    assert retention_sweep(now=later).anonymised == [case.pk]


def test_no_show_sweep_rejects_and_the_case_leaves_its_manager(people) -> None:
    now = timezone.now()
    case = new_case(owner=people.owner, now=now - timedelta(days=120))

    swept = deadline_sweep(name="no_show_timeout", now=now)

    assert swept.done == 1
    case.refresh_from_db()
    assert case.status == S.REJECTED
    assert api(people.owner).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api(people.dpo).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_reopen_within_the_period_still_works_through_the_web(people) -> None:
    now = timezone.now()
    case = journey_to(S.CLOSED, owner=people.owner, now=now - timedelta(days=10))
    browser = web(people.owner)

    page = browser.get(f"/aufgaben/fall/{case.pk}/")
    response = browser.post(
        f"/aufgaben/fall/{case.pk}/aktion/reopen/",
        {
            "held_on": timezone.localdate(now).isoformat(),
            "duration_minutes": "30",
            "consultation_form": "office",
            "topics": ["language"],
            "reason": "CLIENT_RETURNED",
        },
    )

    assert page.status_code == 200
    assert "reopen" in page.context["actions"]
    assert response.status_code == 302
    assert response["Location"] == f"/aufgaben/fall/{case.pk}/"
    case.refresh_from_db()
    assert case.status == S.ACTIVE


def test_a_step_that_archives_the_case_leads_to_the_inbox_not_to_a_404(people) -> None:
    case = new_case(owner=people.owner, now=timezone.now() - timedelta(days=1))
    services.consent_record(
        case=case,
        actor=people.owner,
        now=timezone.now(),
        scope="CASE_PROCESSING",
        form="SIGNED_PAPER",
        language="ar",
    )
    browser = web(people.owner)

    response = browser.post(
        f"/aufgaben/fall/{case.pk}/aktion/withdraw_consent/",
        # The second submit of the confirmation step (workflows.confirm).
        {"channel": "PHONE", "confirm": "on", "confirmed": "1"},
        follow=True,
    )

    assert response.redirect_chain == [("/aufgaben/", 302)]
    assert "Der Fall ist abgeschlossen und jetzt im Archiv." in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.closure_reason.key) == (S.CLOSED, "consent_withdrawn")
    assert browser.get(f"/aufgaben/fall/{case.pk}/").status_code == 404
