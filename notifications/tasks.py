"""Celery tasks of notifications: thin, keyword-only, idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from notifications import services

HEARTBEAT_NAME = "beat-worker"


@shared_task(bind=True, ignore_result=True)
def heartbeat_task(self: Any, **_kwargs: Any) -> None:
    """Record that beat scheduled and a worker executed this task."""
    services.heartbeat_record(
        name=HEARTBEAT_NAME, worker=self.request.hostname or "", now=timezone.now()
    )
