"""The talk for the final referral of a registered case whose person's
consultation period is already over (issue 18): one composite service
(`case_final_referral_talk`) records the talk, joins the person's period,
lets it expire, records the final referral and closes the case; a refusal
of any step writes nothing. Through the service and through the guided
first-consultation step in the browser."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify, case_replay
from cases import services
from cases.history import case_data_current
from cases.models import Case, CaseStatus, Consent, Consultation, Person, PersonClockFact, Referral
from cases.services.sweeps import deadline_sweep
from config.errors import ApplicationError
from notifications.models import Notification
from tests.cases.factories import ELIGIBLE, T0, give_consent, journey_to, new_case
from tests.cases.test_api import client_for
from workflows import engine
from workflows.invariants import cases_with_problems, open_work, open_work_problems

pytestmark = pytest.mark.django_db

S = CaseStatus
LATER = T0 + timedelta(days=365 * 3 + 30)  # the first case's period ended 2029-01-04
TODAY = date(2029, 2, 3)
TALK = {"held_on": TODAY, "duration_minutes": 40, "form": "office", "topics": ["work"]}
MBE = {"target_service": "mbe", "mode": "APPOINTMENT_ARRANGED", "organisation": "MBE Caritas"}


def second_case(*, consent: bool = True) -> Case:
    """A new registered case of a person whose period (from an earlier,
    closed case) ended 30 days ago."""
    first = journey_to(S.CLOSED)
    second = services.case_create(
        person=first.person,
        owner=first.owner,
        actor=first.owner,
        now=LATER,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
    )
    if consent:
        give_consent(second, now=LATER)
    return second


def case_events(case: Case) -> list[tuple[str, str, bool]]:
    """(event type, reason, by the system) of the case services' events."""
    return [
        (e.event_type, e.reason, e.actor_id is None)
        for e in AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("seq")
    ]


def talk(case: Case, **kwargs: Any) -> Case:
    args: dict[str, Any] = {
        "case": case,
        "actor": case.owner,
        "now": LATER,
        "consultation": TALK,
        **ELIGIBLE,
        "final_referral": MBE,
    }
    return services.case_final_referral_talk(**{**args, **kwargs})


def refused(call: Any, code: str, status: int = 409) -> ApplicationError:
    counts = [model.objects.count() for model in (AuditEvent, Consultation, Referral, Consent)]
    with pytest.raises(ApplicationError) as error:
        call()
    assert (error.value.code, error.value.http_status) == (code, status)
    assert [
        model.objects.count() for model in (AuditEvent, Consultation, Referral, Consent)
    ] == counts
    return error.value


# --- the service ---------------------------------------------------------------


def test_the_talk_records_the_consultation_the_referral_and_closes_the_case() -> None:
    case = second_case()
    before = AuditEvent.objects.filter(case_id=case.pk).count()

    closed = talk(case)

    assert closed.status == S.CLOSED
    assert closed.closure_reason is not None
    assert closed.closure_reason.key == "period_expired"
    assert closed.closing_ground == "PERIOD_EXPIRED"
    # The person's period, carried over: not restarted by this case.
    assert (closed.consultation_start, closed.effective_end) == (
        date(2026, 1, 5),
        date(2029, 1, 4),
    )
    [row] = Consultation.objects.filter(case=case)
    assert (row.final_referral, row.held_on, row.duration_minutes) == (True, TODAY, 40)
    [referral] = Referral.objects.filter(case=case)
    assert (referral.is_final, referral.outcome, referral.target_service.key) == (
        True,
        Referral.Outcome.TAKEN_UP,
        "mbe",
    )
    assert referral.organisation == "MBE Caritas"
    assert case_events(case)[-5:] == [
        ("cases.consultation.recorded", "COMPLETED", False),
        ("cases.case.record_first_consultation", "FOLLOW_UP_ACCOMMODATION", False),
        ("cases.case.period_expired", "period_expired", True),
        ("cases.referral.recorded", "mbe", False),
        ("cases.case.close", "period_expired", False),
    ]
    assert AuditEvent.objects.filter(case_id=case.pk).count() > before
    recorded = AuditEvent.objects.get(case_id=case.pk, event_type="cases.consultation.recorded")
    assert recorded.data["final_referral"] is True
    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)
    # The guided work fits the closed case: nothing open.
    assert open_work(closed) == []
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}
    # The owner's own step: no "deadline reached" for the system's T11.
    assert not Notification.objects.filter(case_id=case.pk, kind="DEADLINE_REACHED").exists()


