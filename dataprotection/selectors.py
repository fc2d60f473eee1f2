"""Reads of the data protection officer: the archive of restricted cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from cases.clock import retention_deadline
from cases.models import Case
from cases.selectors import restricted_q


@dataclass(frozen=True)
class ArchivedCase:
    case: Case
    ended_on: date | None
    anonymised_after: date | None


def archived_cases(*, traeger_id: int, now: datetime, limit: int = 500) -> list[ArchivedCase]:
    """Return the restricted cases of one Träger (closed or rejected and no
    longer reopenable), oldest retention deadline first: ids, states and
    dates only, no content."""
    today = timezone.localdate(now)
    cases = (
        Case.objects.filter(restricted_q(today=today), traeger_id=traeger_id)
        .select_related("closure_reason")
        .only(
            "pk",
            "status",
            "legal_hold",
            "closed_at",
            "eligibility_checked_at",
            "registered_at",
            "rejection_reason",
            "closure_reason__key",
            "closure_reason__label_de",
            "closure_reason__label_en",
        )
        .order_by("closed_at", "registered_at", "pk")[:limit]
    )
    rows = []
    for case in cases:
        ended = case.closed_at or case.eligibility_checked_at or case.registered_at
        rows.append(
            ArchivedCase(
                case=case,
                ended_on=timezone.localdate(ended) if ended else None,
                anonymised_after=retention_deadline(case),
            )
        )
    return sorted(rows, key=lambda row: (row.anonymised_after or date.max, row.case.pk))


# Most persons a name lookup lists; a longer list asks for more of the name.
LOOKUP_LIMIT = 20


def persons_lookup(*, traeger_id: int, query: str) -> list[Any]:
    """Return the persons of one Träger a data protection officer may mean
    by `query`: its number, or every word of it in the family or given
    names (case-insensitive), at most LOOKUP_LIMIT + 1, by name."""
    from django.db.models import Q

    from cases.models import Person
    from cases.selectors import parse_pk

    persons = Person.objects.filter(traeger_id=traeger_id)
    number = parse_pk(query)
    if number is not None:
        return list(persons.filter(pk=number))
    persons = persons.filter(anonymised_at__isnull=True)
    words = query.split()
    if not words:
        return []
    for word in words:
        persons = persons.filter(Q(family_name__icontains=word) | Q(given_names__icontains=word))
    return list(
        persons.prefetch_related("cases").order_by("family_name", "given_names", "pk")[
            : LOOKUP_LIMIT + 1
        ]
    )
