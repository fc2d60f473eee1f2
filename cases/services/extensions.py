"""Extension requests: their own small FSM, decided under four eyes."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.clock import (
    extended_end_for,
    local_date,
)
from cases.effects import CaseChange, ChangeKind, case_changed
from cases.errors import (
    MESSAGES,
    AlreadyDecided,
    ExtensionRequestNotFound,
    InvalidArguments,
    PeriodAlreadyExtended,
    SelfApproval,
    guard,
)
from cases.models import (
    CLOCK_STATES,
    Case,
    Catalogue,
    Consent,
    ExtensionRequest,
    ExtensionStatus,
)
from cases.person_clock import person_extension
from cases.selectors import (
    SUPERVISOR,
    CaseNotFound,
    case_relations,
)
from cases.services.args import (
    _entry,
    _text_arg,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _active_consent,
    _audit,
    _case_for_write,
    _lock_case,
    _require,
    _save,
)
from cases.services.transitions import case_transition

ART9_REASONS = ("mental_illness", "chronic_illness", "disability")


def extension_request_submit(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    reason: str,
    months: int,
    justification: str,
) -> ExtensionRequest:
    """Create and submit an extension request (draft -> submitted).

    Guards: the case is open and its clock runs, today is on or before
    the effective end (a request in time keeps the case open until it is
    decided: the period-end sweep waits), the person has not used their
    one extension (in any case, or known from elsewhere), reason and
    months are valid, a justification is given, and reasons about health
    need an active Art. 9 consent.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        today = local_date(now)
        entry = _entry(Catalogue.EXTENSION_REASON, reason, field_name="reason", day=today)
        try:
            months_value = int(months)
        except (TypeError, ValueError):
            months_value = 0
        if not 1 <= months_value <= 12:
            raise InvalidArguments(
                _("An extension is 1 to 12 months."),
                fields={"months": [_("Between 1 and 12.")]},
            )
        text = _text_arg(justification, field_name="justification", max_length=5000)
        if locked.status not in CLOCK_STATES:
            raise guard("case_not_open")
        if locked.regular_end is None or locked.effective_end is None:
            raise guard("period_not_started")
        if today > locked.effective_end:
            raise guard("period_ended")
        # One extension per person, across all their cases (DOMAIN.md §5).
        if person_extension(locked.person_id) is not None:
            raise guard("period_already_extended", PeriodAlreadyExtended)
        if ExtensionRequest.objects.filter(
            case=locked, status__in=[ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED]
        ).exists():
            raise guard("request_open")
        if entry.key in ART9_REASONS and not _active_consent(
            locked, Consent.Scope.SPECIAL_CATEGORIES_ART9, now
        ):
            raise guard("art9_consent_missing")
        request = ExtensionRequest.objects.create(
            case=locked,
            reason=entry,
            justification=text,
            months=months_value,
            requested_by=actor,
            created_at=now,
        )
        request.submit(at=now)
        _save(request, ["status", "submitted_at"], expected_status=ExtensionStatus.DRAFT)
        history.created(request)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.extension_request.submitted",
            obj=request,
            transition_name="submit",
            from_state=ExtensionStatus.DRAFT,
            to_state=request.status,
            reason=entry.key,
            data={"months": months_value},
        )
        case_changed(
            CaseChange(
                case=locked,
                kind=ChangeKind.EXTENSION_SUBMITTED,
                actor=actor,
                now=now,
                transition="submit",
            )
        )
    return request


def _lock_request(
    *, request: ExtensionRequest | int, actor: User, now: datetime
) -> tuple[Case, ExtensionRequest]:
    """Lock the case row, then the request row (the project's lock order)."""
    request_pk = request.pk if isinstance(request, ExtensionRequest) else request
    case_id = (
        ExtensionRequest.objects.filter(pk=request_pk).values_list("case_id", flat=True).first()
    )
    if case_id is None:
        raise ExtensionRequestNotFound(_("This extension request does not exist."))
    try:
        locked_case = _lock_case(case=case_id, actor=actor, now=now)
    except CaseNotFound:
        raise ExtensionRequestNotFound(_("This extension request does not exist.")) from None
    queryset = ExtensionRequest.objects.all()
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update()
    return locked_case, queryset.get(pk=request_pk)