def test_the_consent_is_recorded_in_the_talk_and_no_further_need_closes_without_referral() -> None:
    case = second_case(consent=False)
    Consent.objects.filter(person_id=case.person_id).update(withdrawn_at=LATER - timedelta(days=1))

    closed = talk(
        case,
        consent={"form": "SIGNED_PAPER", "language": "ar"},
        final_referral=None,
        no_further_need=True,
    )

    assert closed.status == S.CLOSED
    assert closed.no_further_need
    assert not Referral.objects.filter(case=case).exists()
    assert [e[0] for e in case_events(case)][-5:] == [
        "cases.consent.recorded",
        "cases.consultation.recorded",
        "cases.case.record_first_consultation",
        "cases.case.period_expired",
        "cases.case.close",
    ]


def test_a_person_whose_period_runs_gets_the_ordinary_first_consultation() -> None:
    case = new_case()
    give_consent(case, now=T0)
    refused(
        lambda: talk(case, now=T0, consultation={**TALK, "held_on": T0.date()}),
        "period_not_expired",
    )
    assert Case.objects.get(pk=case.pk).status == S.REGISTERED


def test_only_a_registered_case() -> None:
    case = journey_to(S.ACTIVE)
    refused(lambda: talk(case, now=LATER), "transition_not_allowed")


def test_a_refused_step_rolls_the_whole_talk_back() -> None:
    # No final referral and no "no further need": the closure refuses it,
    # after the talk, T2 and T11 ran; nothing of them stays.
    case = second_case()
    refused(lambda: talk(case, final_referral=None), "final_referral_missing")
    # A written referral needs the transfer consent.
    refused(
        lambda: talk(case, final_referral={**MBE, "mode": "WRITTEN_REFERRAL"}),
        "transfer_consent_missing",
    )
    # Not eligible: T2 refuses.
    refused(lambda: talk(case, benefit_status="none"), "not_eligible")
    # Without a consent the talk itself is refused.
    Consent.objects.filter(person_id=case.person_id).update(withdrawn_at=LATER)
    refused(lambda: talk(case), "consent_missing")
    case.refresh_from_db()
    assert (case.status, case.consultation_start, case.closed_at) == (S.REGISTERED, None, None)
    assert open_work_problems(case) == []


def test_a_start_known_from_elsewhere_more_than_three_years_back() -> None:
    case = new_case(now=LATER)
    give_consent(case, now=LATER)
    services.person_clock_fact_record(
        person=case.person,
        actor=case.owner,
        now=LATER,
        source=PersonClockFact.Source.MIGRATION,
        evidence="Altakte Az. 7/25",
        first_consultation_on=date(2025, 6, 1),
    )
    assert Person.objects.get(pk=case.person_id).prior_consultation_start == date(2025, 6, 1)

    closed = talk(case)

    assert closed.status == S.CLOSED
    assert (closed.consultation_start, closed.effective_end) == (
        date(2025, 6, 1),
        date(2028, 5, 31),
    )


# --- the guided step in the browser ----------------------------------------------


def task_url(case: Case) -> str:
    task = next(t for t in engine.open_tasks(case) if t.flow_task.name == "first_consultation")
    return str(task.flow_task.reverse("execute", args=[task.process_id, task.pk]))


FORM = {
    "action": "final_talk",
    "held_on": TODAY.isoformat(),
    "duration_minutes": "40",
    "consultation_form": "office",
    "topics": ["work"],
    "eligibility_basis": "FOLLOW_UP_ACCOMMODATION",
    "benefit_status": "asylblg",
    "target_service": "mbe",
    "mode": "APPOINTMENT_ARRANGED",
    "organisation": "MBE Caritas",
}


def browser(case: Case) -> Client:
    web = Client()
    web.force_login(case.owner)
    return web


def test_the_step_explains_the_end_and_records_the_talk(time_machine: Any) -> None:
    time_machine.move_to(LATER, tick=False)
    case = second_case()
    assert open_work(case) == ["first_consultation"]
    web = browser(case)
    url = task_url(case)

    page = web.get(url).content.decode()
    assert "Der Beratungszeitraum der Person endete am 04.01.2029." in page
    assert "Gespräch zur Abschlussvermittlung" in page
    assert "mit dem Grund „Beratungszeitraum abgelaufen“" in page
    assert 'value="final_talk"' in page
    assert 'value="consult"' not in page
    case_page = web.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "endete am 04.01.2029" in case_page

    asked = web.post(url, FORM)  # closing cannot be undone: it asks first
    assert asked.status_code == 200
    assert "Wirklich das Gespräch erfassen und den Fall abschließen?" in asked.content.decode()
    assert not Consultation.objects.filter(case=case).exists()

    response = web.post(url, {**FORM, "confirmed": "1"})

    assert response.status_code == 302, response.content.decode()[:3000]
    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert case.closure_reason is not None
    assert case.closure_reason.key == "period_expired"
    assert Consultation.objects.get(case=case).final_referral
    assert Referral.objects.get(case=case, is_final=True).target_service.key == "mbe"
    assert open_work(case) == []
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}


