"""Plausibility of the dates a person enters about a case, in one place.

Pure functions, no database: every form (and serializer) that takes a
date of the case asks here, so that all of them answer alike and at the
field. A date of something that happened (a consultation, an assessment,
a review talk, a referral) lies neither in the future, nor before the
handover or the client's arrival in the Anschlussunterbringung, nor after
the end of the consultation period. A target date (a goal, the next plan
review) lies neither in the past nor outside the consultation period.

`case_dates` reads the case's own columns (and its person's arrival when
the person is already loaded); the checks take the result and the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class CaseDates:
    today: date
    handed_over: date | None = None  # the day the case was registered
    arrived: date | None = None  # allocation to the Anschlussunterbringung
    period_start: date | None = None
    period_end: date | None = None  # the effective end (extensions included)


def case_dates(case: Any, *, today: date) -> CaseDates:
    """Return the dates of `case` that bound the dates entered about it."""
    person = case._state.fields_cache.get("person") if hasattr(case, "_state") else None
    registered = getattr(case, "registered_at", None)
    return CaseDates(
        today=today,
        handed_over=timezone.localdate(registered) if registered else None,
        arrived=getattr(person, "au_allocation_date", None) if person is not None else None,
        period_start=getattr(case, "consultation_start", None),
        period_end=getattr(case, "effective_end", None),
    )


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def event_date_problem(day: date, dates: CaseDates) -> str | None:
    """Return why `day` cannot be the date of something that happened, or None."""
    if day > dates.today:
        return _("The date lies in the future.")
    if dates.handed_over and day < dates.handed_over:
        return _("The date lies before the handover (%(day)s).") % {"day": _day(dates.handed_over)}
    if dates.arrived and day < dates.arrived:
        return _("The date lies before the arrival in the Anschlussunterbringung (%(day)s).") % {
            "day": _day(dates.arrived)
        }
    if dates.period_end and day > dates.period_end:
        return _("The date lies after the end of the consultation period (%(day)s).") % {
            "day": _day(dates.period_end)
        }
    return None


def target_date_problem(day: date, dates: CaseDates) -> str | None:
    """Return why `day` cannot be a target date (goal, next review), or None."""
    if day < dates.today:
        return _("The date lies in the past.")
    if dates.period_start and day < dates.period_start:
        return _("The date lies before the start of the consultation period (%(day)s).") % {
            "day": _day(dates.period_start)
        }
    if dates.period_end and day > dates.period_end:
        return _("The date lies after the end of the consultation period (%(day)s).") % {
            "day": _day(dates.period_end)
        }
    return None


def past_date_problem(day: date, *, today: date) -> str | None:
    """Return why `day` cannot be a date that has already happened, or None
    (a handover's allocation or consent date, before any case exists)."""
    if day > today:
        return _("The date lies in the future.")
    return None
