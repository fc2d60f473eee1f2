"""Celery tasks of the appointments app (beat: `appointment-sweep`)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from appointments.services import appointments_sweep


@shared_task(ignore_result=True)
def appointment_sweep_task() -> dict[str, int]:
    """Reminders before appointments, no-shows after them."""
    return appointments_sweep(now=timezone.now())
