"""Referrals to regular services."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from accounts.models import User
from cases import history
from cases.clock import (
    local_date,
)
from cases.errors import MESSAGES, GuardFailed
from cases.models import (
    Case,
    Catalogue,
    Referral,
)
from cases.services.args import (
    _choice_arg,
    _date_arg,
    _entry,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _audit,
    _case_for_write,
    _require_open,
)
from cases.services.privacy import require_transfer_consent


def referral_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    referred_on: date | str,
    target_service: str,
    mode: str,
    topic: str | None = None,
    is_final: bool = False,
    organisation: str = "",
    outcome: str = Referral.Outcome.PENDING,
) -> Referral:
    """Record a referral to a regular service (final at closure)."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        day = _date_arg(referred_on, field_name="referred_on")
        chosen_mode = _choice_arg(mode, Referral.Mode, field_name="mode")
        if chosen_mode == Referral.Mode.WRITTEN_REFERRAL:
            # A written referral passes the person's data on (DOMAIN.md §14.2).
            require_transfer_consent(locked, now)
        referral = Referral.objects.create(
            case=locked,
            referred_on=day,
            target_service=_entry(
                Catalogue.REFERRAL_TARGET, target_service, field_name="target_service", day=day
            ),
            topic=_entry(Catalogue.CONSULTATION_TOPIC, topic, field_name="topic", day=day)
            if topic
            else None,
            mode=chosen_mode,
            is_final=bool(is_final),
            organisation=organisation[:200],
            outcome=_choice_arg(outcome, Referral.Outcome, field_name="outcome"),
            outcome_date=day if outcome != Referral.Outcome.PENDING else None,
            recorded_by=actor,
        )
        history.created(referral)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.referral.recorded",
            obj=referral,
            reason=target_service,
            data={"is_final": referral.is_final},
        )
    return referral


def referral_update(
    *,
    referral: Referral,
    actor: User,
    now: datetime,
    outcome: str,
    outcome_date: date | str | None = None,
    is_final: bool | None = None,
) -> Referral:
    """Record a referral's outcome."""
    with transaction.atomic():
        locked = _case_for_write(case=referral.case_id, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        row = Referral.objects.select_for_update().get(pk=referral.pk)
        if row.cancelled_at is not None:
            raise GuardFailed(MESSAGES["already_cancelled"], code="already_cancelled")
        before = history.values_of(row)
        row.outcome = _choice_arg(outcome, Referral.Outcome, field_name="outcome")
        row.outcome_date = _date_arg(
            outcome_date, field_name="outcome_date", default=local_date(now)
        )
        if is_final is not None:
            row.is_final = is_final
        row.save(update_fields=["outcome", "outcome_date", "is_final"])
        history.updated(row, before)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.referral.updated",
            obj=row,
            reason=row.outcome,
        )
    return row
