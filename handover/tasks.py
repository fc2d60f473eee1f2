"""Celery tasks of the handover: thin, keyword-only, idempotent (C3, C9)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from handover import services
from notifications.tasks import RecordedTask, _now


@shared_task(bind=True, base=RecordedTask, ignore_result=True)
def import_jobs_run_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> int:
    """Run the waiting import jobs of large handover files (beat, every
    LOTSE_RELAY_SECONDS); a job runs once, whoever claims it first."""
    return services.import_jobs_run(now=_now(now))
