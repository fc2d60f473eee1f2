"""K4 by the goal catalogue (JSON, CSV, XLSX), the year-on-year
development, and the charts of the report page and the workbook."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases.models import Goal, GoalCatalogueEntry, IntegrationPlan
from reports.models import ReportSnapshot, UnitKind
from reports.selectors import (
    DEVELOPMENT_FIGURES,
    Period,
    Unit,
    kennzahlen_compute,
    kennzahlen_development,
)
from tests.reports.data import build

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/kennzahlen/"


@pytest.fixture
def world() -> Any:
    """The hand-built data set, with two of c1's current goals (agreed in
    2025) taken from the catalogue: language -> Sprachzertifikat B1,
    housing -> eigene Wohnung; its work goal stays worded freely."""
    world = build()
    current = IntegrationPlan.objects.get(case=world.cases["c1"], version=2)
    for field, key in (("language", "language_certificate_b1"), ("housing", "own_flat")):
        Goal.objects.filter(plan=current, field_of_action__key=field).update(
            catalogue_goal=GoalCatalogueEntry.objects.get(key=key)
        )
    return world


def team_params(world: Any, **extra: Any) -> dict[str, Any]:
    return {"year": 2025, "unit": "team", "unit_id": world.team_a.pk, **extra}


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def by_goal(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    return {(row["field_of_action"], row["key"]): row["count"] for row in rows}


# --- K4 by catalogue goal -----------------------------------------------------------------


def test_k4_counts_goals_by_catalogue_entry_with_an_other_line_per_field(world: Any) -> None:
    body = api(world.sa).get(URL, team_params(world)).json()

    counts = by_goal(body["k4_by_goal"])
    assert body["k4_goals"] == 3
    assert {key: n for key, n in counts.items() if n} == {
        ("language", "language_certificate_b1"): 1,
        ("work", "other"): 1,
        ("housing", "own_flat"): 1,
    }
    # every field of action with catalogue goals has its rows and its "other" line
    language = [row["key"] for row in body["k4_by_goal"] if row["field_of_action"] == "language"]
    assert language == [
        "language_certificate_b1",
        "language_certificate_a1",
        "language_certificate_a2",
        "language_certificate_b2",
        "other",
    ]
    other = next(
        row
        for row in body["k4_by_goal"]
        if (row["field_of_action"], row["key"]) == ("work", "other")
    )
    assert other == {
        "key": "other",
        "label": "sonstige Ziele (frei formuliert)",
        "field_of_action": "work",
        "field_label": "Arbeitsmarkt / Arbeit",
        "count": 1,
        "share": 0.3333,
    }
    # the rows of a field add up to its count by field of action
    per_field: dict[str, int] = {}
    for (field, _key), n in counts.items():
        per_field[field] = per_field.get(field, 0) + n
    assert {k: v for k, v in per_field.items() if v} == {
        row["key"]: row["count"] for row in body["k4_by_field"] if row["count"]
    }
    # the Land's "five most frequent goals": catalogue goals only
    assert [row["key"] for row in body["k4_top_catalogue_goals"]] == [
        "language_certificate_b1",
        "own_flat",
    ]


def test_a_retired_catalogue_goal_still_counts_and_new_ones_appear(world: Any) -> None:
    GoalCatalogueEntry.objects.filter(key="own_flat").update(is_active=False)
    GoalCatalogueEntry.objects.filter(key="language_certificate_a2").update(is_active=False)

    body = api(world.sa).get(URL, team_params(world)).json()

    keys = {row["key"] for row in body["k4_by_goal"]}
    assert "own_flat" in keys  # counted: stays
    assert "language_certificate_a2" not in keys  # retired and not counted: gone


def test_k4_catalogue_rows_in_the_csv(world: Any) -> None:
    text = api(world.sa).get(URL, team_params(world, format="csv")).content.decode("utf-8")

    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    k4 = [row for row in rows if row and row[0] == "K4"]
    name = "Häufigste Ziele (Handlungsfelder)"
    assert ["K4", name, "Ziel: Sprache (Deutsch): Sprachzertifikat B1", "1", "0.3333"] in k4
    other = "Ziel: Arbeitsmarkt / Arbeit: sonstige Ziele (frei formuliert)"
    assert ["K4", name, other, "1", "0.3333"] in k4
    assert [
        "K4",
        "Häufigste Ziele (Handlungsfelder)",
        "Platz 1: Sprachzertifikat B1",
        "1",
        "",
    ] in k4
    assert ["K4", "Häufigste Ziele (Handlungsfelder)", "Platz 2: eigene Wohnung", "1", ""] in k4
    # the development below the sheet: a head and the three years
    start = rows.index(["Entwicklung über die Jahre"])
    assert rows[start + 1][0] == "Jahr"
    assert [row[0] for row in rows[start + 2 : start + 5]] == ["2023", "2024", "2025"]


def test_the_xlsx_has_k4_by_catalogue_goal_and_its_charts(world: Any) -> None:
    response = api(world.sa).get(URL, team_params(world, format="xlsx"))

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Auswertung Zeitraum", "Diagramme", "Entwicklung"]
    items = [row[2] for row in book["Auswertung Zeitraum"].iter_rows(values_only=True)]
    assert "Ziel: Sprache (Deutsch): Sprachzertifikat B1" in items
    assert "Ziel: Wohnen: eigene Wohnung" in items
    assert "Platz 1: Sprachzertifikat B1" in items

    charts = book["Diagramme"]._charts
    titles = [chart.title.tx.rich.p[0].r[0].t for chart in charts]
    assert titles == [
        "Beratungen nach Form",
        "Beratungen nach Thema",
        "Verweisungen nach Ziel",
        "Häufigste Ziele (Zielkatalog)",
        "Ziele nach Handlungsfeld",
    ]
    assert all(chart.tagname == "barChart" for chart in charts)
    # the goals chart reads the catalogue goals' table beside it
    table = [row for row in book["Diagramme"].iter_rows(values_only=True) if row[0]]
    assert ("Sprachzertifikat B1", 1) in [(row[0], row[1]) for row in table]

    development = book["Entwicklung"]
    assert len(development._charts) == 1
    assert development._charts[0].grouping == "clustered"
    rows = list(development.iter_rows(values_only=True))
    assert rows[0][0] == "Jahr"
    assert [row[0] for row in rows[1:4]] == ["2023", "2024", "2025"]


# --- the development ----------------------------------------------------------------------


def test_the_development_repeats_each_years_figures(world: Any) -> None:
    unit = Unit(UnitKind.TEAM, world.team_a.pk, "A")

    with CaptureQueriesContext(connection) as queries:
        rows = kennzahlen_development(unit=unit, last_year=2025)

    assert len(queries.captured_queries) == 8  # the team's managers, six figures, snapshots
    assert [row["year"] for row in rows] == [2023, 2024, 2025]
    for row in rows:
        figures = kennzahlen_compute(unit=unit, period=Period.year(row["year"]))
        assert {name: row[name] for name in DEVELOPMENT_FIGURES} == {
            name: figures[name] for name in DEVELOPMENT_FIGURES
        }, row["year"]
    assert rows[-1]["k2_consultations"] == 4
    assert rows[1]["k2_consultations"] == 1  # the consultation of December 2024


def test_a_frozen_year_is_read_from_its_snapshot(world: Any) -> None:
    ReportSnapshot.objects.create(
        unit_kind=UnitKind.TEAM,
        unit_id=world.team_a.pk,
        unit_label="A",
        period_from=date(2024, 1, 1),
        period_to=date(2024, 12, 31),
        figures={"k2_consultations": 99, "k1_persons": 7},
        frozen_at=date(2025, 1, 10).isoformat() + "T10:00:00+01:00",
    )

    body = api(world.sa).get(URL, team_params(world)).json()

    year_2024 = body["development"][1]
    assert (year_2024["year"], year_2024["frozen"], year_2024["k2_consultations"]) == (
        2024,
        True,
        99,
    )
    assert body["development"][2]["frozen"] is False


def test_the_coordinator_sees_the_development_with_small_cells_suppressed(world: Any) -> None:
    body = api(world.ka).get(URL, {"year": 2025, "unit": "kreis", "unit_id": world.k1.pk}).json()

    exact = kennzahlen_development(unit=Unit(UnitKind.KREIS, world.k1.pk, "K1"), last_year=2025)
    for shown, row in zip(body["development"], exact, strict=True):
        for name in DEVELOPMENT_FIGURES:
            value = row[name]
            assert shown[name] == (None if value in (1, 2) else value), (row["year"], name)
    assert body["development"][1]["k2_consultations"] is None  # one consultation in 2024


# --- the report page ----------------------------------------------------------------------


def test_the_report_page_draws_goals_referrals_and_the_development(world: Any) -> None:
    client = Client()
    client.force_login(world.sa)

    response = client.get("/berichte/", {"unit": f"team:{world.team_a.pk}", "year": 2025})

    html = response.content.decode()
    assert response.status_code == 200
    for title in (
        "Ziele nach Zielkatalog",
        "Verweisungen nach Stelle",
        "K2 Beratungsgespräche",
        "K4 Ziele",
    ):
        assert f"<figcaption>{title}</figcaption>" in html, title
    assert '<h2 id="development-title">Entwicklung über die Jahre</h2>' in html
    assert "Wohnen: eigene Wohnung" in html
    assert "Veränderung zum Vorjahr (Prozent): 300" in html  # 1 consultation in 2024, 4 in 2025
    main = html.split("<main>")[1].split("</main>")[0]
    assert "<script" not in main
    assert "style=" not in main
