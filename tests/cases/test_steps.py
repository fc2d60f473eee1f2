"""Composite services: one domain call per step, all of it or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import case_replay
from cases import services
from cases.demo import ELIGIBLE
from cases.history import case_data_current
from cases.models import Case, CaseStatus, Consent, Consultation, Referral
from tests.cases.factories import T0, journey_to, new_case

pytestmark = pytest.mark.django_db

CONSULTATION: dict[str, Any] = {
    "held_on": timezone.localdate(T0),
    "duration_minutes": 45,
    "form": "office",
    "topics": ["language"],
}


def _case_events(case: Case) -> list[str]:
    return list(
        AuditEvent.objects.filter(case_id=case.pk, event_type__startswith="cases.")
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def test_the_first_consultation_records_consent_consultation_and_transition() -> None:
    case = new_case()

    moved = services.case_first_consultation(
        case=case,
        actor=case.owner,
        now=T0,
        consent={"form": "SIGNED_PAPER", "language": "ar"},
        consultation=CONSULTATION,
        **ELIGIBLE,
    )

    assert moved.status == CaseStatus.INITIAL_COUNSELLING
    assert _case_events(case)[1:] == [
        "cases.consent.recorded",
        "cases.consultation.recorded",
        "cases.case.record_first_consultation",
    ]
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)


def test_a_refused_first_consultation_leaves_no_consent_and_no_consultation() -> None:
    case = new_case()
    events = AuditEvent.objects.count()

    with pytest.raises(services.GuardFailed):
        services.case_first_consultation(
            case=case,
            actor=case.owner,
            now=T0,
            consent={"form": "SIGNED_PAPER", "language": "ar"},
            consultation=CONSULTATION,
            eligibility_basis="NONE",
            benefit_status="asylblg",
        )

    assert not Consent.objects.filter(case=case).exists()
    assert not Consultation.objects.filter(case=case).exists()
    assert AuditEvent.objects.count() == events
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


def test_the_closure_settles_goals_referrals_and_the_final_referral() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    goals = list(services._current_plan(case).goals.all())
    pending = services.referral_record(
        case=case,
        actor=case.owner,
        now=T0,
        referred_on=timezone.localdate(T0),
        target_service="jobcenter",
        mode="APPOINTMENT_ARRANGED",
    )
    services.case_transition(
        case=case.pk, name="start_closing", actor=case.owner, now=T0, ground="CLIENT_REQUEST"
    )

    closed = services.case_close(
        case=case.pk,
        actor=case.owner,
        now=T0,
        closure_reason="goals_achieved",
        goal_statuses={g: "ACHIEVED" for g in goals},
        referral_outcomes={pending: Referral.Outcome.TAKEN_UP},
        final_referral={"target_service": "jobcenter", "mode": "ACCOMPANIED"},
    )

    assert closed.status == CaseStatus.CLOSED
    assert Referral.objects.filter(case=case, is_final=True).count() == 1
    assert not Referral.objects.filter(case=case, outcome=Referral.Outcome.PENDING).exists()
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)
