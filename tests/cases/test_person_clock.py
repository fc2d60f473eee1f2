"""The person's clock (issue 18, rules 1, 2, 3 and 8): one period per
person across all their cases, facts known from elsewhere, the first
consultation, extension requests and the period end, consultations after
the end. Through the services and through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from cases import services
from cases.clock import extended_end_for, start_of_day
from cases.models import (
    Case,
    CaseStatus,
    Consultation,
    ExtensionRequest,
    Person,
    PersonClockFact,
)
from cases.person_clock import person_clock
from cases.selectors import case_clock
from cases.services.sweeps import deadline_sweep
from config.errors import ApplicationError
from notifications.models import Notification
from notifications.selectors import notification_text
from notifications.services.reminders import reminders_run
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    BERLIN,
    ELIGIBLE,
    T0,
    PersonFactory,
    give_consent,
    journey_to,
    manager_in,
    new_case,
    supervisor_of,
    to_closed,
    to_closing,
    to_initial_counselling,
)
from tests.cases.test_api import client_for
from tests.cases.test_concurrency import on_postgres_with_commits, run_concurrently

pytestmark = pytest.mark.django_db

S = CaseStatus


def last_event(case: Case) -> AuditEvent:
    """The case's latest audit event of the case services (not the flow's)."""
    event = (
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("-seq")
        .first()
    )
    assert event is not None
    return event


def events(event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


# --- clock facts from elsewhere -------------------------------------------


def test_clock_fact_moves_the_start_earlier_and_the_open_case_follows() -> None:
    case = new_case()
    to_initial_counselling(case, now=T0)
    case.refresh_from_db()
    assert case.consultation_start == date(2026, 1, 5)

    fact = services.person_clock_fact_record(
        person=case.person,
        actor=case.owner,
        now=T0,
        source=PersonClockFact.Source.TRANSFER,
        evidence="Übergabepaket Kreis X, Az. 12/34",
        first_consultation_on=date(2024, 3, 1),
    )

    case.refresh_from_db()
    assert case.consultation_start == date(2024, 3, 1)
    assert case.regular_end == date(2027, 2, 28)
    assert case.effective_end == date(2027, 2, 28)
    assert Person.objects.get(pk=case.person_id).prior_consultation_start == date(2024, 3, 1)
    clock = person_clock(person=case.person, today=date(2026, 1, 5))
    assert (clock.start, clock.effective_end) == (date(2024, 3, 1), date(2027, 2, 28))
    assert clock.days_left == (date(2027, 2, 28) - date(2026, 1, 5)).days
    [event] = events("cases.person.clock_fact_recorded")
    assert event.case_id == case.pk
    assert event.object_id == str(fact.pk)
    assert event.data["source"] == "TRANSFER"
    assert event.data["first_consultation_on"] == "2024-03-01"
    assert "Az." not in str(event.data)


def test_clock_fact_may_not_move_the_start_later() -> None:
    case = new_case()
    to_initial_counselling(case, now=T0)
    before = AuditEvent.objects.count()

    with pytest.raises(ApplicationError) as error:
        services.person_clock_fact_record(
            person=case.person,
            actor=case.owner,
            now=T0 + timedelta(days=30),
            source="MIGRATION",
            evidence="Altakte",
            first_consultation_on=date(2026, 1, 6),
        )

    assert error.value.code == "clock_start_not_earlier"
    assert error.value.http_status == 409
    assert not PersonClockFact.objects.exists()
    assert AuditEvent.objects.count() == before


def test_clock_fact_for_a_person_without_case_goes_to_the_global_chain() -> None:
    owner = manager_in(TeamFactory())
    person = PersonFactory(traeger=owner.traeger)
    fact = services.person_clock_fact_record(
        person=person,
        actor=None,
        now=T0,
        source="MIGRATION",
        evidence="Import Excel Zeile 4",
        first_consultation_on="2025-02-01",
        extension_months=6,
        extension_reason="illiteracy",
    )
    clock = person_clock(person=person, today=date(2026, 1, 5))
    assert clock.extension_months == 6
    assert clock.effective_end == date(2028, 7, 31)
    [event] = events("cases.person.clock_fact_recorded")
    assert (event.case_id, event.chain_key, event.actor_role) == (None, "global", "SYSTEM")
    assert event.data["extension_months"] == 6
    # The person's first case takes the start and the extension over.
    case = new_case_for(person, owner, T0)
    to_initial_counselling(case, T0)
    case.refresh_from_db()
    assert (case.consultation_start, case.effective_end) == (date(2025, 2, 1), date(2028, 7, 31))
    assert fact.extension_reason.key == "illiteracy"


def new_case_for(person: Person, owner: User, now: datetime) -> Case:
    return services.case_create(
        person=person,
        owner=owner,
        actor=owner,
        now=now,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
    )


def talk(case: Case, now: datetime, **kwargs: Any) -> Consultation:
    return services.consultation_record(
        case=case,
        actor=case.owner,
        now=now,
        held_on=kwargs.pop("held_on", timezone.localdate(now)),
        duration_minutes=30,
        form="office",
        topics=["work"],
        **kwargs,
    )


def refused(call: Callable[[], Any], code: str, status: int = 409) -> ApplicationError:
    events = AuditEvent.objects.count()
    consultations = Consultation.objects.count()
    with pytest.raises(ApplicationError) as error:
        call()
    assert (error.value.code, error.value.http_status) == (code, status)
    assert AuditEvent.objects.count() == events
    assert Consultation.objects.count() == consultations
    return error.value


# --- rule 1: one clock per person -------------------------------------------


def test_a_new_case_of_the_same_person_continues_the_clock_and_its_extension() -> None:
    first = journey_to(S.ACTIVE)  # period from 2026-01-05
    lead = supervisor_of(first.owner.team)
    request = services.extension_request_submit(
        case=first,
        actor=first.owner,
        now=T0,
        reason="illiteracy",
        months=6,
        justification="Alphabetisierungskurs",
    )
    services.extension_request_approve(request=request, actor=lead, now=T0)
    first = to_closed(to_closing(Case.objects.get(pk=first.pk), T0), T0)

    # Two years later the person comes back, to another Träger's manager.
    later = T0 + timedelta(days=730)
    other_owner = manager_in(TeamFactory())
    second = new_case_for(first.person, other_owner, later)
    clock = case_clock(case=second, now=later)
    assert clock.carried_over
    assert (clock.start, clock.effective_end) == (date(2026, 1, 5), date(2029, 7, 4))
    assert clock.days_left == (date(2029, 7, 4) - later.date()).days

    give_consent(second, now=later)
    row = talk(second, later)
    second = services.case_transition(
        case=second,
        name="record_first_consultation",
        actor=other_owner,
        now=later,
        consultation_id=row.pk,
        **ELIGIBLE,
    )
    assert second.consultation_start == date(2026, 1, 5)  # not restarted
    assert second.regular_end == date(2029, 1, 4)
    assert second.effective_end == date(2029, 7, 4)  # the person's extension carries over
    event = last_event(second)
    assert event.transition == "record_first_consultation"
    assert event.data["consultation_start"] == "2026-01-05"

    # The person used their one extension: none in the new case.
    with pytest.raises(ApplicationError) as error:
        services.extension_request_submit(
            case=second,
            actor=other_owner,
            now=later,
            reason="multiple_problems",
            months=3,
            justification="Mehrfachproblematik",
        )
    assert error.value.code == "period_already_extended"
    assert not ExtensionRequest.objects.filter(case=second).exists()


def test_a_new_case_after_the_period_only_allows_the_final_referral() -> None:
    first = journey_to(S.CLOSED)  # period 2026-01-05 .. 2029-01-04
    later = T0 + timedelta(days=365 * 3 + 30)
    second = new_case_for(first.person, first.owner, later)
    give_consent(second, now=later)

    assert case_clock(case=second, now=later).days_ago == 30
    error = refused(lambda: talk(second, later), "period_ended_consultation")
    assert "Weitervermittlung" in str(error.message)
    row = talk(second, later, final_referral=True)
    assert row.final_referral
    event = last_event(second)
    assert event.event_type == "cases.consultation.recorded"
    assert event.data["final_referral"] is True


def test_a_fact_moves_every_started_case_of_the_person_each_in_its_own_chain() -> None:
    first = journey_to(S.CLOSED)
    later = T0 + timedelta(days=100)
    second = new_case_for(first.person, first.owner, later)
    to_initial_counselling(second, later)

    services.person_clock_fact_record(
        person=first.person,
        actor=None,
        now=later,
        source=PersonClockFact.Source.OTHER_TRAEGER,
        evidence="Bescheinigung des Trägers Y",
        first_consultation_on=date(2025, 1, 10),
    )

    for case in (first, second):
        case.refresh_from_db()
        assert (case.consultation_start, case.effective_end) == (
            date(2025, 1, 10),
            date(2028, 1, 9),
        )
    followed = AuditEvent.objects.get(case_id=first.pk, event_type="cases.case.clock_followed")
    assert followed.actor_role == "SYSTEM"
    assert followed.data["consultation_start"] == "2025-01-10"
    recorded = AuditEvent.objects.get(event_type="cases.person.clock_fact_recorded")
    assert recorded.case_id == second.pk
    assert audit_chain_verify(chain_key=f"case:{first.pk}") == []
    assert audit_chain_verify(chain_key=f"case:{second.pk}") == []


def test_a_second_extension_fact_or_one_after_an_approval_is_refused() -> None:
    case = journey_to(S.ACTIVE)
    services.person_clock_fact_record(
        person=case.person,
        actor=case.owner,
        now=T0,
        source="MIGRATION",
        evidence="Altakte",
        extension_months=12,
        extension_reason="disability",
    )
    case.refresh_from_db()
    assert case.effective_end == date(2030, 1, 4)
    refused(
        lambda: services.person_clock_fact_record(
            person=case.person,
            actor=case.owner,
            now=T0,
            source="MIGRATION",
            evidence="Altakte 2",
            extension_months=3,
        ),
        "period_already_extended",
    )
    refused(
        lambda: services.extension_request_submit(
            case=case,
            actor=case.owner,
            now=T0,
            reason="illiteracy",
            months=3,
            justification="Kurs",
        ),
        "period_already_extended",
    )


def test_clock_fact_input_errors_and_strangers() -> None:
    case = journey_to(S.ACTIVE)
    stranger = manager_in(TeamFactory())

    def record(**kwargs: Any) -> Any:
        args = {
            "person": case.person,
            "actor": case.owner,
            "now": T0,
            "source": "MIGRATION",
            "evidence": "Altakte",
            "first_consultation_on": date(2025, 1, 1),
            **kwargs,
        }
        return services.person_clock_fact_record(**args)

    refused(lambda: record(source="RUMOUR"), "invalid", 400)
    refused(lambda: record(evidence=" "), "invalid", 400)
    refused(lambda: record(first_consultation_on=None), "invalid", 400)
    refused(lambda: record(extension_months=13), "invalid", 400)
    refused(lambda: record(extension_reason="illiteracy"), "invalid", 400)
    refused(lambda: record(actor=stranger), "not_found", 404)
    assert not PersonClockFact.objects.exists()
    assert Person.objects.get(pk=case.person_id).prior_consultation_start is None


def test_the_api_shows_the_person_clock_of_a_new_case() -> None:
    now = timezone.now()
    first = journey_to(S.CLOSED, now=now - timedelta(days=400))
    second = new_case_for(first.person, first.owner, now)
    first.refresh_from_db()

    detail = client_for(second.owner).get(f"/api/v1/cases/{second.pk}/").json()

    assert detail["consultation_start"] is None
    clock = detail["person_clock"]
    assert clock["start"] == first.consultation_start.isoformat()
    assert clock["effective_end"] == first.effective_end.isoformat()
    assert clock["days_left"] == (first.effective_end - timezone.localdate(now)).days
    assert (clock["expired"], clock["extension_months"]) == (False, None)


# --- rule 2: the first consultation, consent first ---------------------------


def test_the_earliest_completed_consultation_of_the_case_starts_the_period() -> None:
    case = new_case()
    give_consent(case, now=T0)
    talk(case, T0 + timedelta(days=2), held_on=date(2026, 1, 5))
    named = talk(case, T0 + timedelta(days=2), held_on=date(2026, 1, 7))

    case = services.case_transition(
        case=case,
        name="record_first_consultation",
        actor=case.owner,
        now=T0 + timedelta(days=2),
        consultation_id=named.pk,
        **ELIGIBLE,
    )

    assert case.consultation_start == date(2026, 1, 5)
    event = last_event(case)
    assert event.data["consultation_start"] == "2026-01-05"


def test_no_consultation_with_content_before_consent() -> None:
    case = new_case()

    refused(lambda: talk(case, T0), "consent_missing")
    refused(
        lambda: talk(case, T0, status=Consultation.Status.NO_SHOW, notes="Rückruf erbeten"),
        "consent_missing",
    )
    # A no-show without content may be noted (the no-show deadline needs it).
    no_show = talk(case, T0, status=Consultation.Status.NO_SHOW)
    assert no_show.status == Consultation.Status.NO_SHOW
    # Anonymous counselling needs no consent.
    anonymous = new_case(anonymous_mode=True)
    assert talk(anonymous, T0).status == Consultation.Status.COMPLETED
    # K1/K2 count only what could be recorded: the one anonymous consultation.
    assert Consultation.objects.filter(status=Consultation.Status.COMPLETED).count() == 1


def test_the_api_refuses_a_consultation_before_consent_and_starts_from_the_earliest() -> None:
    now = timezone.now()
    case = new_case(now=now - timedelta(days=3))
    api = client_for(case.owner)
    today = timezone.localdate(now)
    body = {"date": today.isoformat(), "duration_minutes": 30, "form": "office", "topics": ["work"]}
    events = AuditEvent.objects.filter(case_id=case.pk).count()

    response = api.post(f"/api/v1/cases/{case.pk}/consultations/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "consent_missing")
    assert "Einwilligung" in response.json()["detail"]
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events
    assert not Consultation.objects.filter(case=case).exists()

    give_consent(case, now=now - timedelta(days=3))
    earlier = {**body, "date": (today - timedelta(days=2)).isoformat()}
    response = api.post(f"/api/v1/cases/{case.pk}/consultations/", earlier, format="json")
    assert response.status_code == 201
    named = api.post(f"/api/v1/cases/{case.pk}/consultations/", body, format="json").json()
    response = api.post(
        f"/api/v1/cases/{case.pk}/transitions/record_first_consultation/",
        {
            "consultation_id": named["id"],
            "eligibility_basis": "follow_up_accommodation",
            "benefit_status": "asylblg",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["consultation_start"] == earlier["date"]


# --- rule 3: an extension request in time keeps the case open ---------------


LAST_DAY = datetime(2029, 1, 4, 22, 30, tzinfo=BERLIN)  # regular end of a T0 case


def submitted_on_the_last_day(months: int = 6) -> tuple[Case, ExtensionRequest, User]:
    case = journey_to(S.ACTIVE)
    lead = supervisor_of(case.owner.team)
    request = services.extension_request_submit(
        case=case,
        actor=case.owner,
        now=LAST_DAY,
        reason="multiple_problems",
        months=months,
        justification="Mehrfachproblematik",
    )
    return case, request, lead


def test_the_sweep_waits_for_a_timely_request_reminds_and_escalates() -> None:
    case, request, lead = submitted_on_the_last_day()
    next_day = LAST_DAY + timedelta(hours=3)

    result = deadline_sweep(name="period_expired", now=next_day)

    assert (result.done, result.skipped) == (0, 1)
    case.refresh_from_db()
    assert case.status == S.ACTIVE
    assert not AuditEvent.objects.filter(case_id=case.pk, transition="period_expired").exists()
    with pytest.raises(ApplicationError) as error:
        services.case_transition(case=case, name="period_expired", actor=None, now=next_day)
    assert error.value.code == "extension_pending"

    reminders_run(now=next_day)
    reminded = Notification.objects.filter(key=f"extension:{request.pk}:period_ended")
    assert set(reminded.values_list("recipient_id", flat=True)) == {case.owner_id, lead.pk}
    assert not Notification.objects.filter(key__endswith=":escalated").exists()
    text = notification_text(reminded.get(recipient=lead))
    assert "bleibt offen" in text

    escalation_day = next_day + timedelta(days=settings.LOTSE_EXTENSION_ESCALATION_DAYS)
    reminders_run(now=escalation_day)
    escalated = Notification.objects.get(key=f"extension:{request.pk}:escalated")
    assert escalated.recipient_id == lead.pk
    assert escalated.kind == "EXTENSION_WAITING"
    assert reminded.count() == 2  # once per occasion


def test_an_approval_after_the_regular_end_extends_from_the_regular_end() -> None:
    case, request, lead = submitted_on_the_last_day(months=6)
    later = LAST_DAY + timedelta(days=10)
    deadline_sweep(name="period_expired", now=later)

    services.extension_request_approve(request=request, actor=lead, now=later)

    case.refresh_from_db()
    assert case.status == S.ACTIVE
    assert case.effective_end == date(2029, 7, 4)
    event = last_event(case)
    assert event.event_type == "cases.extension_request.approved"
    assert event.data["effective_end"] == "2029-07-04"
    assert deadline_sweep(name="period_expired", now=later).done == 0


def test_a_rejection_after_the_regular_end_starts_closing_at_once() -> None:
    case, request, lead = submitted_on_the_last_day()
    later = LAST_DAY + timedelta(days=3)

    services.extension_request_reject(request=request, actor=lead, now=later, note="Nicht belegt")

    case.refresh_from_db()
    assert (case.status, case.closing_ground) == (S.CLOSING, "PERIOD_EXPIRED")
    events = list(
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("-seq")
        .values_list("event_type", "actor_role")[:2]
    )
    assert events == [
        ("cases.case.period_expired", "SYSTEM"),
        ("cases.extension_request.rejected", "SUPERVISOR"),
    ]


def test_a_request_after_the_end_is_refused_and_the_sweep_does_not_wait() -> None:
    case = journey_to(S.ACTIVE)
    day_after = LAST_DAY + timedelta(hours=2)
    refused(
        lambda: services.extension_request_submit(
            case=case,
            actor=case.owner,
            now=day_after,
            reason="illiteracy",
            months=6,
            justification="Kurs",
        ),
        "period_ended",
    )
    assert deadline_sweep(name="period_expired", now=day_after).done == 1


def test_through_the_api_the_approval_after_the_end_extends_and_a_rejection_closes() -> None:
    now = timezone.now()
    started = now - timedelta(days=3 * 365 + 5)
    approved_case = journey_to(S.ACTIVE, now=started)
    rejected_case = journey_to(S.ACTIVE, owner=approved_case.owner, now=started)
    lead = supervisor_of(approved_case.owner.team)
    ids = []
    for case in (approved_case, rejected_case):
        last_day = start_of_day(case.effective_end) + timedelta(hours=12)
        ids.append(
            services.extension_request_submit(
                case=case,
                actor=case.owner,
                now=last_day,
                reason="multiple_problems",
                months=4,
                justification="Mehrfachproblematik",
            ).pk
        )
    deadline_sweep(name="period_expired", now=now)
    api = client_for(lead)

    approved = api.post(f"/api/v1/extension-requests/{ids[0]}/approve/", {}, format="json")
    rejected = api.post(
        f"/api/v1/extension-requests/{ids[1]}/reject/", {"note": "Nicht belegt"}, format="json"
    )

    assert approved.status_code == 200, approved.json()
    assert rejected.status_code == 200, rejected.json()
    approved_case.refresh_from_db()
    rejected_case.refresh_from_db()
    assert approved_case.status == S.ACTIVE
    assert approved_case.effective_end == extended_end_for(
        start=approved_case.consultation_start, regular_end=approved_case.regular_end, months=4
    )
    assert rejected_case.status == S.CLOSING
    detail = client_for(rejected_case.owner).get(f"/api/v1/cases/{rejected_case.pk}/").json()
    assert (detail["status"], detail["closing_ground"]) == ("closing", "period_expired")


# --- rule 8: no consultations after the effective end ------------------------


def test_a_consultation_after_the_effective_end_is_refused_except_the_final_referral() -> None:
    case = journey_to(S.ACTIVE)
    after_end = LAST_DAY + timedelta(days=2)
    deadline_sweep(name="period_expired", now=after_end)
    case.refresh_from_db()
    assert case.status == S.CLOSING

    refused(lambda: talk(case, after_end), "period_ended_consultation")
    # One held on the last day may still be written down afterwards.
    assert talk(case, after_end, held_on=LAST_DAY.date()).held_on == date(2029, 1, 4)
    final = talk(case, after_end, final_referral=True)
    assert final.final_referral
    assert Consultation.objects.filter(case=case, held_on__gt=case.effective_end).count() == 1


def test_the_api_refuses_a_consultation_after_the_end_with_code_and_german_message() -> None:
    now = timezone.now()
    case = journey_to(S.ACTIVE, now=now - timedelta(days=3 * 365 + 5))
    api = client_for(case.owner)
    body = {
        "date": timezone.localdate(now).isoformat(),
        "duration_minutes": 30,
        "form": "office",
        "topics": ["work"],
    }
    events = AuditEvent.objects.filter(case_id=case.pk).count()

    response = api.post(f"/api/v1/cases/{case.pk}/consultations/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "period_ended_consultation")
    assert "Beratungszeitraum" in response.json()["detail"]
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events

    response = api.post(
        f"/api/v1/cases/{case.pk}/consultations/",
        {**body, "final_referral": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["final_referral"] is True
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events + 1


def test_the_browser_refuses_a_consultation_after_the_end_in_german(client: Any) -> None:
    now = timezone.now()
    case = journey_to(S.ACTIVE, now=now - timedelta(days=3 * 365 + 5))
    deadline_sweep(name="period_expired", now=now)
    client.force_login(case.owner)
    url = reverse("cases:consultation_new", args=[case.pk])
    form = {
        "consultation_form": "office",
        "topics": ["work"],
        "duration_minutes": "30",
        "held_on": timezone.localdate(now).isoformat(),
        "participants": [case.person_id],
        "status": "COMPLETED",
    }

    response = client.post(url, form)
    assert response.status_code == 409
    assert "Weitervermittlung" in response.content.decode()

    response = client.post(url, {**form, "final_referral": "on"})
    assert response.status_code == 302
    assert Consultation.objects.get(case=case, held_on=timezone.localdate(now)).final_referral


def test_the_api_records_a_clock_fact_and_refuses_a_later_start() -> None:
    now = timezone.now()
    case = journey_to(S.ACTIVE, now=now - timedelta(days=30))
    api = client_for(case.owner)
    url = f"/api/v1/cases/{case.pk}/clock-facts/"
    earlier = timezone.localdate(now) - timedelta(days=200)

    response = api.post(
        url,
        {
            "source": "other_traeger",
            "evidence": "Bescheinigung Träger Y vom 3.2.",
            "first_consultation_on": earlier.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["first_consultation_on"]) == ("other_traeger", earlier.isoformat())
    detail = api.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["consultation_start"] == earlier.isoformat()
    assert detail["person_clock"]["start"] == earlier.isoformat()
    assert [f["id"] for f in api.get(url).json()["results"]] == [body["id"]]
    [event] = events("cases.person.clock_fact_recorded")
    assert (event.case_id, event.actor_id) == (case.pk, case.owner_id)

    later = {
        "source": "migration",
        "evidence": "Altakte",
        "first_consultation_on": str(earlier + timedelta(days=1)),
    }
    response = api.post(url, later, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "clock_start_not_earlier")
    assert "nur nach vorn" in response.json()["detail"]
    assert PersonClockFact.objects.count() == 1
    assert len(events("cases.person.clock_fact_recorded")) == 1

    lead = supervisor_of(case.owner.team)
    assert client_for(lead).post(url, later, format="json").status_code == 403


def test_the_browser_records_a_clock_fact(client: Any) -> None:
    now = timezone.now()
    case = journey_to(S.ACTIVE, now=now - timedelta(days=30))
    client.force_login(case.owner)
    url = reverse("cases:clock_fact_new", args=[case.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Beratungszeitraum aus anderer Stelle" in page.content.decode()
    response = client.post(
        url,
        {
            "source": "TRANSFER",
            "evidence": "Übergabepaket Kreis X",
            "extension_months": "6",
            "extension_reason": "illiteracy",
        },
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.effective_end == extended_end_for(
        start=case.consultation_start, regular_end=case.regular_end, months=6
    )
    response = client.post(
        url, {"source": "TRANSFER", "evidence": "noch einmal", "extension_months": "3"}
    )
    assert response.status_code == 409
    assert "bereits einmal verlängert" in response.content.decode()
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert url in detail


@on_postgres_with_commits
def test_a_request_racing_the_sweep_either_holds_the_case_or_is_refused() -> None:
    """The owner submits in the last second of the period while the sweep
    of the night runs: both lock the case row, so either the request is in
    and the sweep waits, or the case moved to closing and the request is
    refused; never a submitted request on a closing case."""
    case = journey_to(S.ACTIVE)
    submit_at = datetime(2029, 1, 4, 23, 59, 59, tzinfo=BERLIN)
    sweep_at = datetime(2029, 1, 5, 0, 0, 1, tzinfo=BERLIN)

    outcomes = run_concurrently(
        [
            lambda: services.extension_request_submit(
                case=case.pk,
                actor=case.owner,
                now=submit_at,
                reason="multiple_problems",
                months=6,
                justification="Mehrfachproblematik",
            ),
            lambda: deadline_sweep(name="period_expired", now=sweep_at),
        ]
    )

    (
        (submitted, request),
        (swept, result),
    ) = [(o, v) for o, v, _s in outcomes]
    assert swept == "ok", result
    case.refresh_from_db()
    if submitted == "ok":
        assert case.status == S.ACTIVE
        assert result.done == 0
        assert ExtensionRequest.objects.get(case=case).status == "SUBMITTED"
    else:
        assert request.code == "case_not_open"
        assert case.status == S.CLOSING
        assert not ExtensionRequest.objects.filter(case=case).exists()
    # Whatever the order, the next night's sweep agrees.
    again = deadline_sweep(name="period_expired", now=sweep_at + timedelta(days=1))
    assert again.done == 0
