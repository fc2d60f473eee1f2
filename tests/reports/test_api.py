"""GET /api/v1/reports/kennzahlen/: formats, strict parameters, access, injection-safe files."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from audit.models import ReportRead
from cases.models import Catalogue, CatalogueEntry
from reports.sheet import kennzahlen_rows
from tests.reports.data import build

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/kennzahlen/"


@pytest.fixture
def world():
    return build()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_json_of_the_own_sheet_by_default(world) -> None:
    response = client_for(world.m1).get(URL, {"year": 2025})
    assert response.status_code == 200
    body = response.json()
    assert body["unit"] == {"kind": "manager", "id": world.m1.pk, "label": body["unit"]["label"]}
    assert (body["k1_persons"], body["k2_consultations"], body["frozen"]) == (3, 3, False)


def test_a_period_by_from_and_to(world) -> None:
    response = client_for(world.sa).get(
        URL, {"from": "2025-03-01", "to": "2025-04-01", "unit": "team", "unit_id": world.team_a.pk}
    )
    assert response.status_code == 200
    assert response.json()["period"] == {"from": "2025-03-01", "to": "2025-04-01"}
    assert response.json()["k2_consultations"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "20x5"}, "year"),
        ({"year": 1999}, "year"),
        ({"year": 2025, "from": "2025-01-01", "to": "2025-02-01"}, "year"),
        ({"from": "2025-01-01"}, "from"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
        ({"from": "2015-01-01", "to": "2025-01-01"}, "to"),
        ({"from": "kein Datum", "to": "2025-01-01"}, "from"),
        ({"year": 2025, "unit": "planet"}, "unit"),
        ({"year": 2025, "unit_id": 3}, "unit"),
        ({"year": 2025, "format": "pdf"}, "format"),
        ({"year": 2025, "colour": "blue"}, "colour"),
        ({"year": ""}, "year"),
    ],
)
def test_bad_parameters_are_400_with_the_field(world, params, field) -> None:
    response = client_for(world.m1).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]


@pytest.mark.parametrize(
    ("who", "unit", "attr"),
    [
        ("m1", "manager", "m2"),
        ("sa", "team", "team_b"),
        ("aa", "kreis", "k1"),
        ("gu", "manager", "m1"),
        ("m1", "land", None),
        ("ka", "kreis", "k2"),
        ("ka", "manager", "m1"),
        ("ka", "land", None),
    ],
)
def test_units_out_of_scope_are_404(world, who, unit, attr) -> None:
    params = {"year": 2025, "unit": unit}
    if attr:
        params["unit_id"] = getattr(world, attr).pk
    response = client_for(getattr(world, who)).get(URL, params)
    assert response.status_code == 404
    assert response.json()["code"] == "unit_not_found"
    assert not ReportRead.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_every_answer_with_figures_is_logged_as_a_report_read(world, fmt) -> None:
    response = client_for(world.ka).get(
        URL, {"from": "2025-03-01", "to": "2025-04-01", "format": fmt}
    )

    assert response.status_code == 200
    [read] = ReportRead.objects.all()
    assert (read.user, read.user_role, read.report, read.view) == (
        world.ka,
        "COORDINATOR",
        "kennzahlen",
        f"api.kennzahlen.{fmt}",
    )
    assert (read.scope_kind, read.scope_id) == ("kreis", world.k1.pk)
    assert (read.period_from, read.period_to) == (date(2025, 3, 1), date(2025, 4, 1))


def test_a_refused_query_is_not_logged(world) -> None:
    assert client_for(world.ka).get(URL, {"year": "20x5"}).status_code == 400
    assert not ReportRead.objects.exists()


def test_not_signed_in_is_401(world) -> None:
    assert APIClient().get(URL, {"year": 2025}).status_code == 401


def test_csv_in_the_sheet_layout(world) -> None:
    response = client_for(world.sa).get(
        URL, {"year": 2025, "unit": "team", "unit_id": world.team_a.pk, "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffAuswertung Zeitraum;2025-01-01 – 2025-12-31")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    by_id = {(r[0], r[2]): r[3] for r in rows if len(r) == 5}
    assert by_id[("K1", "")] == "3"
    assert by_id[("K2", "")] == "4"
    assert by_id[("K2a", "aufsuchend")] == "1"
    assert by_id[("K5", "Regeldienste")] == "1"


def test_xlsx_in_the_sheet_layout(world) -> None:
    response = client_for(world.admin).get(URL, {"year": 2025, "unit": "land", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Auswertung Zeitraum"
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert ("K1", "Anzahl beratene Personen", None, 4, None) in rows
    # the administrator's copy has small cells empty
    assert ("K8", "Fallabschlüsse", "Ziele erreicht / Selbständigkeit", None, None) in rows


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_cell_is_safe_against_formula_injection(world, start) -> None:
    label = f'{start}HYPERLINK("http://x";"y")'
    CatalogueEntry.objects.filter(catalogue=Catalogue.CONSULTATION_TOPIC, key="language").update(
        label_de=label
    )
    world.team_a.name = f"{start}cmd|' /C calc'!A0"
    world.team_a.save()
    params = {"year": 2025, "unit": "team", "unit_id": world.team_a.pk}
    client = client_for(world.sa)
    text = client.get(URL, {**params, "format": "csv"}).content.decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    assert "'" + label in cells
    assert "'" + world.team_a.name in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    book = load_workbook(io.BytesIO(client.get(URL, {**params, "format": "xlsx"}).content))
    values = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in values)
    # XML turns a stored CR into LF on reading; the apostrophe stays first.
    texts = [c.value for c in values if isinstance(c.value, str)]
    assert "'" + label.replace("\r", "\n") in texts
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))]


def test_sheet_rows_cover_every_kennzahl(world) -> None:
    figures = (
        client_for(world.sa)
        .get(URL, {"year": 2025, "unit": "team", "unit_id": world.team_a.pk})
        .json()
    )
    ids = {row[0] for row in kennzahlen_rows(figures)}
    assert ids == {
        "K1", "K1a", "K2", "K2a", "K2b", "K2c", "K2d", "K2x", "K3", "K3a", "K3b", "K3c",
        "K4", "K4a", "K5", "K5a", "K6", "K7", "K8", "K9", "K10",
    }  # fmt: skip
