"""Large handover files run in the worker, with progress (issue 22 finding 3).

A file up to LOTSE_IMPORT_INLINE_MAX_BYTES is imported in the request, as
before. A larger one becomes an `ImportJob`: the request stores the file and
returns at once (it never talks to the broker, like every request); the
worker's `import_jobs_run_task`, sent by beat every LOTSE_RELAY_SECONDS,
claims waiting jobs and runs `handover_import` within
LOTSE_IMPORT_TIME_LIMIT_SECONDS, writing its phase and row count as it goes.
The archive check before parsing bounds its memory (handover.limits). The
result (the same report as in the request) stays on the job for its sender;
the file is dropped when the job ends. With eager tasks (tests, a shell)
the job runs right after the commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from time import monotonic

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import User
from config.errors import ApplicationError
from handover.models import ImportJob
from handover.services.common import ImportInvalid
from handover.services.imports import (
    ImportReport,
    ImportTimedOut,
    handover_import,
    import_watched,
)
from handover.services.lifecycle import _require_sender

# A running job not finished this long after its time bound lost its worker.
STALE_AFTER_BOUND = timedelta(minutes=5)
PROGRESS_EVERY_SECONDS = 0.5


def handover_import_submit(
    *, actor: User, now: datetime, content: bytes, filename: str, dry_run: bool
) -> ImportReport | ImportJob:
    """Import a small file at once (its report), queue a large one (its job).

    A file over the upload limit is refused by `handover_import` itself with
    the usual report, so it is never queued.
    """
    _require_sender(actor)
    small = len(content) <= settings.LOTSE_IMPORT_INLINE_MAX_BYTES
    if small or len(content) > settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES:
        return handover_import(
            actor=actor, now=now, content=content, filename=filename, dry_run=dry_run
        )
    job = ImportJob.objects.create(
        id=uuid.uuid4(),
        submitted_by=actor,
        filename=filename[:255],
        content=content,
        dry_run=dry_run,
        created_at=now,
    )
    if current_app.conf.task_always_eager:
        job_id = job.pk
        transaction.on_commit(lambda: import_job_run(job_id=job_id, now=now))
    return job


def _finish(job_id: uuid.UUID, *, status: str, now: datetime, **values: object) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=status, finished_at=now, content=None, **values
    )


def import_job_run(*, job_id: uuid.UUID, now: datetime) -> bool:
    """Run one waiting job; False when another worker has it (or it ended)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=now, phase=ImportJob.Phase.READING
    )
    if not claimed:
        return False
    job = ImportJob.objects.select_related("submitted_by").get(pk=job_id)
    written = [0.0, ""]

    def progress(phase: str, done: int, total: int) -> None:
        # Committed at once (the import checks outside its transaction), at
        # most twice a second, and at every change of phase.
        if phase == written[1] and monotonic() - float(written[0]) < PROGRESS_EVERY_SECONDS:
            return
        written[:] = [monotonic(), phase]
        ImportJob.objects.filter(pk=job_id).update(phase=phase, rows_done=done, rows_total=total)

    seconds = settings.LOTSE_IMPORT_TIME_LIMIT_SECONDS
    try:
        with import_watched(progress, seconds=seconds):
            report = handover_import(
                actor=job.submitted_by,
                now=now,
                content=bytes(job.content or b""),
                filename=job.filename,
                dry_run=job.dry_run,
            )
    except ImportInvalid as error:
        _finish(
            job_id,
            status=ImportJob.Status.FAILED,
            now=now,
            report=error.report.as_dict(),
            message=str(error.message)[:500],
        )
    except ImportTimedOut:
        message = gettext(
            "The file took longer than %(n)d seconds to check; nothing was saved. "
            "Split it into smaller files."
        ) % {"n": seconds}
        _finish(job_id, status=ImportJob.Status.FAILED, now=now, message=message)
    except ApplicationError as error:  # the sender lost the role meanwhile
        _finish(job_id, status=ImportJob.Status.FAILED, now=now, message=str(error.message)[:500])
    else:
        _finish(job_id, status=ImportJob.Status.DONE, now=now, report=report.as_dict())
    return True


def import_jobs_run(*, now: datetime) -> int:
    """Run every waiting job, oldest first; fail jobs whose worker died."""
    stale = now - timedelta(seconds=settings.LOTSE_IMPORT_TIME_LIMIT_SECONDS) - STALE_AFTER_BOUND
    ImportJob.objects.filter(status=ImportJob.Status.RUNNING, started_at__lt=stale).update(
        status=ImportJob.Status.FAILED,
        finished_at=now,
        content=None,
        message=gettext(
            "The handover import stopped unexpectedly; nothing was saved. Upload the file again."
        ),
    )
    waiting = ImportJob.objects.filter(status=ImportJob.Status.QUEUED).order_by("created_at")
    return sum(import_job_run(job_id=pk, now=now) for pk in waiting.values_list("pk", flat=True))
