"""Finding 7 of issue 22: small cells suppressed in every Kennzahl and
breakdown, for every role that sees aggregates only, by one function."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from reports.selectors import (
    Period,
    UnitKind,
    kennzahlen_compute,
    kennzahlen_suppress_small_cells,
    report_suppresses_small_cells,
    report_unit_get,
)
from tests.accounts.factories import UserFactory
from tests.reports.data import build

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/kennzahlen/"


def _kennzahlen(figures):
    return {name: value for name, value in figures.items() if name[0] == "k" and name[1].isdigit()}


@pytest.mark.parametrize("small", [1, 2])
def test_one_function_suppresses_every_kennzahl_and_every_breakdown(small) -> None:
    admin = UserFactory(role=Role.ADMINISTRATOR, team=None, traeger=None)
    unit = report_unit_get(user=admin, kind=UnitKind.LAND, pk=0)
    figures = kennzahlen_compute(unit=unit, period=Period.year(2025))
    fields = _kennzahlen(figures)
    assert len(fields) >= 30  # every K-field of the report, whatever its kind
    small_world = {
        name: (
            [{**row, "count": small} for row in value]
            if isinstance(value, list)
            else small
            if value is None or isinstance(value, int)
            else 0.5
        )
        for name, value in fields.items()
    }

    out = kennzahlen_suppress_small_cells({**figures, **small_world})

    for name, value in _kennzahlen(out).items():
        if isinstance(value, list):
            assert all(row["count"] is None for row in value), name
            assert all(row.get("share") is None for row in value), name
        else:
            assert value is None, name
    assert out["small_cells_suppressed"] is True


def test_zero_and_three_stay() -> None:
    out = kennzahlen_suppress_small_cells(
        {"k5_referrals": 0, "k8_closures": 3, "k5_by_group": [{"key": "a", "count": 0}]}
    )
    assert (out["k5_referrals"], out["k8_closures"], out["k5_by_group"][0]["count"]) == (0, 3, 0)


def test_roles_with_aggregates_only_get_no_count_of_one_or_two_anywhere() -> None:
    world = build()
    assert {
        r for r in Role.values if report_suppresses_small_cells(user=UserFactory.build(role=r))
    } == {Role.COORDINATOR, Role.ADMINISTRATOR}
    for user, params in (
        (world.ka, {"year": 2025, "unit": "kreis", "unit_id": world.k1.pk}),
        (world.admin, {"year": 2025, "unit": "land"}),
    ):
        client = APIClient()
        client.force_authenticate(user)
        body = client.get(URL, params).json()
        for name, value in _kennzahlen(body).items():
            if isinstance(value, list):
                assert all(row["count"] not in (1, 2) for row in value), name
            else:
                assert value not in (1, 2), name
        assert body["k8_closures"] is None  # one closure in the data set
        assert "k8_closures" in body["suppressed_fields"]
        sheet = client.get(URL, {**params, "format": "csv"}).content.decode("utf-8-sig")
        counts = [row[3] for row in csv.reader(io.StringIO(sheet), delimiter=";") if len(row) > 3]
        assert "1" not in counts
        assert "2" not in counts

        client.force_login(user)
    page = APIClient()
    page.force_login(world.ka)
    html = page.get("/berichte/", {"year": 2025, "unit": f"kreis:{world.k1.pk}"})
    assert html.status_code == 200
    assert "&lt;3" in html.content.decode()
