"""Voluntariness and data protection of a case (DOMAIN.md §14.2, §14.5):
the transfer consent, anonymous counselling, the legal hold and the erasure
at once after a withdrawal where consent was the only legal basis."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.errors import InvalidArguments, guard
from cases.models import Case, CaseStatus, Consent, Consultation, IntegrationPlan, Person
from cases.selectors import DPO, OWNER
from cases.services.base import (
    _active_consent,
    _audit,
    _case_for_write,
    _lock_case,
    _save,
)
from cases.services.erasure import case_anonymise

logger = logging.getLogger(__name__)

# A written referral or a closure for these reasons passes data on (T13).
TRANSFER_SCOPES = (Consent.Scope.TRANSFER_TO_RECIPIENT, Consent.Scope.HANDOVER_OUT)
TRANSFER_CLOSURE_REASONS = ("moved_away", "transferred")


def has_transfer_consent(case: Case, now: datetime) -> bool:
    """True when the person has an active consent to pass data on."""
    return any(_active_consent(case, scope, now) for scope in TRANSFER_SCOPES)


def require_transfer_consent(case: Case, now: datetime) -> None:
    """Raise 409 `transfer_consent_missing` unless data may be passed on."""
    if not has_transfer_consent(case, now):
        raise guard("transfer_consent_missing")


def case_anonymous_mode_set(*, case: Case | int, actor: User, now: datetime) -> Case:
    """Switch a registered case to anonymous counselling (DOMAIN.md §14.2):
    short counselling without a stored identity, counted in K1/K2 by its
    case token, form and topic.

    Only the owner, only while the case is registered (no first consultation,
    no plan) and no consent of the person is on record: anonymous
    counselling replaces the consent, it does not hide a consented case.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(OWNER,))
        if (
            locked.anonymous_mode
            or locked.status != CaseStatus.REGISTERED
            or IntegrationPlan.objects.filter(case=locked).exists()
            or Consent.objects.filter(person_id=locked.person_id).exists()
            or Consultation.objects.filter(case=locked).exclude(notes="").exists()
        ):
            raise guard("anonymous_not_allowed")
        before = history.values_of(locked)
        locked.anonymous_mode = True
        _save(locked, ["anonymous_mode"], expected_status=locked.status)
        history.updated(locked, before)
        if not Case.objects.filter(person_id=locked.person_id).exclude(pk=locked.pk).exists():
            # No stored identity: only what the figures need stays (sex,
            # birth year for the age band, nationality group, Gemeinde).
            person = Person.objects.get(pk=locked.person_id)
            born = person.date_of_birth
            history.update_rows(
                Person.objects.filter(pk=person.pk),
                family_name=f"{_('Anonymous')} #{locked.pk}",
                given_names="",
                date_of_birth=born.replace(month=1, day=1) if born else None,
                date_of_birth_approximate=born is not None,
                phone="",
                address="",
                languages="",
            )
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.anonymous_mode_set",
            reason="anonymous_mode",
        )
    return locked


def case_legal_hold_set(
    *, case: Case | int, actor: User, now: datetime, hold: bool, reason: str = ""
) -> Case:
    """Set or lift the legal hold of a case (DPO only): while it holds,
    neither the retention sweep nor an erasure after a withdrawal deletes
    anything. Setting needs a reason; the audit event keeps it."""
    text = str(reason or "").strip()
    if hold and not text:
        raise InvalidArguments(
            _("A legal hold needs a reason."),
            fields={"reason": [_("This field is required.")]},
        )
    if len(text) > 300:
        raise InvalidArguments(
            _("The reason is too long."), fields={"reason": [_("At most 300 characters.")]}
        )
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(DPO,))
        if locked.legal_hold == bool(hold):
            raise guard("legal_hold_unchanged")
        before = history.values_of(locked)
        locked.legal_hold = bool(hold)
        _save(locked, ["legal_hold"], expected_status=locked.status)
        history.updated(locked, before)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.legal_hold_set" if hold else "cases.case.legal_hold_lifted",
            reason=text,
        )
    return locked


def _erasable_after_withdrawal(case: Case) -> bool:
    """Consent was the only legal basis: the case was closed because the
    processing consent was withdrawn and nothing (a legal hold) requires
    keeping it."""
    return (
        case.status == CaseStatus.CLOSED
        and case.closure_reason is not None
        and case.closure_reason.key == "consent_withdrawn"
        and not case.legal_hold
        and not Consent.objects.filter(
            person_id=case.person_id,
            scope=Consent.Scope.CASE_PROCESSING,
            withdrawn_at__isnull=True,
        ).exists()
    )


def case_erase_after_withdrawal(*, case: Case | int, actor: User | None, now: datetime) -> Case:
    """Erase a case at once whose processing consent was withdrawn and which
    rested on that consent only (DOMAIN.md §14.5, Art. 17 DSGVO).

    Keeps what proof and statistics need, as the retention erasure does:
    ids, dates and codes (consultations still count in K1/K2 by form and
    topic), the consent records with their codes (Art. 7(1)). Refused (409)
    on legal hold (`legal_hold`) or for another case (`erasure_not_allowed`).
    `actor` None is the system right after the withdrawal; a DPO or the
    owner may trigger it again.
    """
    with transaction.atomic():
        if actor is None:
            locked = _lock_case(case=case, actor=None, now=now)
        else:
            locked = _case_for_write(case=case, actor=actor, now=now, who=(OWNER, DPO))
        if locked.legal_hold:
            raise guard("legal_hold")
        if not _erasable_after_withdrawal(locked):
            raise guard("erasure_not_allowed")
        before = history.values_of(locked)
        locked.retention_elapsed(at=now)
        _save(locked, ["status", "deleted_at"], expected_status=CaseStatus.CLOSED)
        history.updated(locked, before)
        case_anonymise(case=locked, now=now)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.erased_after_withdrawal",
            transition_name="retention_elapsed",
            from_state=CaseStatus.CLOSED,
            to_state=locked.status,
            reason="consent_withdrawn",
        )
    return locked


def erase_after_withdrawal_quietly(*, case_pk: int, now: datetime) -> None:
    """Run right after a withdrawal has committed: erase where consent was
    the only basis, as the system (the closed case is archived even for its
    owner); a case that must be kept (legal hold) stays, and the DPO can
    erase it later from the data protection page."""
    from cases.errors import GuardFailed

    try:
        case_erase_after_withdrawal(case=case_pk, actor=None, now=now)
    except GuardFailed:
        logger.info("erasure after withdrawal: case %s kept", case_pk)


__all__ = [
    "TRANSFER_CLOSURE_REASONS",
    "case_anonymous_mode_set",
    "case_erase_after_withdrawal",
    "case_legal_hold_set",
    "erase_after_withdrawal_quietly",
    "has_transfer_consent",
    "require_transfer_consent",
]
