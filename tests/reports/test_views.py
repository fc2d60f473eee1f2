"""The German report pages: Kennzahlen with charts, freezing, caseload overview."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.models import ReportSnapshot
from tests.reports.data import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_manager_sees_own_sheet_with_charts(world) -> None:
    response = client_for(world.m1).get("/berichte/", {"year": 2025})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Anzahl beratene Personen" in html
    assert response.context["figures"]["k1_persons"] == 3
    assert html.count("<svg") == 4
    main = html.split("<main>")[1].split("</main>")[0]
    assert "<script" not in main
    assert "src=" not in main
    assert 'href="/berichte/"' in html  # the navigation link


def test_foreign_unit_page_is_404(world) -> None:
    client = client_for(world.m1)
    assert client.get("/berichte/", {"unit": f"manager:{world.m2.pk}"}).status_code == 404
    assert client.get("/berichte/", {"unit": "land:0"}).status_code == 404
    assert client_for(world.gu).get("/berichte/").status_code == 404


def test_supervisor_freezes_a_past_year(world) -> None:
    client = client_for(world.sa)
    unit = f"team:{world.team_a.pk}"
    page = client.get("/berichte/", {"unit": unit, "year": 2025})
    assert page.context["may_freeze"] is True
    response = client.post("/berichte/einfrieren/", {"unit": unit, "year": 2025})
    assert response.status_code == 302
    assert ReportSnapshot.objects.get().figures["k2_consultations"] == 4
    page = client.get("/berichte/", {"unit": unit, "year": 2025})
    assert page.context["figures"]["frozen"] is True
    assert page.context["may_freeze"] is False


def test_freezing_a_foreign_unit_is_404_and_writes_nothing(world) -> None:
    response = client_for(world.sa).post(
        "/berichte/einfrieren/", {"unit": f"team:{world.team_b.pk}", "year": 2025}
    )
    assert response.status_code == 404
    assert not ReportSnapshot.objects.exists()


def test_caseload_overview_for_the_supervisor(world) -> None:
    response = client_for(world.sa).get("/berichte/uebersicht/")
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row["team"] == world.team_a
    assert row["open"] == 2
    assert "<svg" in response.content.decode()
    assert client_for(world.m1).get("/berichte/uebersicht/").status_code == 404
    assert client_for(world.gu).get("/berichte/uebersicht/").status_code == 404
