"""The person's consultation period (DOMAIN.md §5: the clock belongs to the
person, not the case): one read that every case of the person shares.

The start is the earliest of
- the start of any of the person's cases (`Case.consultation_start`, set by
  the first consultation, T2: the person's earliest completed consultation
  that counts) in any Träger or Gemeinde of this installation, and
- a start known from elsewhere (`PersonClockFact.first_consultation_on`,
  kept as `Person.prior_consultation_start`).

The extension is the person's one extension: an approved extension request
of any of their cases, or one known from elsewhere (a clock fact). The
effective end is the regular end moved by that extension, never beyond four
years after the start (`cases.clock.extended_end_for`).

The same person across cases is the same `Person` row (docs/ARCHITECTURE.md,
"The person's clock").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Min

from cases.clock import extended_end_for, regular_end_for
from cases.models import (
    Case,
    ExtensionRequest,
    ExtensionStatus,
    Person,
    PersonClockFact,
)


@dataclass(frozen=True)
class PersonClock:
    """The person's period as of `today`; all None before it starts."""

    start: date | None
    regular_end: date | None
    extension_months: int | None
    extension_source: str  # "request" (approved in Lotse), a fact source, or ""
    effective_end: date | None
    days_left: int | None  # days from today to the effective end, 0 once it is over
    expired: bool

    @property
    def started(self) -> bool:
        return self.start is not None

    @property
    def extension_used(self) -> bool:
        return self.extension_months is not None


def _person_pk(person: Person | int) -> int:
    return person.pk if isinstance(person, Person) else int(person)


def person_clock_start(person: Person | int) -> date | None:
    """The earliest known start of the person's period (None: not started)."""
    pk = _person_pk(person)
    starts = [
        Person.objects.filter(pk=pk).values_list("prior_consultation_start", flat=True).first(),
        Case.objects.filter(person_id=pk).aggregate(first=Min("consultation_start"))["first"],
        PersonClockFact.objects.filter(person_id=pk).aggregate(first=Min("first_consultation_on"))[
            "first"
        ],
    ]
    known = [day for day in starts if day is not None]
    return min(known) if known else None


def person_extension(person: Person | int) -> tuple[int, str] | None:
    """The person's one extension as (months, source), or None."""
    pk = _person_pk(person)
    approved = (
        ExtensionRequest.objects.filter(case__person_id=pk, status=ExtensionStatus.APPROVED)
        .order_by("decided_at", "pk")
        .values_list("months", flat=True)
        .first()
    )
    if approved is not None:
        return approved, "request"
    fact = (
        PersonClockFact.objects.filter(person_id=pk, extension_months__isnull=False)
        .values_list("extension_months", "source")
        .first()
    )
    if fact is None or fact[0] is None:
        return None
    return int(fact[0]), str(fact[1])


def clock_for(*, start: date | None, extension: tuple[int, str] | None, today: date) -> PersonClock:
    """The clock of a start and an extension (pure)."""
    if start is None:
        return PersonClock(None, None, None, "", None, None, False)
    regular_end = regular_end_for(start)
    months, source = extension if extension else (None, "")
    effective_end = (
        extended_end_for(start=start, regular_end=regular_end, months=months)
        if months
        else regular_end
    )
    days_left = max((effective_end - today).days, 0)
    return PersonClock(
        start=start,
        regular_end=regular_end,
        extension_months=months,
        extension_source=source,
        effective_end=effective_end,
        days_left=days_left,
        expired=today > effective_end,
    )


def person_clock(*, person: Person | int, today: date, start: date | None = None) -> PersonClock:
    """Return the person's clock as of `today`.

    `start` adds a candidate start (the first consultation of a case about
    to start): the earlier of it and the known start wins.
    """
    known = person_clock_start(person)
    if start is not None:
        known = start if known is None else min(known, start)
    return clock_for(start=known, extension=person_extension(person), today=today)
