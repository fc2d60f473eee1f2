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
from cases.errors import MESSAGES, TransitionNotAvailable, guard
from cases.models import Case, CaseStatus, Consent, Goal, Referral
from cases.person_clock import person_clock
from cases.services.base import _lock_case
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


def case_final_referral_talk(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    consultation: Mapping[str, Any],
    eligibility_basis: str,
    benefit_status: str,
    final_referral: Mapping[str, Any] | None,
    no_further_need: bool = False,
    consent: Mapping[str, Any] | None = None,
) -> Case:
    """The talk for the final referral of a registered case whose person's
    consultation period is already over (a new case after an earlier one,
    or a start known from elsewhere; DOMAIN.md §5: the period belongs to
    the person and is not restarted), from the talk to the closure:

    1. the case-processing consent given in the talk (`consent`, as in
       `case_first_consultation`; None when one is already active);
    2. the talk itself, `consultation_record(final_referral=True)`: the
       only consultation allowed after the end of the period;
    3. T2 `record_first_consultation`: the case joins the person's period
       (start and end carried over, so it is over at once);
    4. T11 `period_expired`, fired by the system (its actor) as the
       nightly sweep would fire it: the period is over (`caused_by` the
       actor, so the owner is not notified of their own step);
    5. the final referral to a regular service (`final_referral`:
       `referral_record`'s `target_service`, `mode`, `organisation`; taken
       up today) or `no_further_need`, and T13 `close` with the closure
       reason `period_expired` (`case_close`).

    Refused with 409 `transition_not_allowed` unless the case is
    registered, 409 `period_not_expired` while the person's period runs
    (then the ordinary first consultation applies). Each step writes its
    own audit event; a refusal of any rolls the whole step back.
    """
    with transaction.atomic():
        locked = _lock_case(case=case, actor=actor, now=now)
        if locked.status != CaseStatus.REGISTERED:
            raise TransitionNotAvailable(MESSAGES["transition_not_allowed"])
        if not person_clock(person=locked.person_id, today=local_date(now)).expired:
            raise guard("period_not_expired")
        pk = locked.pk  # each step below moves the case: they lock it afresh
        case_first_consultation(
            case=pk,
            actor=actor,
            now=now,
            consultation={**consultation, "final_referral": True},
            eligibility_basis=eligibility_basis,
            benefit_status=benefit_status,
            consent=consent,
        )
        case_transition(case=pk, name="period_expired", actor=None, now=now, caused_by=actor)
        return case_close(
            case=pk,
            actor=actor,
            now=now,
            closure_reason="period_expired",
            no_further_need=no_further_need,
            final_referral=final_referral,
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
