"""Reads of the appointments app.

A manager's week lists the appointments in their own calendar whose case
they may still see (`cases_visible_to`); the week page logs the read of
each case it names. The case page lists the case's appointments. The
calendar feed reads by its secret token and names no client.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment, CalendarFeed
from cases.selectors import cases_visible_to


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def appointments_of_week(*, user: User, monday: date, now: datetime) -> list[Appointment]:
    """The appointments in `user`'s calendar from `monday` for seven days,
    in time order, with their cases and persons (one query)."""
    return list(
        Appointment.objects.filter(
            manager=user,
            starts_at__gte=_local_midnight(monday),
            starts_at__lt=_local_midnight(monday + timedelta(days=7)),
            case__in=cases_visible_to(user=user, now=now),
        )
        .select_related("case__person", "form", "topic")
        .order_by("starts_at", "pk")
    )


def appointments_of_case(*, case: Any) -> list[Appointment]:
    """The case's appointments, the next ones first, then the past ones."""
    return list(
        Appointment.objects.filter(case_id=case.pk)
        .select_related("form", "topic", "manager")
        .order_by("-starts_at", "-pk")
    )


def appointment_of_case(*, case: Any, appointment_id: Any) -> Appointment | None:
    from cases.selectors import parse_pk

    number = parse_pk(appointment_id)
    if number is None:
        return None
    return (
        Appointment.objects.filter(case_id=case.pk, pk=number)
        .select_related("form", "topic", "manager")
        .first()
    )


def calendar_feed_of(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, token__isnull=False).first()


def feed_appointments(*, token: str, now: datetime) -> tuple[User, QuerySet[Appointment]] | None:
    """The feed's owner and their planned and held appointments from 30
    days back (None for an unknown or revoked token). Only the case's
    number is read, never the client."""
    if not token or len(token) > 64:
        return None
    feed = (
        CalendarFeed.objects.filter(token=token, user__is_active=True)
        .select_related("user")
        .first()
    )
    if feed is None:
        return None
    rows = (
        Appointment.objects.filter(
            manager=feed.user,
            starts_at__gte=now - timedelta(days=30),
            case__in=cases_visible_to(user=feed.user, now=now),
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .only("pk", "case_id", "starts_at", "duration_minutes", "status", "created_at")
        .order_by("starts_at", "pk")
    )
    return feed.user, rows
