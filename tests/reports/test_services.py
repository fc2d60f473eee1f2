"""Frozen Kennzahlen: survive deletion and anonymisation, read back the same."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from cases.models import Case, Consultation, Goal, IntegrationPlan, PlanReview, Referral
from cases.services import case_anonymise
from config.errors import Forbidden, NotFound
from reports.models import ReportSnapshot, UnitKind
from reports.selectors import Period, kennzahlen_compute, kennzahlen_for_user, report_unit_get
from reports.services import AlreadyFrozen, PeriodNotOver, report_snapshot_freeze
from tests.reports.data import at, build

pytestmark = pytest.mark.django_db
YEAR = Period.year(2025)
AFTER = at(2026, 1, 10)
VIEW = "test"


@pytest.fixture
def world():
    return build()


def _erase_case(case: Case) -> None:
    """What retention leaves of a case at worst: nothing."""
    case_anonymise(case=case, now=AFTER)
    Consultation.objects.filter(case=case).delete()
    Referral.objects.filter(case=case).delete()
    Goal.objects.filter(plan__case=case, origin__isnull=False).delete()
    Goal.objects.filter(plan__case=case).delete()
    PlanReview.objects.filter(plan__case=case).delete()
    IntegrationPlan.objects.filter(case=case).delete()
    case.extension_requests.all().delete()
    case.delete()


def test_snapshot_gives_the_same_figures_after_the_cases_are_gone(world) -> None:
    unit = report_unit_get(user=world.sa, kind=UnitKind.TEAM, pk=world.team_a.pk)
    before = kennzahlen_for_user(user=world.sa, unit=unit, period=YEAR, view=VIEW, now=AFTER)
    [snapshot] = report_snapshot_freeze(
        units=[(UnitKind.TEAM, world.team_a.pk)], period=YEAR, actor=world.sa, now=AFTER
    )
    for name in ("c1", "c2", "c3"):
        _erase_case(world.cases[name])
    live = kennzahlen_compute(unit=unit, period=YEAR)
    assert (live["k1_persons"], live["k2_consultations"]) == (0, 0)
    again = kennzahlen_for_user(user=world.sa, unit=unit, period=YEAR, view=VIEW, now=AFTER)
    assert again["frozen"] is True
    # `development` is not part of the frozen figures: each earlier year is
    # counted live unless that year has its own snapshot (see
    # `kennzahlen_development`), so erased cases may leave earlier years. The
    # frozen year itself must read back from the snapshot, with the same totals.
    assert {k: v for k, v in again.items() if k not in ("frozen", "frozen_at", "development")} == {
        k: v for k, v in before.items() if k not in ("frozen", "development")
    }
    [year_before] = [row for row in before["development"] if row["year"] == 2025]
    [year_again] = [row for row in again["development"] if row["year"] == 2025]
    assert (year_before["frozen"], year_again["frozen"]) == (False, True)
    assert {k: v for k, v in year_again.items() if k != "frozen"} == {
        k: v for k, v in year_before.items() if k != "frozen"
    }
    snapshot.refresh_from_db()
    assert snapshot.figures["k1_persons"] == 3
    assert snapshot.unit_label == world.team_a.name
    event = AuditEvent.objects.get(event_type="reports.snapshot.frozen")
    assert (event.object_id, event.reason) == (str(snapshot.pk), "team")


def test_snapshot_holds_no_personal_data(world) -> None:
    [snapshot] = report_snapshot_freeze(units=[("land", 0)], period=YEAR, actor=None, now=AFTER)
    text = str(snapshot.figures)
    for case in world.cases.values():
        assert case.person.family_name not in text
    assert "person_id" not in text


def test_freezing_twice_is_409_and_changes_nothing(world) -> None:
    report_snapshot_freeze(
        units=[("team", world.team_a.pk)], period=YEAR, actor=world.sa, now=AFTER
    )
    with pytest.raises(AlreadyFrozen):
        report_snapshot_freeze(
            units=[("manager", world.m1.pk), ("team", world.team_a.pk)],
            period=YEAR,
            actor=world.sa,
            now=AFTER,
        )
    assert ReportSnapshot.objects.count() == 1  # the manager's sheet rolled back too


def test_a_running_period_cannot_be_frozen(world) -> None:
    with pytest.raises(PeriodNotOver):
        report_snapshot_freeze(
            units=[("team", world.team_a.pk)], period=YEAR, actor=world.sa, now=at(2025, 12, 31)
        )
    assert not ReportSnapshot.objects.exists()


def test_foreign_units_and_other_roles_cannot_freeze(world) -> None:
    with pytest.raises(NotFound):
        report_snapshot_freeze(
            units=[("team", world.team_b.pk)], period=YEAR, actor=world.sa, now=AFTER
        )
    with pytest.raises(Forbidden) as denied:
        report_snapshot_freeze(
            units=[("manager", world.m1.pk)], period=YEAR, actor=world.m1, now=AFTER
        )
    assert denied.value.http_status == 403
    assert not ReportSnapshot.objects.exists()
    assert not AuditEvent.objects.filter(event_type="reports.snapshot.frozen").exists()
