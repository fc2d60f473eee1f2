"""K10 (issue 20): the change of need since the first assessment, per field
of action, for a team and a Kreis; cancelled assessments do not count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import services
from cases.models import CaseStatus
from reports.models import UnitKind
from reports.selectors import Period, Unit, kennzahlen_compute, kennzahlen_suppress_small_cells
from tests.accounts.factories import KreisFactory, TeamFactory
from tests.cases.factories import T0, journey_to, manager_in

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(days=90)


def _reassess(case, level, *, work=None):
    items = [{"field_of_action": "language", "need_level": level}]
    if work:
        items.append({"field_of_action": "work", "need_level": work})
    return services.assessment_record(
        case=case, actor=case.owner, now=LATER, assessed_on=LATER.date(), items=items
    )


def _k10(figures, key):
    return {row["change"]: row["count"] for row in figures["k10_needs_change"] if row["key"] == key}


def test_k10_counts_the_change_per_field_for_a_team_and_a_kreis() -> None:
    team = TeamFactory()
    owner = manager_in(team)
    better = journey_to(CaseStatus.ACTIVE, owner=owner)  # language HIGH at first
    same = journey_to(CaseStatus.ACTIVE, owner=owner)
    cancelled = journey_to(CaseStatus.ACTIVE, owner=owner)
    _reassess(better, "LOW", work="HIGH")  # work rated once: not counted
    _reassess(same, "HIGH")
    wrong = _reassess(cancelled, "NONE")
    services.assessment_cancel(assessment=wrong, actor=owner, now=LATER, reason="falscher Fall")

    for unit in (
        Unit(UnitKind.TEAM, team.pk, ""),
        Unit(UnitKind.KREIS, team.traeger.kreis_id, ""),
    ):
        figures = kennzahlen_compute(unit=unit, period=Period.year(2026))
        assert _k10(figures, "language") == {"improved": 1, "unchanged": 1, "worsened": 0}
        assert _k10(figures, "work") == {"improved": 0, "unchanged": 0, "worsened": 0}

    other = kennzahlen_compute(
        unit=Unit(UnitKind.KREIS, KreisFactory().pk, ""), period=Period.year(2026)
    )
    assert set(_k10(other, "language").values()) == {0}
    earlier = kennzahlen_compute(unit=Unit(UnitKind.TEAM, team.pk, ""), period=Period.year(2025))
    assert set(_k10(earlier, "language").values()) == {0}


def test_k10_small_cells_are_suppressed_like_every_breakdown() -> None:
    owner = manager_in(TeamFactory())
    _reassess(journey_to(CaseStatus.ACTIVE, owner=owner), "LOW")

    figures = kennzahlen_compute(
        unit=Unit(UnitKind.MANAGER, owner.pk, ""), period=Period.year(2026)
    )
    suppressed = kennzahlen_suppress_small_cells(figures)

    assert _k10(figures, "language")["improved"] == 1
    assert _k10(suppressed, "language")["improved"] is None
