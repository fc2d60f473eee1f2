"""Issue 22 finding 3: a large handover file is read by the worker, within a
time bound, with its progress shown; a small one still in the request."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from celery import current_app
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from handover import services
from handover.models import Handover, ImportJob
from handover.services import import_jobs
from tests.cases.factories import T0
from tests.handover.factories import World, world
from tests.handover.test_import import _named, csv_bytes, good_rows, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_inline(settings) -> None:
    """Every test file here counts as large."""
    settings.LOTSE_IMPORT_INLINE_MAX_BYTES = 10


@pytest.fixture
def not_eager():
    app = current_app._get_current_object()
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = True


def many_rows(w: World, n: int) -> bytes:
    return csv_bytes(
        [
            row(
                w,
                external_reference=f"R-{i}",
                date_of_birth=(date(1950, 1, 1) + timedelta(days=i)).isoformat(),
            )
            for i in range(n)
        ]
    )


def queued_job(w: World | None = None, content: bytes | None = None) -> ImportJob:
    """A large file waiting for the worker (as a request leaves it)."""
    w = w or world()
    app = current_app._get_current_object()
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("django.conf.settings.LOTSE_IMPORT_INLINE_MAX_BYTES", 10)
            job = services.handover_import_submit(
                actor=w.gu,
                now=T0,
                content=content or csv_bytes(good_rows(w)),
                filename="gross.csv",
                dry_run=False,
            )
    finally:
        app.conf.task_always_eager = eager
    assert isinstance(job, ImportJob)
    return job


def test_a_small_file_is_still_imported_in_the_request() -> None:
    w = world()
    result = services.handover_import_submit(
        actor=w.gu, now=T0, content=csv_bytes(good_rows(w)), filename="u.csv", dry_run=False
    )
    assert not isinstance(result, ImportJob)
    assert Handover.objects.count() == 2
    assert ImportJob.objects.count() == 0


def test_a_large_file_waits_for_the_worker_and_the_request_publishes_nothing(
    small_inline, not_eager, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    w = world()
    sent: list[Any] = []
    monkeypatch.setattr(
        "handover.tasks.import_jobs_run_task.apply_async", lambda *a, **k: sent.append(k)
    )
    client = APIClient()
    client.force_authenticate(w.gu)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/handovers/import/",
            {"file": _named(csv_bytes(good_rows(w)), "u.csv")},
            format="multipart",
        )

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["report"], body["rows_done"]) == ("queued", None, 0)
    assert sent == []  # nothing went to the broker from the request
    assert Handover.objects.count() == 0

    assert services.import_jobs_run(now=T0) == 1  # the worker (beat's task)
    assert services.import_jobs_run(now=T0) == 0  # a job runs once

    done = client.get(f"/api/v1/handovers/import/{body['id']}/").json()
    assert done["status"] == "done"
    assert done["phase"] == "saving"
    assert done["rows_done"] == done["rows_total"] == 2
    assert [h["external_reference"] for h in done["report"]["handovers"]] == ["R-1", "R-2"]
    assert Handover.objects.count() == 2
    assert AuditEvent.objects.filter(event_type="handover.handover.created").count() == 2
    assert ImportJob.objects.get().content is None  # the file is dropped


def test_a_bad_large_file_fails_with_its_row_by_row_report(small_inline) -> None:
    w = world()
    bad = csv_bytes([row(w), row(w, external_reference="R-2", au_allocation_date="gestern")])
    job = queued_job(w, bad)

    services.import_jobs_run(now=T0)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.message.endswith("Nichts wurde gespeichert.")
    assert {e["line"] for e in job.report["errors"]} == {3}
    assert any(e["field"] == "au_allocation_date" for e in job.report["errors"])
    assert Handover.objects.count() == 0


def test_the_time_bound_stops_a_long_import_and_saves_nothing(settings) -> None:
    w = world()
    job = queued_job(w)
    settings.LOTSE_IMPORT_TIME_LIMIT_SECONDS = 0

    services.import_jobs_run(now=T0)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "0" in job.message
    assert job.report is None
    assert job.content is None
    assert Handover.objects.count() == 0


def test_a_job_whose_worker_died_is_failed_and_a_new_one_runs(settings) -> None:
    w = world()
    stuck = queued_job(w)
    ImportJob.objects.filter(pk=stuck.pk).update(status=ImportJob.Status.RUNNING, started_at=T0)
    later = T0 + timedelta(seconds=settings.LOTSE_IMPORT_TIME_LIMIT_SECONDS) + timedelta(hours=1)

    services.import_jobs_run(now=later)

    stuck.refresh_from_db()
    assert stuck.status == ImportJob.Status.FAILED
    assert stuck.message


def test_only_the_sender_sees_the_job(small_inline) -> None:
    w = world()
    job = queued_job(w)
    api = APIClient()
    for user in (w.manager, w.supervisor):
        api.force_authenticate(user)
        assert api.get(f"/api/v1/handovers/import/{job.pk}/").status_code == 404
    api.force_authenticate(w.gu)
    assert api.get(f"/api/v1/handovers/import/{uuid.uuid4()}/").status_code == 404
    assert api.get("/api/v1/handovers/import/kein-import/").status_code == 404
    assert api.get(f"/api/v1/handovers/import/{job.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_while_the_worker_checks(small_inline, monkeypatch) -> None:
    w = world()
    job = queued_job(w, many_rows(w, 450))
    seen: list[tuple[str, int, int, bool]] = []

    def watch(phase: str, done: int, total: int) -> None:
        seen.append((phase, done, total, connection.in_atomic_block))

    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY_SECONDS", 0)
    real_watched = import_jobs.import_watched

    def spy(report: Any, *, seconds: float) -> Any:
        def both(phase: str, done: int, total: int) -> None:
            watch(phase, done, total)
            report(phase, done, total)

        return real_watched(both, seconds=seconds)

    monkeypatch.setattr(import_jobs, "import_watched", spy)

    services.import_jobs_run(now=T0)

    job.refresh_from_db()
    assert (job.status, job.message) == (ImportJob.Status.DONE, "")
    phases = [s[0] for s in seen]
    assert phases[0] == "READING"
    assert "CHECKING" in phases
    assert phases[-1] == "SAVING"
    assert ("READING", 200, 0, False) in seen
    assert ("CHECKING", 200, 450, False) in seen
    assert not any(in_atomic for *_, in_atomic in seen)  # others see it at once
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
    assert Handover.objects.count() == 450


def test_the_browser_follows_a_large_import_to_its_report(
    small_inline, django_capture_on_commit_callbacks
) -> None:
    w = world()
    browser = Client()
    browser.force_login(w.gu)

    with django_capture_on_commit_callbacks(execute=True):  # eager: runs after commit
        response = browser.post(
            "/uebergaben/import/",
            {"file": _named(csv_bytes(good_rows(w)), "u.csv"), "dry_run": "on"},
        )

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/uebergaben/import/{job.pk}/"
    page = browser.get(response["Location"]).content.decode()
    assert "Probelauf" in page or "probelauf" in page.lower()
    assert "R-1" in page
    assert "R-2" in page
    assert 'http-equiv="refresh"' not in page  # ended: no more reloading
    assert Handover.objects.count() == 0  # a dry run saves nothing

    other = Client()
    other.force_login(w.manager)
    assert other.get(response["Location"]).status_code == 404


def test_a_waiting_job_page_reloads_itself_and_shows_its_progress(small_inline) -> None:
    w = world()
    job = queued_job(w)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, phase=ImportJob.Phase.CHECKING, rows_done=1, rows_total=2
    )
    browser = Client()
    browser.force_login(w.gu)

    page = browser.get(f"/uebergaben/import/{job.pk}/").content.decode()

    assert 'http-equiv="refresh"' in page
    assert '<progress value="1" max="2">' in page
