"""Beat task of the retention sweep (daily)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from dataprotection.services import retention_sweep
from notifications.tasks import _now


@shared_task(name="dataprotection.tasks.retention_sweep_task")
def retention_sweep_task(*, now: str | None = None, **_kwargs: Any) -> dict[str, int]:
    """Anonymise the cases whose retention has elapsed; a second run finds
    nothing left to do (each case is one transaction of its own)."""
    result = retention_sweep(now=_now(now))
    return {
        "anonymised": len(result.anonymised),
        "held": len(result.held),
        "failed": len(result.failed),
    }
