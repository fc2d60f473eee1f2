"""Beat task of the retention sweep (daily)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from dataprotection.services import retention_sweep


@shared_task(name="dataprotection.tasks.retention_sweep_task")
def retention_sweep_task() -> dict[str, int]:
    result = retention_sweep(now=timezone.now())
    return {
        "anonymised": len(result.anonymised),
        "held": len(result.held),
        "failed": len(result.failed),
    }
