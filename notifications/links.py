"""Where a notification leads on screen, for the user who reads it.

A notification outlives what it points at: another team accepts the
handover, a case is closed and restricted, a case passes to a colleague.
Its link must then not answer 404: the row is shown without a link and
says why. E-mails keep `services.notification_link` (absolute, written
once); the screens ask here.

The handover app registers how to tell which handovers a user may still
open (`register_visibility`), as the audit app's task titles are
registered: notifications sit below the handover app and import nothing
of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.selectors import cases_visible_to
from notifications.models import Notification, NotificationKind
from notifications.selectors import notification_text

# kind of target -> (user, ids) -> the ids the user may open
VisibleIds = Callable[[Any, set[int]], set[int]]
_VISIBILITY: dict[str, VisibleIds] = {}

GONE_HANDOVER = _(
    "The handover is no longer open to you: it was accepted by another team, returned or withdrawn."
)
GONE_CASE = _(
    "The case is no longer open to you: it was closed, passed to a colleague or "
    "its retention period ended."
)


def register_visibility(kind: str, visible_ids: VisibleIds) -> None:
    """Register how to tell which objects of `kind` a user may open."""
    _VISIBILITY[kind] = visible_ids


@dataclass(frozen=True)
class ScreenNotification:
    notification: Notification
    text: str
    link: str  # a path on this site, or "" when the target is gone
    note: str  # why there is no link

    def __iter__(self) -> Any:
        # (notification, text, link) as the templates unpack the rows
        return iter((self.notification, self.text, self.link))


def _handover_id(notification: Notification) -> int | None:
    value = (notification.params or {}).get("handover")
    return value if isinstance(value, int) else None


def screen_notifications(
    *, user: Any, notifications: Iterable[Notification], now: datetime
) -> list[ScreenNotification]:
    """Return the notifications with a link each that answers for `user`."""
    rows = list(notifications)
    handover_ids = {h for n in rows if (h := _handover_id(n)) is not None}
    case_ids = {n.case_id for n in rows if n.case_id and _handover_id(n) is None}
    open_handovers = (
        _VISIBILITY["handover"](user, handover_ids)
        if handover_ids and "handover" in _VISIBILITY
        else set()
    )
    open_cases = (
        set(
            cases_visible_to(user=user, now=now)
            .filter(pk__in=case_ids)
            .values_list("pk", flat=True)
        )
        if case_ids
        else set()
    )
    result = []
    for n in rows:
        handover = _handover_id(n)
        link, note = "", ""
        if handover is not None:
            if (n.params or {}).get("count", 1) > 1:
                link = reverse("handover:list")  # one notice for a whole import
            elif handover in open_handovers:
                link = reverse("handover:detail", args=[handover])
            else:
                note = str(GONE_HANDOVER)
        elif n.case_id:
            if n.case_id in open_cases:
                link = reverse("cases:detail", args=[n.case_id])
                referral = (n.params or {}).get("referral")
                if n.kind == NotificationKind.REFERRAL_PENDING and isinstance(referral, int):
                    # The outcome is recorded in one step from the reminder.
                    link = reverse("cases:referral_outcome", args=[n.case_id, referral])
            else:
                note = str(GONE_CASE)
        result.append(ScreenNotification(n, notification_text(n), link, note))
    return result
