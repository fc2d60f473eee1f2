"""Reads about notifications and background work.

A user sees only their own notifications; another user's is a 404. The
texts are built from the kind and the row's ids, codes and dates, so no
client content is ever stored in or sent from a notification.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from config.errors import NotFound
from notifications.models import Heartbeat, Incident, Notification, NotificationKind

K = NotificationKind


class NotificationNotFound(NotFound):
    default_code = "not_found"


def heartbeat_status(*, name: str, now: datetime, max_age_seconds: int) -> dict[str, object]:
    """Return whether beat and worker have been seen within `max_age_seconds`."""
    heartbeat = Heartbeat.objects.filter(name=name).order_by("pk").first()
    if heartbeat is None:
        return {"status": "unknown", "last_beat_at": None, "age_seconds": None}
    age = (now - heartbeat.beat_at).total_seconds()
    return {
        "status": "ok" if age <= max_age_seconds else "stale",
        "last_beat_at": heartbeat.beat_at.isoformat(),
        "age_seconds": round(age, 1),
        "worker": heartbeat.worker,
    }


def open_incident_count() -> int:
    return Incident.objects.filter(resolved_at__isnull=True).count()


def notifications_of(*, user: Any) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def unread_count(*, user: Any) -> int:
    return notifications_of(user=user).filter(read_at__isnull=True).count()


def notification_get_for_user(
    *, user: Any, notification_id: Any, for_update: bool = False
) -> Notification:
    from cases.selectors import parse_pk

    number = parse_pk(notification_id)
    rows = notifications_of(user=user)
    if for_update:
        rows = rows.select_for_update()
    notification = None if number is None else rows.filter(pk=number).first()
    if notification is None:
        raise NotificationNotFound(_("This notification does not exist."))
    return notification


def _date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return ""


def case_reference(case_id: int | None) -> str:
    return _("case %(number)s") % {"number": case_id} if case_id else ""


def notification_text(notification: Notification) -> str:
    """The one-line German text of a notification (ids and dates only)."""
    p = notification.params or {}
    values = {
        "case": case_reference(notification.case_id),
        "date": _date(p.get("date", "")),
        "days": p.get("days", ""),
        "handover": p.get("handover", ""),
        "time": p.get("time", ""),
    }
    texts = {
        K.CASE_ASSIGNED: _("New %(case)s was registered for you."),
        K.CASE_CHANGED: _("Your %(case)s was changed by a deputy or your supervisor."),
        K.DEADLINE_REACHED: _("A deadline in %(case)s has passed; the case moved on."),
        K.REVIEW_DUE_SOON: _("The plan review of %(case)s is due on %(date)s."),
        K.REVIEW_OVERDUE: _("The plan review of %(case)s is overdue since %(date)s."),
        K.REVIEW_ESCALATED: _(
            "The plan review of %(case)s in your team is overdue since %(date)s."
        ),
        K.PERIOD_ENDING: _(
            "The consultation period of %(case)s ends on %(date)s (in at most %(days)s days)."
        ),
        K.NO_CONTACT_NOTICE: _(
            "No consultation in dormant %(case)s: on %(date)s it moves to closing"
            " unless a consultation is recorded by then."
        ),
        K.EXTENSION_SUBMITTED: _("An extension request for %(case)s waits for your decision."),
        K.EXTENSION_WAITING: _("An extension request for %(case)s is still undecided."),
        K.EXTENSION_DECIDED: _("Your extension request for %(case)s was decided."),
        K.DEPUTY_TASK: _("A task in %(case)s waits for you as deputy."),
        K.HANDOVER_SUBMITTED: _("A new handover (no. %(handover)s) arrived for your Gemeinde."),
        K.REFERRAL_PENDING: _(
            "The referral of %(case)s from %(date)s has no outcome yet: please record it."
        ),
        K.APPOINTMENT_REMINDER: _("Appointment in %(case)s on %(date)s at %(time)s."),
    }
    if notification.kind == K.HANDOVER_SUBMITTED and p.get("count", 1) > 1:
        values["count"] = p["count"]
        texts[K.HANDOVER_SUBMITTED] = _(
            "%(count)s new handovers (from no. %(handover)s) arrived for your Gemeinde."
        )
    if notification.kind == K.EXTENSION_WAITING and p.get("escalated"):
        texts[K.EXTENSION_WAITING] = _(
            "The extension request for %(case)s is still undecided %(days)s days after the "
            "consultation period ended on %(date)s: please decide it."
        )
    elif notification.kind == K.EXTENSION_WAITING and p.get("period_ended"):
        texts[K.EXTENSION_WAITING] = _(
            "The consultation period of %(case)s ended on %(date)s; the case stays open until "
            "its extension request is decided."
        )
    text = texts.get(notification.kind)
    return str(text % values) if text else notification.kind
