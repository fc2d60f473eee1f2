"""Reads about background work."""

from __future__ import annotations

from datetime import datetime

from notifications.models import Heartbeat


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
