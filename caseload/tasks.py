"""The caseload import in the Celery worker (big files take a while)."""

from typing import Any

from celery import shared_task


@shared_task(name="caseload.import")
def caseload_import_task(run_id: int) -> Any:
    from caseload.services import caseload_import_run

    return caseload_import_run(run_id=run_id).status
