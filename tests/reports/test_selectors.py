"""K1-K9 on a hand-built data set: every figure exactly (DOMAIN.md §14.3)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import ReportRead
from config.errors import NotFound
from reports.models import UnitKind
from reports.selectors import (
    Period,
    Unit,
    caseload_overview,
    kennzahlen_compute,
    kennzahlen_for_user,
    report_default_unit,
    report_unit_choices,
    report_unit_get,
)
from reports.services import report_snapshot_freeze
from tests.accounts.factories import KreisFactory
from tests.reports.data import at, build

pytestmark = pytest.mark.django_db
YEAR = Period.year(2025)
NOW = at(2026, 2, 15)  # the caseload overview's day
VIEW = "test"
READ_FIELDS = (
    "user",
    "user_role",
    "report",
    "scope_kind",
    "scope_id",
    "period_from",
    "period_to",
    "view",
    "accessed_at",
)


def counts(rows: list[dict]) -> dict[str, int]:
    """Breakdown rows as {key: count}, zeros left out."""
    return {row["key"]: row["count"] for row in rows if row["count"]}


@pytest.fixture
def world():
    return build()


def test_every_figure_of_team_a(world) -> None:
    f = kennzahlen_compute(unit=Unit(UnitKind.TEAM, world.team_a.pk, "A"), period=YEAR)
    # K1: p1, p2 and p3 (p3 in m1's family consultation and in m2's case:
    # once); p5's only consultation was a no-show and does not count.
    assert f["k1_persons"] == 3
    assert f["k1a_new_persons"] == 1  # c1 began 2025-02-01; c3 in 2024
    # K2: four completed consultations in 2025; the December 2024 one, two
    # no-shows and one cancellation do not count.
    assert f["k2_consultations"] == 4
    assert (f["k2x_no_show"], f["k2x_cancelled"]) == (2, 1)
    assert counts(f["k2a_by_form"]) == {"outreach": 1, "office": 2, "phone": 1}
    assert sum(row["count"] for row in f["k2a_by_form"]) == f["k2_consultations"]
    assert counts(f["k2a_by_official_form"]) == {"aufsuchend": 1, "buero": 2, "sonstige": 1}
    assert counts(f["k2b_by_topic"]) == {"language": 2, "work": 2, "housing": 1, "benefits": 1}
    assert [r["key"] for r in f["k2b_top_topics"]] == ["language", "work", "housing", "benefits"]
    assert counts(f["k2c_by_setting"]) == {"individual": 3, "family": 1}
    assert f["k2d_minutes_total"] == 45 + 30 + 60 + 90
    assert f["k2d_minutes_median"] == 52.5
    # K3: c1's first agreement; one review; c1 and c3 open with a plan.
    assert (f["k3_plans"], f["k3a_reviews"], f["k3b_persons_with_plan"]) == (1, 1, 2)
    assert f["k3c_plan_rate"] == 1.0
    # K4: goals of the current version agreed in 2025 (copies count once).
    assert f["k4_goals"] == 3
    assert counts(f["k4_by_field"]) == {"language": 1, "work": 1, "housing": 1}
    assert {r["key"]: r["share"] for r in f["k4_by_field"] if r["count"]} == {
        "language": 0.3333,
        "work": 0.3333,
        "housing": 0.3333,
    }
    assert [r["key"] for r in f["k4_top_goals"]] == ["language", "work", "housing"]
    assert counts(f["k4a_goal_outcomes"]) == {"ACHIEVED": 2}
    # K5: the 2024 referral and team B's kita referral are outside.
    assert f["k5_referrals"] == 3
    assert counts(f["k5_by_group"]) == {"regular_service": 1, "counselling_service": 2}
    assert counts(f["k5_by_target"]) == {"jobcenter": 1, "mbe": 1, "debt_counselling": 1}
    assert f["k5a_taken_up_share"] == 0.5
    # K6: m1's and m2's contacts of 2025.
    assert f["k6_network_contacts"] == 3
    assert counts(f["k6_by_category"]) == {"external_authorities": 2, "religious_communities": 1}
    assert counts(f["k6_by_format"]) == {"MEETING": 1, "PHONE": 1, "EVENT": 1}
    # K7: decided requests only (the submitted one waits).
    assert f["k7_extensions"] == 2
    assert counts(f["k7_by_decision"]) == {"APPROVED": 1, "REJECTED": 1}
    assert counts(f["k7_by_reason"]) == {"illiteracy": 1, "disability": 1}
    # K8: c2, closed 486 days after its start (2024-03-01 .. 2025-06-30).
    assert f["k8_closures"] == 1
    assert counts(f["k8_by_reason"]) == {"goals_achieved": 1}
    assert f["k8_mean_duration_days"] == 486.0
    # K9: c1 and c3 open at the end of 2025; c3 ends 2026-05-09.
    assert f["k9_open_cases"] == 2
    assert counts(f["k9_by_status"]) == {"ACTIVE": 2}
    assert f["k9_ending_within_6_months"] == 1
    assert f["unit"] == {"kind": "team", "id": world.team_a.pk, "label": "A"}
    assert f["period"] == {"from": "2025-01-01", "to": "2025-12-31"}


@pytest.mark.parametrize(
    ("unit", "k1", "k2", "no_show", "k6"),
    [
        ("m1", 3, 3, 0, 2),
        ("m2", 1, 1, 2, 1),
        ("m3", 1, 1, 0, 1),
        ("team_a", 3, 4, 2, 3),
        ("team_b", 1, 1, 0, 1),
        ("traeger_a", 3, 4, 2, 3),
        ("g1", 3, 3, 0, None),
        ("g2", 1, 1, 2, None),
        ("k1", 3, 4, 2, 3),
        ("k2", 1, 1, 0, 1),
        ("land", 4, 5, 2, 4),
    ],
)
def test_persons_once_per_unit_and_no_shows_left_out(world, unit, k1, k2, no_show, k6) -> None:
    kinds = {
        "m1": (UnitKind.MANAGER, world.m1.pk),
        "m2": (UnitKind.MANAGER, world.m2.pk),
        "m3": (UnitKind.MANAGER, world.m3.pk),
        "team_a": (UnitKind.TEAM, world.team_a.pk),
        "team_b": (UnitKind.TEAM, world.team_b.pk),
        "traeger_a": (UnitKind.TRAEGER, world.team_a.traeger_id),
        "g1": (UnitKind.GEMEINDE, world.g1.pk),
        "g2": (UnitKind.GEMEINDE, world.g2.pk),
        "k1": (UnitKind.KREIS, world.k1.pk),
        "k2": (UnitKind.KREIS, world.k2.pk),
        "land": (UnitKind.LAND, 0),
    }
    kind, pk = kinds[unit]
    f = kennzahlen_compute(unit=Unit(kind, pk, unit), period=YEAR)
    assert (f["k1_persons"], f["k2_consultations"], f["k2x_no_show"]) == (k1, k2, no_show)
    assert f["k6_network_contacts"] == k6


def test_sum_of_managers_exceeds_the_team_by_the_shared_person(world) -> None:
    per_manager = [
        kennzahlen_compute(unit=Unit(UnitKind.MANAGER, m.pk, ""), period=YEAR)["k1_persons"]
        for m in (world.m1, world.m2)
    ]
    team = kennzahlen_compute(unit=Unit(UnitKind.TEAM, world.team_a.pk, ""), period=YEAR)
    assert per_manager == [3, 1]
    assert team["k1_persons"] == 3  # p3 once, not twice


def test_land_figures_beyond_persons(world) -> None:
    f = kennzahlen_compute(unit=Unit(UnitKind.LAND, 0, ""), period=YEAR)
    assert f["k1a_new_persons"] == 2
    assert f["k5_referrals"] == 4
    assert counts(f["k5_by_group"]) == {"regular_service": 2, "counselling_service": 2}
    assert f["k5a_taken_up_share"] == 0.5  # kita's outcome is unknown
    assert f["k9_open_cases"] == 3
    assert counts(f["k9_by_status"]) == {"ACTIVE": 2, "DORMANT": 1}


def test_a_period_other_than_the_year(world) -> None:
    f = kennzahlen_compute(
        unit=Unit(UnitKind.TEAM, world.team_a.pk, ""),
        period=Period(date(2025, 3, 1), date(2025, 4, 1)),
    )
    assert (f["k1_persons"], f["k2_consultations"]) == (2, 2)  # c1's two consultations
    assert f["k2d_minutes_median"] == 37.5
    # The two goals agreed in March count once each, through their v2 copies.
    assert f["k3_plans"] == 1
    assert f["k4_goals"] == 2


def test_empty_period_has_zeros_and_no_rates(world) -> None:
    f = kennzahlen_compute(unit=Unit(UnitKind.LAND, 0, ""), period=Period.year(2019))
    assert f["k1_persons"] == f["k2_consultations"] == f["k4_goals"] == 0
    assert f["k2d_minutes_median"] is None
    assert f["k5a_taken_up_share"] is None
    assert f["k3c_plan_rate"] is None


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed", "denied"),
    [
        ("m1", ["m1"], ["m2", "team_a", "traeger_a", "g1", "k1", "land"]),
        ("sa", ["m1", "m2", "team_a"], ["m3", "team_b", "traeger_a", "g1", "k1", "land"]),
        ("aa", ["m1", "m2", "team_a", "traeger_a"], ["m3", "team_b", "g1", "k1", "land"]),
        (
            "ka",
            ["team_a", "traeger_a", "g1", "k1"],
            ["m1", "m2", "m3", "team_b", "traeger_b", "g3", "k2", "land"],
        ),
        ("admin", ["m1", "m3", "team_b", "traeger_a", "g1", "k2", "land"], ["sa_as_manager"]),
        ("gu", [], ["m1", "team_a", "traeger_a", "g1", "k1", "land"]),
    ],
)
def test_who_may_see_which_unit(world, who, allowed, denied) -> None:
    units = {
        "m1": (UnitKind.MANAGER, world.m1.pk),
        "m2": (UnitKind.MANAGER, world.m2.pk),
        "m3": (UnitKind.MANAGER, world.m3.pk),
        "sa_as_manager": (UnitKind.MANAGER, world.sa.pk),
        "team_a": (UnitKind.TEAM, world.team_a.pk),
        "team_b": (UnitKind.TEAM, world.team_b.pk),
        "traeger_a": (UnitKind.TRAEGER, world.team_a.traeger_id),
        "traeger_b": (UnitKind.TRAEGER, world.team_b.traeger_id),
        "g1": (UnitKind.GEMEINDE, world.g1.pk),
        "g3": (UnitKind.GEMEINDE, world.g3.pk),
        "k1": (UnitKind.KREIS, world.k1.pk),
        "k2": (UnitKind.KREIS, world.k2.pk),
        "land": (UnitKind.LAND, 0),
    }
    user = getattr(world, who)
    for name in allowed:
        kind, pk = units[name]
        assert report_unit_get(user=user, kind=kind, pk=pk).pk == pk
    for name in denied:
        kind, pk = units[name]
        with pytest.raises(NotFound):
            report_unit_get(user=user, kind=kind, pk=pk)


def test_administrator_sees_small_cells_suppressed(world) -> None:
    unit = report_unit_get(user=world.admin, kind=UnitKind.LAND, pk=0)
    f = kennzahlen_for_user(user=world.admin, unit=unit, period=YEAR, view=VIEW, now=NOW)
    assert f["small_cells_suppressed"] is True
    assert f["k1_persons"] == 4  # totals stay
    by_reason = {row["key"]: row["count"] for row in f["k8_by_reason"]}
    assert by_reason["goals_achieved"] is None
    assert by_reason["deceased"] == 0
    topics = {row["key"]: row["count"] for row in f["k2b_by_topic"]}
    assert topics["housing"] is None
    assert topics["benefits"] is None
    assert topics["debt"] == 0
    settings = {row["key"]: row["count"] for row in f["k2c_by_setting"]}
    assert settings == {"individual": 4, "family": None}
    exact = kennzahlen_for_user(
        user=world.sa, unit=report_unit_get(user=world.sa, kind="team", pk=world.team_a.pk),
        period=YEAR, view=VIEW, now=NOW,
    )  # fmt: skip
    assert "small_cells_suppressed" not in exact
    assert counts(exact["k8_by_reason"]) == {"goals_achieved": 1}


def test_caseload_overview_of_a_team(world) -> None:
    [row] = caseload_overview(user=world.sa, now=NOW, view=VIEW)
    assert row["team"] == world.team_a
    assert row["open"] == 2
    assert row["by_status"]["ACTIVE"] == 2
    assert row["reviews_overdue"] == 1  # c3's review was due 2025-12-01
    assert row["ending_90_days"] == 1  # c3 ends 2026-05-09
    assert row["open_extension_requests"] == 1
    assert caseload_overview(user=world.m1, now=NOW, view=VIEW) == []
    assert len(caseload_overview(user=world.admin, now=NOW, view=VIEW)) == 2


# --- the koordinierende Stelle ------------------------------------------------------------


def test_coordinator_sees_the_kreis_figures_with_small_cells_suppressed(world) -> None:
    unit = report_unit_get(user=world.ka, kind=UnitKind.KREIS, pk=world.k1.pk)

    f = kennzahlen_for_user(user=world.ka, unit=unit, period=YEAR, view=VIEW, now=NOW)

    assert f["small_cells_suppressed"] is True
    # Two no-shows are a small cell like any other (issue 22, finding 7).
    assert (f["k1_persons"], f["k2_consultations"], f["k2x_no_show"]) == (3, 4, None)
    assert {row["key"]: row["count"] for row in f["k2b_by_topic"] if row["count"] != 0} == {
        "language": None,
        "work": None,
        "housing": None,
        "benefits": None,
    }
    assert {row["key"]: row["count"] for row in f["k2c_by_setting"]} == {
        "individual": 3,
        "family": None,
    }
    assert f["unit"] == {"kind": "kreis", "id": world.k1.pk, "label": world.k1.name}


def test_coordinator_opens_the_kreis_by_default_and_picks_no_manager(world) -> None:
    choices = report_unit_choices(user=world.ka)

    assert report_default_unit(user=world.ka) == (UnitKind.KREIS, world.k1.pk)
    assert {(kind, pk) for kind, pk, _label in choices} == {
        (UnitKind.TEAM, world.team_a.pk),
        (UnitKind.TRAEGER, world.team_a.traeger_id),
        (UnitKind.GEMEINDE, world.g1.pk),
        (UnitKind.GEMEINDE, world.g2.pk),
        (UnitKind.KREIS, world.k1.pk),
    }


def test_caseload_overview_of_the_coordinators_kreis(world) -> None:
    [row] = caseload_overview(user=world.ka, now=NOW, view=VIEW)

    assert row["team"] == world.team_a  # team B works in the other Kreis
    assert (row["open"], row["reviews_overdue"], row["ending_90_days"]) == (2, 1, 1)
    assert row["open_extension_requests"] == 1


# --- every read of report figures is logged ----------------------------------------------


def test_reading_the_kennzahlen_logs_who_read_which_unit_and_period(world) -> None:
    unit = report_unit_get(user=world.ka, kind=UnitKind.KREIS, pk=world.k1.pk)
    period = Period(date(2025, 3, 1), date(2025, 4, 1))

    kennzahlen_for_user(user=world.ka, unit=unit, period=period, view="reports.kennzahlen", now=NOW)

    assert list(ReportRead.objects.values_list(*READ_FIELDS)) == [
        (
            world.ka.pk,
            "COORDINATOR",
            "kennzahlen",
            "kreis",
            world.k1.pk,
            date(2025, 3, 1),
            date(2025, 4, 1),
            "reports.kennzahlen",
            NOW,
        )
    ]


def test_reading_a_frozen_period_is_logged_too(world) -> None:
    unit = report_unit_get(user=world.sa, kind=UnitKind.TEAM, pk=world.team_a.pk)
    report_snapshot_freeze(
        units=[(UnitKind.TEAM, world.team_a.pk)], period=YEAR, actor=world.sa, now=NOW
    )

    f = kennzahlen_for_user(user=world.sa, unit=unit, period=YEAR, view=VIEW, now=NOW)

    assert f["frozen"] is True
    assert list(ReportRead.objects.values_list("user", "scope_kind", "scope_id", "report")) == [
        (world.sa.pk, "team", world.team_a.pk, "kennzahlen")
    ]


@pytest.mark.parametrize(
    ("who", "scope"),
    [("sa", ("team", "team_a")), ("aa", ("traeger", "traeger_a")), ("ka", ("kreis", "k1"))],
)
def test_reading_the_caseload_overview_logs_the_scope_and_day(world, who, scope) -> None:
    ids = {"team_a": world.team_a.pk, "traeger_a": world.team_a.traeger_id, "k1": world.k1.pk}
    user = getattr(world, who)

    caseload_overview(user=user, now=NOW, view="reports.overview")

    assert list(ReportRead.objects.values_list(*READ_FIELDS)) == [
        (
            user.pk,
            user.role,
            "caseload",
            scope[0],
            ids[scope[1]],
            NOW.date(),
            NOW.date(),
            "reports.overview",
            NOW,
        )
    ]


def test_an_overview_without_teams_logs_nothing(world) -> None:
    assert caseload_overview(user=world.m1, now=NOW, view=VIEW) == []
    assert not ReportRead.objects.exists()


# --- the unit is resolved once --------------------------------------------------------------


def test_a_kreis_is_resolved_to_its_traeger_once_for_all_figures(world) -> None:
    unit = Unit(UnitKind.KREIS, world.k1.pk, "K1")

    with CaptureQueriesContext(connection) as queries:
        kennzahlen_compute(unit=unit, period=YEAR)

    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == 18  # 16 + the goal catalogue (K4 by goal) + K10 (needs change)
    assert [n for n, text in enumerate(sql) if "accounts_traeger" in text] == [0]
    # the topic and participant counts read the links alone (their copies)
    links = [text for text in sql if "cases_consultation_topics" in text or "_participants" in text]
    assert len(links) == 2
    assert all(" JOIN " not in text for text in links)


def test_a_team_is_resolved_to_its_managers_once(world) -> None:
    unit = Unit(UnitKind.TEAM, world.team_a.pk, "A")

    with CaptureQueriesContext(connection) as queries:
        f = kennzahlen_compute(unit=unit, period=YEAR)

    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == 18  # 16 + the goal catalogue (K4 by goal) + K10 (needs change)
    assert [n for n, text in enumerate(sql) if "accounts_user" in text] == [0]
    assert f["k6_network_contacts"] == 3


def test_a_kreis_without_traeger_has_zeros(world) -> None:
    empty = KreisFactory()

    f = kennzahlen_compute(unit=Unit(UnitKind.KREIS, empty.pk, "leer"), period=YEAR)

    assert (f["k1_persons"], f["k2_consultations"], f["k3_plans"], f["k9_open_cases"]) == (
        0,
        0,
        0,
        0,
    )
    assert f["k6_network_contacts"] == 0
    assert f["k3c_plan_rate"] is None
