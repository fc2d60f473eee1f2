"""The caseload import in the Celery worker (big files take a while)."""

from typing import Any

from celery import shared_task
from django.utils import timezone


@shared_task(name="caseload.imports_run", ignore_result=True)
def caseload_imports_run_task(**_kwargs: Any) -> int:
    """Run the waiting caseload uploads (beat, every LOTSE_RELAY_SECONDS)."""
    from caseload.services import caseload_imports_run

    return caseload_imports_run(now=timezone.now())
