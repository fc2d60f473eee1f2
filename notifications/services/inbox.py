"""The user's in-app inbox and mail preference."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from notifications.models import (
    EmailMode,
    Notification,
    NotificationKind,
    NotificationPreference,
)

logger = logging.getLogger("notifications.services")
K = NotificationKind


# --- inbox -----------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id: Any, now: datetime) -> Notification:
    """Mark the user's own notification read (idempotent); another user's
    notification does not exist for them (NotificationNotFound, 404)."""
    from notifications.selectors import notification_get_for_user

    with transaction.atomic():
        notification = notification_get_for_user(
            user=user, notification_id=notification_id, for_update=True
        )
        if notification.read_at is None:
            notification.read_at = now
            notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User, now: datetime) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


def preference_set(*, user: User, email_mode: str, now: datetime) -> NotificationPreference:
    """Choose immediate mails or a daily digest (ValueError on other input)."""
    if email_mode not in EmailMode.values:
        raise ValueError(email_mode)
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_mode": email_mode, "updated_at": now}
    )
    return preference
