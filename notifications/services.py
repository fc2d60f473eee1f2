"""Writes for background-work bookkeeping."""

from __future__ import annotations

from datetime import datetime

from notifications.models import Heartbeat


def heartbeat_record(*, name: str, worker: str, now: datetime) -> Heartbeat:
    """Record that the periodic task `name` ran on `worker` at `now`.

    Idempotent: a redelivered heartbeat only moves the timestamp.
    """
    heartbeat, _created = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now, "worker": worker[:200]}
    )
    return heartbeat
