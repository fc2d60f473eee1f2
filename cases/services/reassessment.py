"""The re-assessment of needs at a plan review (issue 20): the review talk
rates each field of action again, so the case shows how its needs changed
since the first assessment (`cases.needs`). It is part of the
`review_plan` transition (one transaction, one audit event): the argument
`assessment` is a list of `{"field_of_action", "need_level"}` (optionally
`situation`), checked before anything is written."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.errors import InvalidArguments
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    Catalogue,
    CatalogueEntry,
    NeedLevel,
    PlanReview,
)
from cases.services.args import _choice_arg, _entry

Rated = list[tuple[CatalogueEntry, str, str]]


def reassessment_items(raw: Any, *, day: date) -> Rated:
    """Check the review's need levels (400 at `assessment`); [] for none."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list | tuple):
        raise InvalidArguments(
            _("The re-assessment is not valid."),
            fields={"assessment": [_("A list of fields of action with their need is expected.")]},
        )
    rated: Rated = []
    seen: set[int] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidArguments(
                _("The re-assessment is not valid."),
                fields={"assessment": [_("Each entry needs field_of_action and need_level.")]},
            )
        entry = _entry(
            Catalogue.FIELD_OF_ACTION,
            item.get("field_of_action"),
            field_name="assessment",
            day=day,
        )
        if entry.pk in seen:
            raise InvalidArguments(
                _("A field of action is rated twice."),
                fields={"assessment": [_("Each field of action once.")]},
            )
        seen.add(entry.pk)
        level = _choice_arg(item.get("need_level"), NeedLevel, field_name="assessment")
        rated.append((entry, level, str(item.get("situation") or "")))
    return rated


def reassessment_record(
    *, case: Case, plan_review: PlanReview, assessed_on: date, items: Rated, actor: User | None
) -> Assessment | None:
    """Write the review's assessment (inside the review's transaction)."""
    if not items or actor is None:
        return None
    assessment = Assessment.objects.create(
        case=case, assessed_on=assessed_on, created_by=actor, plan_review=plan_review
    )
    history.created(assessment)
    for entry, level, situation in items:
        row = AssessmentItem.objects.create(
            assessment=assessment, field_of_action=entry, need_level=level, situation=situation
        )
        history.created(row)
    return assessment
