"""/healthz shows a stopped relay, sweep or reminder pass and open incidents (C7, C8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services, tasks

pytestmark = pytest.mark.django_db


def test_healthz_names_each_periodic_job_and_open_incidents(client, settings) -> None:
    now = timezone.now()
    services.heartbeat_record(name=tasks.RELAY_HEARTBEAT, worker="w1", now=now)
    late = now - timedelta(seconds=2 * settings.LOTSE_SWEEP_SECONDS + 61)
    services.heartbeat_record(name=tasks.SWEEP_HEARTBEAT, worker="w1", now=late)
    services.incident_record(source="sweep.period_expired", key="case:1", error="E", now=now)

    body = client.get("/healthz").json()

    jobs = body["periodic_jobs"]
    assert jobs[tasks.RELAY_HEARTBEAT]["status"] == "ok"
    assert jobs[tasks.SWEEP_HEARTBEAT]["status"] == "stale"
    assert jobs[tasks.REMINDER_HEARTBEAT]["status"] == "unknown"
    assert body["incidents"] == {"open": 1}
    assert body["status"] == "ok"  # web requests still work; the outbox waits


def test_the_sweep_task_records_its_heartbeat(client) -> None:
    tasks.deadline_sweeps_task.apply(kwargs={}).get()

    body = client.get("/healthz").json()

    assert body["periodic_jobs"][tasks.SWEEP_HEARTBEAT]["status"] == "ok"
