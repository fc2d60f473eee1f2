"""The case's chronology: what happened with the client, in date order.

Social-work documentation is read as one story: consultations with their
notes, needs assessments, referrals with their outcomes, the versions of
the Integrationsplan, documents, appointments. Each kind comes from an
*entry source*, registered here with one call:

    chronology.register(
        "document",                      # the kind (filter key, ?art=document)
        _("Documents"),                  # its label in the filter
        source,                          # (case) -> iterable of Entry
        template="cases/chronology/document.html",  # renders one entry
        order=50,                        # position in the filter
    )

A source reads its kind for one case with a fixed number of queries
(select_related/prefetch_related), never one query per entry: the case
page's chronology costs the same number of queries for 5 entries or 500
(`tests/cases/test_chronology.py`). The corrections of all entries are read
once (`Correction` rows of the case) and attached to their entries, so a
corrected or cancelled entry shows its reason and what changed.

The entry's template gets `entry` (with `entry.obj`, `entry.corrections`)
in its context. Sources of other apps register in their AppConfig.ready();
`cases` registers its own below.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    Consultation,
    Correction,
    Goal,
    IntegrationPlan,
    Referral,
)
from cases.selectors import case_consultations


@dataclass
class Entry:
    """One line of the chronology."""

    kind: str
    day: date
    obj: Any
    moment: datetime | None = None  # orders entries of the same day
    cancelled: bool = False
    corrections: list[Correction] = field(default_factory=list)
    template: str = ""

    @property
    def sort_key(self) -> tuple[date, datetime]:
        moment = self.moment or timezone.make_aware(datetime.combine(self.day, time.min))
        return (self.day, moment)


Source = Callable[[Case], Iterable[Entry]]


@dataclass(frozen=True)
class _Registered:
    kind: str
    label: Any
    source: Source
    template: str
    order: int


_SOURCES: dict[str, _Registered] = {}


def register(kind: str, label: Any, source: Source, *, template: str, order: int = 100) -> None:
    """Register (or replace) the entry source of `kind`."""
    _SOURCES[kind] = _Registered(kind, label, source, template, order)


def kinds() -> list[tuple[str, Any]]:
    """The registered kinds and their labels, in filter order."""
    return [(r.kind, r.label) for r in sorted(_SOURCES.values(), key=lambda r: (r.order, r.kind))]


@dataclass(frozen=True)
class Chronology:
    entries: list[Entry]
    kinds: list[tuple[str, Any]]
    selected: list[str]
    counts: dict[str, int]
    found: dict[str, list[Entry]]  # every entry by kind, before the filter


def case_chronology(*, case: Case, only: Iterable[str] = ()) -> Chronology:
    """The case's entries, newest first; `only`: the kinds to show (all
    when empty or unknown). Every registered source runs (its count is
    shown beside the filter); a fixed number of queries in all."""
    chosen = [kind for kind in only if kind in _SOURCES]
    corrections: dict[tuple[str, int], list[Correction]] = defaultdict(list)
    for row in (
        Correction.objects.filter(case_id=case.pk)
        .select_related("corrected_by")
        .order_by("corrected_at", "pk")
    ):
        corrections[(row.object_type, row.object_id)].append(row)
    entries: list[Entry] = []
    counts: dict[str, int] = {}
    by_kind: dict[str, list[Entry]] = {}
    for registered in _SOURCES.values():
        found = list(registered.source(case))
        counts[registered.kind] = len(found)
        by_kind[registered.kind] = found
        for entry in found:
            entry.template = entry.template or registered.template
            entry.corrections = corrections.get((entry.obj._meta.model_name, entry.obj.pk), [])
        if not chosen or registered.kind in chosen:
            entries.extend(found)
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return Chronology(entries=entries, kinds=kinds(), selected=chosen, counts=counts, found=by_kind)


# --- the case domain's own sources --------------------------------------------------


def _consultations(case: Case) -> Iterable[Entry]:
    # With who took part: the case page takes its rows from here
    # (`case_file(known=...)`).
    for row in case_consultations(case_id=case.pk):
        yield Entry(
            kind="consultation",
            day=row.held_on,
            moment=row.recorded_at,
            obj=row,
            cancelled=row.status == Consultation.Status.CANCELLED,
        )


def _assessments(case: Case) -> Iterable[Entry]:
    rows = (
        Assessment.objects.filter(case_id=case.pk)
        .select_related("created_by", "plan_review")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=AssessmentItem.objects.select_related("field_of_action").order_by(
                    "field_of_action__order", "pk"
                ),
            )
        )
    )
    for row in rows:
        yield Entry(
            kind="assessment", day=row.assessed_on, obj=row, cancelled=row.cancelled_at is not None
        )


def _referrals(case: Case) -> Iterable[Entry]:
    rows = Referral.objects.filter(case_id=case.pk).select_related(
        "target_service", "topic", "recorded_by"
    )
    for row in rows:
        yield Entry(
            kind="referral", day=row.referred_on, obj=row, cancelled=row.cancelled_at is not None
        )


def _plans(case: Case) -> Iterable[Entry]:
    rows = (
        IntegrationPlan.objects.filter(case_id=case.pk)
        .select_related("review", "review__reviewed_by")
        .prefetch_related(
            Prefetch(
                "goals",
                queryset=Goal.objects.select_related("field_of_action").order_by("priority", "pk"),
            )
        )
    )
    for row in rows:
        moment = row.agreed_at or row.created_at
        yield Entry(kind="plan", day=timezone.localdate(moment), moment=moment, obj=row)


register(
    "consultation",
    _("Consultations"),
    _consultations,
    template="cases/chronology/consultation.html",
    order=10,
)
register(
    "assessment",
    _("Needs assessments"),
    _assessments,
    template="cases/chronology/assessment.html",
    order=20,
)
register(
    "referral", _("Referrals"), _referrals, template="cases/chronology/referral.html", order=30
)
register("plan", _("Plan versions"), _plans, template="cases/chronology/plan.html", order=40)