def _decide(
    *, request: ExtensionRequest | int, actor: User, now: datetime, note: str, approve: bool
) -> ExtensionRequest:
    with transaction.atomic():
        case, row = _lock_request(request=request, actor=actor, now=now)
        if row.status != ExtensionStatus.SUBMITTED:
            raise AlreadyDecided(MESSAGES["already_decided"])
        if row.requested_by_id == actor.pk:
            raise guard("self_approval", SelfApproval)
        _require(case_relations(user=actor, case=case, now=now), (SUPERVISOR,))
        from_state = row.status
        before = history.values_of(row)
        if approve:
            if person_extension(case.person_id) is not None:
                raise guard("period_already_extended", PeriodAlreadyExtended)
            if case.status not in CLOCK_STATES or case.regular_end is None:
                raise guard("case_not_open")
            new_end = extended_end_for(
                start=case.consultation_start, regular_end=case.regular_end, months=row.months
            )
            row.approve(by=actor, at=now, note=note, effective_end=new_end)
            _save(
                row,
                ["status", "decided_by", "decided_at", "decision_note", "resulting_effective_end"],
                expected_status=from_state,
            )
            history.updated(row, before)
            history.update_rows(Case.objects.filter(pk=case.pk), effective_end=new_end)
            case.effective_end = new_end
            data = {"months": row.months, "effective_end": new_end.isoformat()}
        else:
            row.reject(by=actor, at=now, note=note)
            _save(
                row,
                ["status", "decided_by", "decided_at", "decision_note"],
                expected_status=from_state,
            )
            history.updated(row, before)
            data = {"months": row.months}
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type=f"cases.extension_request.{row.status.lower()}",
            obj=row,
            transition_name="approve" if approve else "reject",
            from_state=from_state,
            to_state=row.status,
            reason=row.reason.key,
            data=data,
        )
        kind = ChangeKind.EXTENSION_APPROVED if approve else ChangeKind.EXTENSION_REJECTED
        case_changed(
            CaseChange(
                case=case,
                kind=kind,
                actor=actor,
                now=now,
                transition="approve" if approve else "reject",
            )
        )
        if not approve and _period_over(case, now):
            # The period-end sweep waited for this decision: the case
            # starts closing at once (T11, as the system, its own event).
            case_transition(case=case.pk, name="period_expired", actor=None, now=now)
    return row


def _period_over(case: Case, now: datetime) -> bool:
    return (
        case.status in CLOCK_STATES
        and case.effective_end is not None
        and local_date(now) > case.effective_end
    )


def extension_request_approve(
    *, request: ExtensionRequest | int, actor: User, now: datetime, note: str = ""
) -> ExtensionRequest:
    """Approve as a supervisor of the case's team; never one's own request.

    Raises AlreadyDecided, SelfApproval, PeriodAlreadyExtended (409),
    TransitionForbidden (403), ExtensionRequestNotFound (404).
    """
    return _decide(request=request, actor=actor, now=now, note=note, approve=True)


def extension_request_reject(
    *, request: ExtensionRequest | int, actor: User, now: datetime, note: str
) -> ExtensionRequest:
    """Reject as a supervisor of the case's team, with a note."""
    _text_arg(note, field_name="note", max_length=5000)
    return _decide(request=request, actor=actor, now=now, note=note, approve=False)


def extension_request_withdraw(
    *, request: ExtensionRequest | int, actor: User, now: datetime
) -> ExtensionRequest:
    """Withdraw an undecided request (its requester or the case owner)."""
    with transaction.atomic():
        case, row = _lock_request(request=request, actor=actor, now=now)
        _require(case_relations(user=actor, case=case, now=now), CONTENT_WRITERS)
        if row.status not in (ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED):
            raise AlreadyDecided(MESSAGES["already_decided"])
        from_state = row.status
        before = history.values_of(row)
        row.withdraw(at=now)
        _save(row, ["status", "decided_at"], expected_status=from_state)
        history.updated(row, before)
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type="cases.extension_request.withdrawn",
            obj=row,
            transition_name="withdraw",
            from_state=from_state,
            to_state=row.status,
            reason=row.reason.key,
        )
        case_changed(
            CaseChange(
                case=case,
                kind=ChangeKind.EXTENSION_WITHDRAWN,
                actor=actor,
                now=now,
                transition="withdraw",
            )
        )
    return row
