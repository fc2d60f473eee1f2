"""Celery tasks of notifications: thin, keyword-only, idempotent.

Every task takes keyword arguments only and accepts unknown ones
(`**_kwargs`), so that messages of an older or newer release are consumed
(RELIABILITY.md C9). `now` may be passed as an ISO timestamp; a task run
twice with the same arguments leaves the same state as run once (C3).
A task that fails past its retries opens an incident (C7).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from notifications import services

HEARTBEAT_NAME = "beat-worker"
SWEEP_HEARTBEAT = "deadline-sweeps"
RELAY_HEARTBEAT = "outbox-relay"
REMINDER_HEARTBEAT = "reminders"


class RecordedTask(Task):
    """Retries on any error, then opens an incident instead of dropping."""

    autoretry_for = (Exception,)
    max_retries = 4
    retry_backoff = 5
    retry_backoff_max = 120
    retry_jitter = True

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        services.incident_record(
            source=f"task.{self.name.rsplit('.', 1)[-1]}",
            key=str(task_id)[:100],
            error=type(exc).__name__,
            now=timezone.now(),
        )


def _now(now: str | None) -> datetime:
    if not now:
        return timezone.now()
    moment = datetime.fromisoformat(now)
    if timezone.is_naive(moment):
        raise ValueError("now must carry a time zone")
    return moment


@shared_task(bind=True, ignore_result=True)
def heartbeat_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> None:
    """Record that beat scheduled and a worker executed this task."""
    services.heartbeat_record(
        name=HEARTBEAT_NAME, worker=self.request.hostname or "", now=_now(now)
    )


@shared_task(base=RecordedTask, bind=True, ignore_result=True)
def notification_deliver_task(
    self: Any, *, notification_ids: list[int], now: str | None = None, **_kwargs: Any
) -> int:
    """Deliver the named outbox rows that are still pending (after commit)."""
    return services.notifications_deliver(notification_ids=notification_ids, now=_now(now))


@shared_task(base=RecordedTask, bind=True, ignore_result=True)
def notifications_relay_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> int:
    """Deliver everything left in the outbox (beat, and after sweeps)."""
    moment = _now(now)
    done = services.notifications_relay(now=moment)
    services.heartbeat_record(name=RELAY_HEARTBEAT, worker=self.request.hostname or "", now=moment)
    return done


@shared_task(base=RecordedTask, bind=True, ignore_result=True)
def reminders_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> int:
    """Write the reminders due now (each occasion once), then relay them."""
    moment = _now(now)
    created = services.reminders_run(now=moment)
    services.heartbeat_record(
        name=REMINDER_HEARTBEAT, worker=self.request.hostname or "", now=moment
    )
    return created


@shared_task(base=RecordedTask, bind=True, ignore_result=True)
def deadline_sweeps_task(
    self: Any,
    *,
    now: str | None = None,
    names: list[str] | None = None,
    shard: int = 0,
    shards: int = 1,
    **_kwargs: Any,
) -> dict[str, int]:
    """Run the deadline sweeps (period expired, no-show, no contact), over
    the cases of `shard` of `shards` (beat sends one message per shard)."""
    moment = _now(now)
    done = {}
    for name in names or services.SWEEPS:
        done[name] = services.deadline_sweep(name=name, now=moment, shard=shard, shards=shards).done
    services.heartbeat_record(name=SWEEP_HEARTBEAT, worker=self.request.hostname or "", now=moment)
    return done


@shared_task(base=RecordedTask, bind=True, ignore_result=True)
def digests_task(
    self: Any, *, day: str | None = None, now: str | None = None, **_kwargs: Any
) -> int:
    """Send the daily digests of `day` (default: today in Berlin)."""
    moment = _now(now)
    return services.digests_send(
        day=date.fromisoformat(day) if day else timezone.localdate(moment), now=moment
    )


AUDIT_ANCHOR_HEARTBEAT = "audit-anchor"


@shared_task(base=RecordedTask, bind=True, ignore_result=True)
def audit_anchor_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> str:
    """Write a signed anchor of the audit trail (audit.anchors) and note
    that it ran; a second run with nothing new writes an anchor with the
    same counts and no changed chain."""
    from audit.anchors import audit_anchor_write

    moment = _now(now)
    path = audit_anchor_write(now=moment)
    services.heartbeat_record(
        name=AUDIT_ANCHOR_HEARTBEAT, worker=self.request.hostname or "", now=moment
    )
    return path.name
