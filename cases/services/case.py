"""Registering a case and the changes to the case row outside transitions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases import history
from cases.clock import (
    local_date,
)
from cases.effects import CaseChange, ChangeKind, case_changed
from cases.errors import (
    MESSAGES,
    InvalidArguments,
    TransitionForbidden,
    TransitionNotAvailable,
    guard,
)
from cases.models import (
    OPEN_STATES,
    Case,
    CaseStatus,
    IntegrationPlan,
    Person,
)
from cases.selectors import (
    SUPERVISOR,
)
from cases.services.args import (
    _choice_arg,
    _date_arg,
    _full_clean,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _audit,
    _case_for_write,
    _current_plan,
    _require_open,
)


def case_create(
    *,
    person: Person,
    owner: User,
    actor: User,
    now: datetime,
    intake_channel: str,
    programme: str = Case.Programme.BW_IM,
    gemeinde: Any = None,
    household: Any = None,
    anonymous_mode: bool = False,
    handover_accepted_at: datetime | None = None,
) -> Case:
    """Register a case for `person` (T1), owned by the integration manager.

    `handover_accepted_at` registers a handed-over case its owner accepts
    right away (no accept task); only the owner can accept for themselves.
    A manager may register a handed-over, not yet accepted case for a
    colleague of their team, who then gets the accept task.

    Raises TransitionForbidden unless the actor is the owner, a supervisor
    of the owner's team or (handover) a manager of that team, GuardFailed
    `open_case_exists` when the person already has an open case in the
    programme.
    """
    if owner.role != Role.INTEGRATION_MANAGER or not owner.is_active:
        raise InvalidArguments(
            _("Cases are owned by an active integration manager."),
            fields={"owner": [_("Choose an integration manager.")]},
        )
    same_team = bool(actor.team_id) and actor.team_id == owner.team_id
    if not (
        actor.pk == owner.pk
        or (actor.role == Role.SUPERVISOR and same_team)
        or (
            actor.role == Role.INTEGRATION_MANAGER
            and same_team
            and intake_channel == Case.IntakeChannel.HANDOVER_FSA
        )
    ) or (handover_accepted_at is not None and actor.pk != owner.pk):
        raise TransitionForbidden(MESSAGES["forbidden"])
    _choice_arg(intake_channel, Case.IntakeChannel, field_name="intake_channel")
    with transaction.atomic():
        history.begin()
        if Case.objects.filter(
            person=person, programme=programme, status__in=[s.value for s in OPEN_STATES]
        ).exists():
            raise guard("open_case_exists")
        case = Case(
            person=person,
            programme=programme,
            traeger_id=owner.traeger_id,
            gemeinde=gemeinde or person.gemeinde,
            owner=owner,
            intake_channel=intake_channel,
            household=household,
            registered_at=now,
            anonymous_mode=anonymous_mode,
            handover_accepted_at=handover_accepted_at,
        )
        _full_clean(case, exclude=["status"])
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:
            raise guard("open_case_exists") from None
        history.created(case)
        history.created(person, op="snapshot")
        if household is not None:
            # The household and its members as the case finds them.
            history.created(household, op="snapshot")
            for membership in household.memberships.order_by("pk"):
                history.created(membership, op="snapshot")
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type="cases.case.created",
            transition_name="create",
            to_state=case.status,
            reason=intake_channel,
        )
        case_changed(CaseChange(case=case, kind=ChangeKind.CREATED, actor=actor, now=now))
    return case


def case_handover_accept(*, case: Case | int, actor: User, now: datetime) -> Case:
    """Confirm that the integration manager has taken over a handed-over
    case: the handover was read, the client is to be contacted.

    Only for a registered case that came by handover and was not accepted
    yet (409 otherwise). The case keeps its state; the clock does not start.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if (
            locked.status != CaseStatus.REGISTERED
            or locked.intake_channel != Case.IntakeChannel.HANDOVER_FSA
            or locked.handover_accepted_at is not None
        ):
            raise guard("handover_not_open")
        history.update_rows(Case.objects.filter(pk=locked.pk), handover_accepted_at=now)
        locked.handover_accepted_at = now
        _audit(case=locked, actor=actor, now=now, event_type="cases.case.handover_accepted")
        case_changed(
            CaseChange(case=locked, kind=ChangeKind.HANDOVER_ACCEPTED, actor=actor, now=now)
        )
    return locked


def case_review_date_set(
    *, case: Case | int, actor: User, now: datetime, next_review_at: date | str
) -> Case:
    """Move the next review of the agreed Integrationsplan (for example when
    the client asks for another date). The open review timer follows."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if locked.status != CaseStatus.ACTIVE:
            raise guard("transition_not_allowed", TransitionNotAvailable)
        plan = _current_plan(locked)
        if plan is None or plan.status != IntegrationPlan.Status.AGREED:
            raise guard("no_agreed_plan")
        review = _date_arg(next_review_at, field_name="next_review_at")
        today = local_date(now)
        if review <= today:
            raise InvalidArguments(
                _("The next review must lie in the future."),
                fields={"next_review_at": [_("Choose a later date.")]},
            )
        if locked.effective_end and review > locked.effective_end:
            raise InvalidArguments(
                _("The review must lie within the consultation period."),
                fields={"next_review_at": [_("Choose a date before the period ends.")]},
            )
        previous = locked.next_review_at
        history.update_rows(Case.objects.filter(pk=locked.pk), next_review_at=review)
        history.update_rows(IntegrationPlan.objects.filter(pk=plan.pk), next_review_at=review)
        locked.next_review_at = review
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.review_date_changed",
            data={
                "old": previous.isoformat() if previous else None,
                "new": review.isoformat(),
            },
        )
        case_changed(CaseChange(case=locked, kind=ChangeKind.REVIEW_DATE, actor=actor, now=now))
    return locked


def case_owner_change(*, case: Case | int, actor: User, now: datetime, owner: User) -> Case:
    """Hand an open case to another integration manager of the team (a
    supervisor of the case's team, for example when its manager leaves).
    The open tasks of the case follow: its flow restarts for the new owner.

    Raises TransitionForbidden (403), GuardFailed `case_not_open` (409),
    InvalidArguments (400) unless `owner` is another active integration
    manager of the case's team.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(SUPERVISOR,))
        _require_open(locked)
        if (
            owner.role != Role.INTEGRATION_MANAGER
            or not owner.is_active
            or owner.team_id != actor.team_id
            or owner.pk == locked.owner_id
        ):
            raise InvalidArguments(
                _("Cases are owned by an active integration manager."),
                fields={"owner": [_("Choose another integration manager.")]},
            )
        previous = locked.owner_id
        history.update_rows(Case.objects.filter(pk=locked.pk), owner=owner)
        locked.owner = owner
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.owner_changed",
            data={"old_owner_id": previous, "new_owner_id": owner.pk},
        )
        case_changed(
            CaseChange(
                case=locked,
                kind=ChangeKind.OWNER,
                actor=actor,
                now=now,
                previous_owner_id=previous,
            )
        )
    return locked
