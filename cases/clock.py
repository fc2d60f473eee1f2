"""The date rules of the case domain, pure functions of their arguments.

The consultation period, the no-contact deadline and the retention period.
Selectors, flows and services import them from here; they write nothing.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from cases.models import Case


def add_months(day: date, months: int) -> date:
    """Return `day` moved by `months`, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def regular_end_for(start: date) -> date:
    """Return the last day of the three-year period starting on `start`."""
    return add_months(start, 36) - timedelta(days=1)


def latest_end_for(start: date) -> date:
    """Return the last day any extension may reach (four years)."""
    return add_months(start, 48) - timedelta(days=1)


def extended_end_for(*, start: date, regular_end: date, months: int) -> date:
    return min(
        add_months(regular_end + timedelta(days=1), months) - timedelta(days=1),
        latest_end_for(start),
    )


def start_of_day(day: date) -> datetime:
    """Return midnight at the start of `day` in Lotse's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_date(now: datetime) -> date:
    """Return the calendar day of `now` in Lotse's time zone (Europe/Berlin)."""
    return timezone.localdate(now)


def no_contact_timeout_on(
    *, paused_at: datetime | None, last_consultation: date | None
) -> date | None:
    """Return the day from which `no_contact_timeout` may move a dormant
    case: LOTSE_NO_CONTACT_MONTHS after its last completed consultation or
    its pause, whichever is later (None: neither is known)."""
    paused_on = local_date(paused_at) if paused_at else None
    known = [day for day in (last_consultation, paused_on) if day]
    return add_months(max(known), settings.LOTSE_NO_CONTACT_MONTHS) if known else None


def retention_deadline(case: Case) -> date | None:
    """Return the last day a closed or rejected case is kept."""
    ended = case.closed_at or case.eligibility_checked_at or case.registered_at
    if ended is None:
        return None
    return date(local_date(ended).year + settings.LOTSE_RETENTION_YEARS, 12, 31)
