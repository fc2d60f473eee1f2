"""Celery is configured for at-least-once work and a database heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from notifications.models import Heartbeat
from notifications.selectors import heartbeat_status
from notifications.tasks import HEARTBEAT_NAME, heartbeat_task


def test_tasks_are_acknowledged_late_and_requeued_when_a_worker_dies() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_beat_schedules_the_heartbeat() -> None:
    entry = app.conf.beat_schedule["heartbeat"]

    assert entry["task"] == "notifications.tasks.heartbeat_task"
    assert entry["schedule"] == timedelta(seconds=30)
    assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_heartbeat_task_twice_keeps_one_row() -> None:
    heartbeat_task.delay()
    heartbeat_task.delay()

    assert Heartbeat.objects.filter(name=HEARTBEAT_NAME).count() == 1


@pytest.mark.django_db
def test_heartbeat_goes_stale_after_three_periods() -> None:
    now = timezone.now()
    Heartbeat.objects.create(name=HEARTBEAT_NAME, beat_at=now - timedelta(seconds=91))

    status = heartbeat_status(name=HEARTBEAT_NAME, now=now, max_age_seconds=90)

    assert (status["status"], status["age_seconds"]) == ("stale", 91.0)
