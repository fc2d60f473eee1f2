"""K10: the change of need since the first assessment, per field of action
(issue 20), for a manager, a team, a Träger, a Gemeinde, a Kreis, the Land.

A case counts for a field of action when the field was rated at its first
counted needs assessment and again at a later one on or before the end of
the period, the later one inside the period (re-assessed at a plan review,
say); cancelled assessments do not count. The need fell (`improved`),
stayed (`unchanged`) or rose (`worsened`) between the first rating and the
latest one in the period (`cases.needs.need_change`, the same rule as the
case page).

Rows are `{"key", "label", "change", "count"}` (one per field and change,
catalogue order), so the report's small-cell rule applies to them as to
every breakdown. One query.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from cases.models import AssessmentItem, CatalogueEntry
from cases.needs import IMPROVED, UNCHANGED, WORSENED, need_change

CHANGES = (IMPROVED, UNCHANGED, WORSENED)


def needs_change_rows(
    *, cases: Q, start: date, end: date, fields: list[CatalogueEntry]
) -> list[dict[str, Any]]:
    """K10 rows for the cases `cases` selects (a filter on the case,
    reached from the assessment item as `assessment__case__`)."""
    reassessed = AssessmentItem.objects.filter(
        assessment__cancelled_at__isnull=True, assessment__assessed_on__range=(start, end)
    ).values("assessment__case_id")
    items = (
        AssessmentItem.objects.filter(
            cases,
            assessment__cancelled_at__isnull=True,
            assessment__assessed_on__lte=end,
            assessment__case_id__in=reassessed,
        )
        .order_by("assessment__case_id", "assessment__assessed_on", "assessment_id")
        .values_list(
            "assessment__case_id", "assessment__assessed_on", "field_of_action_id", "need_level"
        )
    )
    ratings: dict[tuple[int, int], list[tuple[date, str]]] = {}
    for case_id, day, field_id, level in items:
        ratings.setdefault((case_id, field_id), []).append((day, level))
    counts: dict[tuple[int, str], int] = {}
    for (_case_id, field_id), rated in ratings.items():
        if len(rated) < 2 or rated[-1][0] < start:
            continue
        change = need_change(rated[0][1], rated[-1][1])
        if change is not None:
            counts[(field_id, change)] = counts.get((field_id, change), 0) + 1
    return [
        {
            "key": entry.key,
            "label": entry.label_de,
            "change": change,
            "count": counts.get((entry.pk, change), 0),
        }
        for entry in fields
        if entry.is_active or any(counts.get((entry.pk, c)) for c in CHANGES)
        for change in CHANGES
    ]
