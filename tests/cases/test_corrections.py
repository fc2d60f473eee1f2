"""Corrections and cancellations with a reason (issue 20): rows, the
Correction record, the audit event with before and after, error codes,
and the Kennzahlen that follow."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit.models import AuditEvent
from cases import services
from cases.history import case_data_current
from cases.models import (
    Assessment,
    CaseStatus,
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
    Correction,
    Goal,
    IntegrationPlan,
    Measure,
    NetworkContact,
    Referral,
)
from reports.models import UnitKind
from reports.selectors import Period, Unit, kennzahlen_compute
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, consult, journey_to, manager_in

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(days=20)


def _events(case, event_type):
    return list(AuditEvent.objects.filter(case_id=case.pk, event_type=event_type).order_by("seq"))


def _changes(event, model):
    return [c for c in event.data["changes"] if c["model"] == model]


@pytest.fixture
def case():
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))


# --- consultations ----------------------------------------------------------------------


def test_a_consultation_is_corrected_with_before_and_after_and_its_copies_follow(case) -> None:
    wrong = consult(case, now=LATER, held_on=date(2026, 1, 10))

    row = services.consultation_correct(
        consultation=wrong,
        actor=case.owner,
        now=LATER,
        reason="Datum falsch eingegeben",
        held_on=date(2026, 1, 12),
        duration_minutes=60,
        notes="Termin beim Jobcenter vorbereitet",
    )

    row.refresh_from_db()
    assert (row.held_on, row.duration_minutes) == (date(2026, 1, 12), 60)
    assert row.notes == "Termin beim Jobcenter vorbereitet"
    for model in (ConsultationTopic, ConsultationParticipant):
        assert set(model.objects.filter(consultation=row).values_list("held_on", flat=True)) == {
            date(2026, 1, 12)
        }
    correction = Correction.objects.get(object_type="consultation", object_id=row.pk)
    assert correction.action == "CORRECTED"
    assert correction.reason == "Datum falsch eingegeben"
    assert correction.before == {"held_on": "2026-01-10", "duration_minutes": 45, "notes": ""}
    assert correction.after["held_on"] == "2026-01-12"
    [event] = _events(case, "cases.consultation.corrected")
    [change] = _changes(event, "cases.consultation")
    assert change["fields"]["held_on"] == {"old": "2026-01-10", "new": "2026-01-12"}
    assert change["fields"]["duration_minutes"] == {"old": 45, "new": 60}
    assert change["fields"]["notes"]["changed"] is True  # client text: a digest only
    assert "Jobcenter" not in str(event.data)


def test_a_cancelled_consultation_no_longer_counts_in_the_kennzahlen(case) -> None:
    wrong = consult(case, now=LATER, held_on=date(2026, 1, 10))
    unit = Unit(UnitKind.MANAGER, case.owner_id, "")
    before = kennzahlen_compute(unit=unit, period=Period.year(2026))["k2_consultations"]

    services.consultation_cancel(
        consultation=wrong, actor=case.owner, now=LATER, reason="Im falschen Fall erfasst"
    )

    wrong.refresh_from_db()
    assert wrong.status == Consultation.Status.CANCELLED
    assert set(
        ConsultationTopic.objects.filter(consultation=wrong).values_list("status", flat=True)
    ) == {"CANCELLED"}
    after = kennzahlen_compute(unit=unit, period=Period.year(2026))["k2_consultations"]
    assert after == before - 1
    [event] = _events(case, "cases.consultation.cancelled")
    assert event.reason == "cancelled"
    assert _changes(event, "cases.consultation")[0]["fields"]["status"] == {
        "old": "COMPLETED",
        "new": "CANCELLED",
    }


def test_a_cancelled_consultation_cannot_be_cancelled_or_corrected_again(case) -> None:
    wrong = consult(case, now=LATER)
    services.consultation_cancel(consultation=wrong, actor=case.owner, now=LATER, reason="doppelt")
    events = AuditEvent.objects.count()

    with pytest.raises(services.GuardFailed) as again:
        services.consultation_cancel(consultation=wrong, actor=case.owner, now=LATER, reason="x")
    with pytest.raises(services.GuardFailed) as corrected:
        services.consultation_correct(
            consultation=wrong, actor=case.owner, now=LATER, reason="x", duration_minutes=30
        )

    assert again.value.code == corrected.value.code == "already_cancelled"
    assert again.value.http_status == 409
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"reason": "", "duration_minutes": 30}, "reason"),
        ({"reason": "x" * 301, "duration_minutes": 30}, "reason"),
        ({"reason": "Tippfehler", "duration_minutes": 0}, "duration_minutes"),
        ({"reason": "Tippfehler", "held_on": "2099-01-01"}, "held_on"),
        ({"reason": "Tippfehler", "topics": []}, "topics"),
        ({"reason": "Tippfehler", "form": "nonsense"}, "form"),
        ({"reason": "Tippfehler", "status": "CANCELLED"}, "status"),
        ({"reason": "Tippfehler", "duration_minutes": 45}, "reason"),  # nothing changed
    ],
)
def test_a_bad_correction_is_400_at_its_field_and_writes_nothing(case, args, field) -> None:
    row = consult(case, now=LATER)
    events = AuditEvent.objects.count()

    with pytest.raises(services.InvalidArguments) as refused:
        services.consultation_correct(consultation=row, actor=case.owner, now=LATER, **args)

    assert refused.value.http_status == 400
    assert field in refused.value.fields
    assert AuditEvent.objects.count() == events
    assert not Correction.objects.exists()


def test_someone_without_the_case_gets_404_and_a_supervisor_403(case) -> None:
    row = consult(case, now=LATER)
    stranger = manager_in(TeamFactory())
    from tests.cases.factories import supervisor_of

    lead = supervisor_of(case.owner.team)

    with pytest.raises(services.CaseNotFound):
        services.consultation_cancel(consultation=row, actor=stranger, now=LATER, reason="x")
    with pytest.raises(services.TransitionForbidden):
        services.consultation_cancel(consultation=row, actor=lead, now=LATER, reason="x")
    with pytest.raises(services.CaseNotFound):
        services.consultation_cancel(consultation=10**12, actor=case.owner, now=LATER, reason="x")
    assert not Correction.objects.exists()


def test_the_trail_still_reproduces_the_case_after_corrections(case) -> None:
    from audit.selectors import case_replay

    row = consult(case, now=LATER)
    services.consultation_correct(
        consultation=row, actor=case.owner, now=LATER, reason="Dauer", duration_minutes=20
    )
    referral = services.referral_record(
        case=case,
        actor=case.owner,
        now=LATER,
        referred_on=LATER.date(),
        target_service="jobcenter",
        mode="APPOINTMENT_ARRANGED",
    )
    services.referral_cancel(referral=referral, actor=case.owner, now=LATER, reason="doppelt")

    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)


# --- referrals ---------------------------------------------------------------------------


def _referral(case, **kwargs):
    return services.referral_record(
        case=case,
        actor=case.owner,
        now=LATER,
        referred_on=kwargs.pop("referred_on", LATER.date()),
        target_service=kwargs.pop("target_service", "jobcenter"),
        mode="APPOINTMENT_ARRANGED",
        **kwargs,
    )


def test_a_referral_is_corrected_and_cancelled_and_leaves_k5(case) -> None:
    referral = _referral(case, organisation="Jobcenter Biberach")
    unit = Unit(UnitKind.MANAGER, case.owner_id, "")

    services.referral_correct(
        referral=referral,
        actor=case.owner,
        now=LATER,
        reason="falsche Stelle",
        target_service="mbe",
        mode="ACCOMPANIED",
    )
    referral.refresh_from_db()
    assert (referral.target_service.key, referral.mode) == ("mbe", "ACCOMPANIED")
    assert kennzahlen_compute(unit=unit, period=Period.year(2026))["k5_referrals"] == 1

    services.referral_cancel(referral=referral, actor=case.owner, now=LATER, reason="doppelt")

    referral.refresh_from_db()
    assert referral.cancelled_at == LATER
    assert kennzahlen_compute(unit=unit, period=Period.year(2026))["k5_referrals"] == 0
    assert [
        e.event_type for e in AuditEvent.objects.filter(object_type="referral").order_by("seq")
    ] == [
        "cases.referral.recorded",
        "cases.referral.corrected",
        "cases.referral.cancelled",
    ]
    with pytest.raises(services.GuardFailed) as refused:
        services.referral_update(referral=referral, actor=case.owner, now=LATER, outcome="TAKEN_UP")
    assert refused.value.code == "already_cancelled"


def test_a_cancelled_pending_referral_does_not_hold_up_the_closing(case) -> None:
    referral = _referral(case)
    services.referral_cancel(referral=referral, actor=case.owner, now=LATER, reason="doppelt")

    assert not Referral.objects.filter(
        case=case, outcome="PENDING", cancelled_at__isnull=True
    ).exists()


# --- assessments ---------------------------------------------------------------------------


def test_an_assessment_is_corrected_per_field_and_cancelled(case) -> None:
    assessment = Assessment.objects.get(case=case)

    services.assessment_correct(
        assessment=assessment,
        actor=case.owner,
        now=LATER,
        reason="Bedarf falsch eingestuft",
        items=[
            {"field_of_action": "language", "need_level": "MEDIUM"},
            {"field_of_action": "work", "need_level": "HIGH"},
        ],
    )

    levels = dict(assessment.items.values_list("field_of_action__key", "need_level"))
    assert levels == {"language": "MEDIUM", "work": "HIGH"}
    correction = Correction.objects.get(object_type="assessment")
    assert correction.before == {"language": "HIGH", "work": None}
    assert correction.after == {"language": "MEDIUM", "work": "HIGH"}
    [event] = _events(case, "cases.assessment.corrected")
    [item_change] = [c for c in _changes(event, "cases.assessmentitem") if c["op"] == "update"]
    assert item_change["fields"]["need_level"] == {"old": "HIGH", "new": "MEDIUM"}

    services.assessment_cancel(assessment=assessment, actor=case.owner, now=LATER, reason="doppelt")
    assessment.refresh_from_db()
    assert assessment.cancelled_at == LATER


# --- goals and steps ------------------------------------------------------------------------


def test_a_goal_of_an_agreed_plan_is_corrected_in_a_new_plan_version(case) -> None:
    plan = IntegrationPlan.objects.get(case=case, status="AGREED")
    goal = plan.goals.get()

    corrected = services.goal_correct(
        goal=goal,
        actor=case.owner,
        now=LATER,
        reason="Zieldatum vertippt",
        target_date=date(2026, 9, 30),
        title="Deutschkurs B1 mit Zertifikat abschließen",
    )

    plan.refresh_from_db()
    assert plan.status == IntegrationPlan.Status.SUPERSEDED
    assert corrected.plan.version == plan.version + 1
    assert corrected.origin_id == goal.pk
    assert corrected.target_date == date(2026, 9, 30)
    goal.refresh_from_db()
    assert goal.target_date != date(2026, 9, 30)  # the agreed version is unchanged
    [event] = _events(case, "cases.goal.corrected")
    assert any(
        c["model"] == "cases.integrationplan" and c["op"] == "create" for c in event.data["changes"]
    )


def test_a_goal_after_the_period_end_is_refused(case) -> None:
    goal = Goal.objects.get(plan__case=case)
    with pytest.raises(services.GuardFailed) as refused:
        services.goal_correct(
            goal=goal, actor=case.owner, now=LATER, reason="x", target_date=date(2035, 1, 1)
        )
    assert refused.value.code == "goal_after_period_end"
    assert IntegrationPlan.objects.filter(case=case).count() == 1


def test_a_step_is_corrected_and_cancelled_in_the_new_version(case) -> None:
    measure = Measure.objects.get(goal__plan__case=case)

    corrected = services.measure_correct(
        measure=measure,
        actor=case.owner,
        now=LATER,
        reason="Wer?",
        responsible="INTEGRATION_MANAGER",
    )
    assert corrected.pk != measure.pk
    assert corrected.responsible == "INTEGRATION_MANAGER"

    cancelled = services.measure_cancel(
        measure=corrected, actor=case.owner, now=LATER, reason="erledigt sich"
    )
    assert cancelled.cancelled_at == LATER
    assert IntegrationPlan.objects.filter(case=case).count() == 3
    goal = services.goal_cancel(
        goal=cancelled.goal, actor=case.owner, now=LATER, reason="kein Ziel"
    )
    assert goal.cancelled_at == LATER


# --- network contacts ---------------------------------------------------------------------


def test_a_network_contact_is_corrected_and_cancelled_and_k6_follows() -> None:
    manager = manager_in(TeamFactory())
    contact = services.network_contact_record(
        actor=manager,
        now=LATER,
        contact_date=LATER.date(),
        category="internal_authorities",
        organisation="Ausländerbehörde",
        format="MEETING",
    )
    unit = Unit(UnitKind.MANAGER, manager.pk, "")

    services.network_contact_correct(
        contact=contact, actor=manager, now=LATER, reason="Format", format="PHONE"
    )
    contact.refresh_from_db()
    assert contact.format == "PHONE"
    figures = kennzahlen_compute(unit=unit, period=Period.year(2026))
    assert figures["k6_network_contacts"] == 1

    services.network_contact_cancel(contact=contact, actor=manager, now=LATER, reason="doppelt")

    assert kennzahlen_compute(unit=unit, period=Period.year(2026))["k6_network_contacts"] == 0
    event = AuditEvent.objects.filter(event_type="cases.network_contact.corrected").get()
    assert event.case_id is None
    assert event.data["changes"] == [{"field": "format", "old": "MEETING", "new": "PHONE"}]
    assert AuditEvent.objects.filter(event_type="cases.network_contact.cancelled").count() == 1


def test_another_managers_network_contact_is_404() -> None:
    team = TeamFactory()
    owner, other = manager_in(team), manager_in(team)
    contact = services.network_contact_record(
        actor=owner,
        now=LATER,
        contact_date=LATER.date(),
        category="internal_authorities",
        organisation="Ausländerbehörde",
        format="MEETING",
    )
    with pytest.raises(services.ApplicationError) as refused:
        services.network_contact_cancel(contact=contact, actor=other, now=LATER, reason="x")
    assert refused.value.http_status == 404
    assert NetworkContact.objects.get().cancelled_at is None


def test_anonymising_the_case_clears_the_reasons_and_texts_of_its_corrections(case) -> None:
    from django.db import transaction

    from cases.services.erasure import case_anonymise

    row = consult(case, now=LATER)
    services.consultation_correct(
        consultation=row, actor=case.owner, now=LATER, reason="Notiz ergänzt", notes="Schulden"
    )

    with transaction.atomic():
        case_anonymise(case=case, now=LATER)

    correction = Correction.objects.get()
    assert (correction.reason, correction.before, correction.after) == ("—", {}, {})
    assert (correction.object_type, correction.object_id) == ("consultation", row.pk)