def test_the_step_refuses_in_german_and_writes_nothing(time_machine: Any) -> None:
    time_machine.move_to(LATER, tick=False)
    case = second_case()
    web = browser(case)
    url = task_url(case)
    events = AuditEvent.objects.filter(case_id=case.pk).count()

    # The form itself: a regular service or "no further need".
    response = web.post(url, {**FORM, "target_service": "", "mode": ""})
    assert response.status_code == 400
    assert "Wählen Sie den Regeldienst oder geben Sie an" in response.content.decode()
    # The service: a written referral without the transfer consent.
    response = web.post(url, {**FORM, "mode": "WRITTEN_REFERRAL", "confirmed": "1"})
    assert response.status_code == 409
    assert "Für die Weitergabe von Daten an eine andere Stelle" in response.content.decode()

    case.refresh_from_db()
    assert case.status == S.REGISTERED
    assert not Consultation.objects.filter(case=case).exists()
    assert not Referral.objects.filter(case=case).exists()
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events
    assert open_work(case) == ["first_consultation"]
    assert open_work_problems(case) == []


def test_the_ordinary_step_while_the_period_runs(time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    first = journey_to(S.CLOSED)
    second = services.case_create(
        person=first.person,
        owner=first.owner,
        actor=first.owner,
        now=T0 + timedelta(days=40),
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
    )
    time_machine.move_to(T0 + timedelta(days=40), tick=False)
    page = browser(second).get(task_url(second)).content.decode()
    assert 'value="consult"' in page
    assert 'value="final_talk"' not in page
    assert "endete am" not in page


# --- the API: the same path in its existing calls --------------------------------


def test_the_api_reaches_the_same_end_in_its_existing_calls(time_machine: Any) -> None:
    """No call of its own (API.md has none): the final-referral consultation,
    `record_first_consultation`, the nightly `period_expired` (the system's;
    403 through the API), the final referral and `close`."""
    time_machine.move_to(LATER, tick=False)
    case = second_case()
    api = client_for(case.owner)
    base = f"/api/v1/cases/{case.pk}"

    talked = api.post(
        f"{base}/consultations/",
        {
            **{k: v for k, v in TALK.items() if k != "held_on"},
            "date": TODAY.isoformat(),
            "final_referral": True,
        },
        format="json",
    )
    assert talked.status_code == 201, talked.json()
    started = api.post(
        f"{base}/transitions/record_first_consultation/",
        {
            "consultation_id": talked.json()["id"],
            "eligibility_basis": "follow_up_accommodation",
            "benefit_status": "asylblg",
        },
        format="json",
    )
    assert started.status_code == 200, started.json()
    assert started.json()["effective_end"] == "2029-01-04"
    expired = api.post(f"{base}/transitions/period_expired/", {}, format="json")
    assert expired.status_code == 403
    assert deadline_sweep(name="period_expired", now=LATER).done == 1
    referred = api.post(
        f"{base}/referrals/",
        {
            "date": TODAY.isoformat(),
            "target_service": "mbe",
            "mode": "appointment_arranged",
            "is_final": True,
            "outcome": "taken_up",
        },
        format="json",
    )
    assert referred.status_code == 201, referred.json()
    closed = api.post(
        f"{base}/transitions/close/", {"closure_reason": "period_expired"}, format="json"
    )
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}


def test_a_deputy_sees_why_and_gets_no_closing_form(time_machine: Any) -> None:
    """Closing is the owner's or the supervisor's: a deputy within the grant
    reads the end of the period and who records the talk, with no form that
    would be refused, and a posted talk writes nothing."""
    from tests.accounts.factories import DeputyGrantFactory
    from tests.cases.factories import manager_in

    time_machine.move_to(LATER, tick=False)
    case = second_case()
    deputy = manager_in(case.owner.team)
    DeputyGrantFactory(
        principal=case.owner,
        deputy=deputy,
        valid_from=LATER - timedelta(days=1),
        valid_until=LATER + timedelta(days=1),
    )
    web = Client()
    web.force_login(deputy)
    url = task_url(case)

    page = web.get(url).content.decode()
    assert "Der Beratungszeitraum der Person endete am 04.01.2029." in page
    assert "Als Vertretung können Sie den Fall nicht abschließen" in page
    assert 'value="final_talk"' not in page
    web.post(url, {**FORM, "confirmed": "1"})
    case.refresh_from_db()
    assert case.status == S.REGISTERED
    assert not Consultation.objects.filter(case=case).exists()
