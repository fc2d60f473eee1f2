"""Celery tasks of the appointments app (beat: `appointment-sweep`): thin,
keyword-only, idempotent (RELIABILITY.md C3, C9)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from appointments.services import appointments_sweep
from notifications.tasks import RecordedTask, _now


@shared_task(bind=True, base=RecordedTask, ignore_result=True)
def appointment_sweep_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> dict[str, int]:
    """Reminders before appointments, no-shows after them (each once)."""
    return appointments_sweep(now=_now(now))
