"""Composite services: one domain call for a step a person takes in one go.

Each runs the aggregate services it combines in one transaction, in the
order the step needs; each of those writes its own audit event, and a
refusal of any of them rolls the whole step back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from cases.clock import local_date
from cases.models import Case, Consent, Goal, Referral
from cases.services.consents import consent_record
from cases.services.consultations import assessment_record, consultation_record
from cases.services.plans import goal_update
from cases.services.referrals import referral_record, referral_update
from cases.services.transitions import case_transition


def case_first_consultation(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    consultation: Mapping[str, Any],
    eligibility_basis: str,
    benefit_status: str,
    consent: Mapping[str, Any] | None = None,
) -> Case:
    """Record the first consultation and the eligibility check (T2): the
    case-processing consent given in it (`consent`: `consent_record`'s
    `form`, `language`, ...; None when one is already active), the
    consultation (`consultation_record`'s arguments) and the transition
    `record_first_consultation` that starts the consultation period."""
    with transaction.atomic():
        if consent is not None:
            consent_record(
                case=case, actor=actor, now=now, scope=Consent.Scope.CASE_PROCESSING, **consent
            )
        row = consultation_record(case=case, actor=actor, now=now, **consultation)
        return case_transition(
            case=case,
            name="record_first_consultation",
            actor=actor,
            now=now,
            consultation_id=row.pk,
            eligibility_basis=eligibility_basis,
            benefit_status=benefit_status,
        )


def case_close(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    closure_reason: str,
    no_further_need: bool = False,
    goal_statuses: Mapping[Goal, str] | None = None,
    referral_outcomes: Mapping[Referral, str] | None = None,
    final_referral: Mapping[str, Any] | None = None,
    outcome_date: date | None = None,
) -> Case:
    """Close the case (T13) with what its closure settles: the final status
    of each open goal (`goal_statuses`), the outcome of each pending
    referral (`referral_outcomes`, dated `outcome_date`, default today),
    the final referral to a regular service (`final_referral`:
    `referral_record`'s `target_service`, `mode`, `organisation`; taken up
    today), then the transition `close`."""
    day = outcome_date or local_date(now)
    with transaction.atomic():
        for goal, status in (goal_statuses or {}).items():
            goal_update(goal=goal, actor=actor, now=now, status=status)
        for referral, outcome in (referral_outcomes or {}).items():
            referral_update(
                referral=referral, actor=actor, now=now, outcome=outcome, outcome_date=day
            )
        if final_referral:
            referral_record(
                case=case,
                actor=actor,
                now=now,
                referred_on=day,
                is_final=True,
                outcome=Referral.Outcome.TAKEN_UP,
                **final_referral,
            )
        return case_transition(
            case=case,
            name="close",
            actor=actor,
            now=now,
            closure_reason=closure_reason,
            no_further_need=no_further_need,
        )


def case_resume(
    *, case: Case | int, actor: User, now: datetime, consultation: Mapping[str, Any]
) -> Case:
    """Resume a dormant case (T9) with the consultation that brought the
    client back (`consultation_record`'s arguments)."""
    with transaction.atomic():
        consultation_record(case=case, actor=actor, now=now, **consultation)
        return case_transition(case=case, name="resume", actor=actor, now=now)


def case_reopen(
    *, case: Case | int, actor: User, now: datetime, consultation: Mapping[str, Any], reason: str
) -> Case:
    """Reopen a closed case (T15) with the consultation held since."""
    with transaction.atomic():
        consultation_record(case=case, actor=actor, now=now, **consultation)
        return case_transition(case=case, name="reopen", actor=actor, now=now, reason=reason)


def case_assessment_to_plan(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    assessed_on: date | str,
    items: list[dict[str, Any]],
) -> Case:
    """Record the needs assessment and move on to drafting the
    Integrationsplan (T5)."""
    with transaction.atomic():
        assessment_record(case=case, actor=actor, now=now, assessed_on=assessed_on, items=items)
        return case_transition(case=case, name="draft_plan", actor=actor, now=now)
