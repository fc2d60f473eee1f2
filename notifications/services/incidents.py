"""Heartbeats of the periodic tasks and incidents (work that failed past its retries)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from notifications.models import (
    Delivery,
    Heartbeat,
    Incident,
    Notification,
    NotificationKind,
)
from notifications.services.outbox import (
    _publish_after_commit,
)

logger = logging.getLogger("notifications.services")
K = NotificationKind


def heartbeat_record(*, name: str, worker: str, now: datetime) -> Heartbeat:
    """Record that the periodic task `name` ran on `worker` at `now`.

    Idempotent: a redelivered heartbeat only moves the timestamp.
    """
    heartbeat, _created = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now, "worker": worker[:200]}
    )
    return heartbeat


# --- incidents -------------------------------------------------------------


def incident_record(*, source: str, key: str, error: str, now: datetime) -> Incident:
    """Open an incident for `source`/`key`, or count up the open one."""
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update()
            .filter(source=source, key=key, resolved_at__isnull=True)
            .first()
        )
        if incident is None:
            try:
                with transaction.atomic():
                    incident = Incident.objects.create(
                        source=source, key=key, error=error[:100], first_seen=now, last_seen=now
                    )
            except IntegrityError:  # another worker opened it just now
                return incident_record(source=source, key=key, error=error, now=now)
            logger.error("incident %s %s: %s", source, key, error)
            return incident
        incident.attempts += 1
        incident.error = error[:100]
        incident.last_seen = now
        incident.save(update_fields=["attempts", "error", "last_seen"])
        return incident


def incident_retry(*, incident: Incident, now: datetime) -> Incident:
    """Resolve `incident` and queue its work again (admin action).

    A failed notification goes back to the outbox with a fresh attempt
    count; a failed sweep case is tried again by the next sweep anyway.
    """
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.resolved_at is not None:
            return locked
        if locked.source == "notifications.deliver" and locked.key.startswith("notification:"):
            pk = int(locked.key.split(":", 1)[1])
            Notification.objects.filter(pk=pk, delivery=Delivery.FAILED).update(
                delivery=Delivery.PENDING, attempts=0
            )
        locked.resolved_at = now
        locked.save(update_fields=["resolved_at"])
    _publish_after_commit(relay=True)
    return locked
