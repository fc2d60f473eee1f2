"""The needs assessment over time: each field of action's need level at
every assessment of a case (the first one, the re-assessments at plan
reviews), and the change since the first (issue 20).

A need falls (`improved`), stays or rises (`worsened`) between the first
and the latest assessment that rated the field; cancelled assessments do
not count. `reports.needs` counts the same change per unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from cases.models import Assessment, AssessmentItem, Case, Catalogue, CatalogueEntry, NeedLevel

LEVELS = {NeedLevel.NONE: 0, NeedLevel.LOW: 1, NeedLevel.MEDIUM: 2, NeedLevel.HIGH: 3}
IMPROVED, UNCHANGED, WORSENED = "improved", "unchanged", "worsened"
CHANGE_LABELS = {
    IMPROVED: _("need fell"),
    UNCHANGED: _("need unchanged"),
    WORSENED: _("need rose"),
}


def need_change(first: str | None, latest: str | None) -> str | None:
    """The change of a field's need between two levels (None if one is missing)."""
    if first not in LEVELS or latest not in LEVELS:
        return None
    delta = LEVELS[latest] - LEVELS[first]  # type: ignore[index]
    return IMPROVED if delta < 0 else WORSENED if delta > 0 else UNCHANGED


@dataclass(frozen=True)
class NeedRow:
    field: CatalogueEntry
    levels: list[AssessmentItem | None]  # one per assessment, oldest first
    first: str | None
    latest: str | None
    change: str | None

    @property
    def change_label(self) -> Any:
        return CHANGE_LABELS.get(self.change or "", "")


@dataclass(frozen=True)
class NeedsHistory:
    assessments: list[Assessment]  # the counted ones, oldest first
    rows: list[NeedRow]


def needs_history(*, case: Case, assessments: list[Assessment] | None = None) -> NeedsHistory:
    """The case's counted assessments and, per field of action, its level
    at each and the change since the first (two queries; none when the
    caller passes the case's assessments with their items, as the case
    page does from its chronology)."""
    if assessments is None:
        assessments = list(
            Assessment.objects.filter(case_id=case.pk)
            .select_related("plan_review")
            .prefetch_related(
                Prefetch("items", queryset=AssessmentItem.objects.select_related("field_of_action"))
            )
        )
    assessments = sorted(
        (a for a in assessments if a.cancelled_at is None), key=lambda a: (a.assessed_on, a.pk)
    )
    fields: dict[int, CatalogueEntry] = {}
    for assessment in assessments:
        for item in assessment.items.all():
            fields[item.field_of_action_id] = item.field_of_action
    rows = []
    for field_id, entry in sorted(fields.items(), key=lambda kv: (kv[1].order, kv[1].key)):
        levels = [
            next((i for i in a.items.all() if i.field_of_action_id == field_id), None)
            for a in assessments
        ]
        rated = [item.need_level for item in levels if item is not None]
        first, latest = (rated[0], rated[-1]) if rated else (None, None)
        rows.append(
            NeedRow(
                field=entry,
                levels=levels,
                first=first,
                latest=latest,
                change=need_change(first, latest) if len(rated) > 1 else None,
            )
        )
    return NeedsHistory(assessments=assessments, rows=rows)


def review_need_fields(*, case: Case, day: Any) -> tuple[list[CatalogueEntry], dict[str, str]]:
    """The fields of action to rate again at a plan review (those valid on
    `day`) and each one's latest level, to prefill the review's form."""
    entries = [
        entry
        for entry in CatalogueEntry.objects.filter(catalogue=Catalogue.FIELD_OF_ACTION).order_by(
            "order", "key"
        )
        if entry.is_valid_on(day)
    ]
    latest: dict[str, str] = {}
    for key, level in (
        AssessmentItem.objects.filter(
            assessment__case_id=case.pk, assessment__cancelled_at__isnull=True
        )
        .order_by("assessment__assessed_on", "assessment_id")
        .values_list("field_of_action__key", "need_level")
    ):
        latest[key] = level
    return entries, latest
