"""The caseload import in the Celery worker (big files take a while):
thin, keyword-only, idempotent (RELIABILITY.md C3, C9)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from notifications.tasks import RecordedTask, _now


@shared_task(name="caseload.imports_run", bind=True, base=RecordedTask, ignore_result=True)
def caseload_imports_run_task(self: Any, *, now: str | None = None, **_kwargs: Any) -> int:
    """Run the waiting caseload uploads (beat, every LOTSE_RELAY_SECONDS);
    a run is claimed once, whoever claims it first."""
    from caseload.services import caseload_imports_run

    return caseload_imports_run(now=_now(now))
