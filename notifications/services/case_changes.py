"""What case changes notify: a handler of `cases.effects`."""

from __future__ import annotations

import logging
from uuid import uuid4

from accounts.models import Role, User
from cases.effects import CaseChange, ChangeKind
from cases.models import ExtensionRequest
from cases.models import ExtensionStatus as ES
from notifications.models import (
    Notification,
    NotificationKind,
)
from notifications.services.outbox import (
    _notification_new,
    notification_enqueue,
)

logger = logging.getLogger("notifications.services")
K = NotificationKind


# --- what case changes notify (a handler of cases.effects) ------------------


def _team_supervisors(owner_id: int) -> list[int]:
    return list(
        User.objects.filter(
            is_active=True,
            role=Role.SUPERVISOR,
            team__members__pk=owner_id,
        ).values_list("pk", flat=True)
    )


_EXTENSION_DECISIONS = {
    ChangeKind.EXTENSION_APPROVED: ES.APPROVED.value,
    ChangeKind.EXTENSION_REJECTED: ES.REJECTED.value,
}


def notifications_for_case_change(change: CaseChange) -> list[Notification]:
    """Write the notifications a case change causes (inside its transaction).

    - a case registered for a manager by someone else: the owner;
    - a transition by the system (a deadline) or by someone other than the
      owner (deputy, supervisor): the owner;
    - an extension request submitted: the supervisors of the owner's team;
      decided: the requester.
    Changes the owner makes themselves notify nobody, nor does a system
    transition fired within their step (`CaseChange.caused_by`). A handler of
    `cases.effects`.
    """
    case, actor, now = change.case, change.actor, change.now
    # A system transition fired within a person's own step counts as theirs.
    by = actor if actor is not None else change.caused_by
    own = by is not None and by.pk == case.owner_id
    if change.kind is ChangeKind.CREATED:
        if own:
            return []
        return notification_enqueue(
            recipients=[case.owner_id],
            kind=K.CASE_ASSIGNED,
            key=f"case:{case.pk}:created",
            case=case,
            now=now,
        )
    if change.kind is ChangeKind.TRANSITION:
        if own:
            return []
        name = change.transition
        notification = _notification_new(
            recipient_id=case.owner_id,
            kind=K.DEADLINE_REACHED if actor is None else K.CASE_CHANGED,
            # Transitions can repeat (pause, resume); each is its own occasion.
            key=f"case:{case.pk}:{name}:{uuid4().hex}",
            case_id=case.pk,
            now=now,
            params={"transition": name, "status": case.status},
        )
        return [notification]
    if change.kind is ChangeKind.EXTENSION_SUBMITTED:
        request = ExtensionRequest.objects.filter(case=case, status=ES.SUBMITTED).first()
        if request is None:
            return []
        return notification_enqueue(
            recipients=[
                pk for pk in _team_supervisors(case.owner_id) if pk != request.requested_by_id
            ],
            kind=K.EXTENSION_SUBMITTED,
            key=f"extension:{request.pk}:submitted",
            case=case,
            now=now,
            params={"request": request.pk},
        )
    if change.kind is ChangeKind.OWNER:
        return _notifications_follow_the_owner(change)
    if change.kind in _EXTENSION_DECISIONS:
        status = _EXTENSION_DECISIONS[change.kind]
        request = ExtensionRequest.objects.filter(case=case, status=status).order_by("-pk").first()
        if request is None:
            return []
        return notification_enqueue(
            recipients=[request.requested_by_id],
            kind=K.EXTENSION_DECIDED,
            key=f"extension:{request.pk}:{status.lower()}",
            case=case,
            now=now,
            params={"request": request.pk, "decision": status},
        )
    return []


def _notifications_follow_the_owner(change: CaseChange) -> list[Notification]:
    """A case changed hands: the previous owner's notifications about it
    move to the new owner (the previous owner no longer sees the case), and
    the new owner is told about the case they took over.

    A notification whose occasion the new owner already has keeps its
    occasion with the previous owner's id appended (the key is unique per
    recipient).
    """
    case, now = change.case, change.now
    previous = change.previous_owner_id
    if previous is not None and previous != case.owner_id:
        taken = set(
            Notification.objects.filter(recipient_id=case.owner_id, case_id=case.pk).values_list(
                "key", flat=True
            )
        )
        moving = Notification.objects.filter(recipient_id=previous, case_id=case.pk)
        for key in moving.filter(key__in=taken).values_list("key", flat=True):
            moving.filter(key=key).update(key=f"{key}:from:{previous}")
        moving.update(recipient_id=case.owner_id)
    actor = change.actor
    if actor is not None and actor.pk == case.owner_id:
        return []
    return notification_enqueue(
        recipients=[case.owner_id],
        kind=K.CASE_ASSIGNED,
        key=f"case:{case.pk}:assigned:{uuid4().hex}",
        case=case,
        now=now,
    )
