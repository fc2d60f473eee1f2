"""The German report pages: Kennzahlen with charts, freezing, caseload overview."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import ReportRead
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
    assert html.count("<svg") == 12  # six distributions, six totals over the years
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


def test_the_page_logs_one_report_read_and_a_refused_unit_none(world) -> None:
    client = client_for(world.sa)

    assert client.get("/berichte/", {"unit": f"team:{world.team_b.pk}"}).status_code == 404
    assert not ReportRead.objects.exists()
    assert client.get("/berichte/", {"year": 2025}).status_code == 200

    assert list(ReportRead.objects.values_list("report", "scope_kind", "scope_id", "view")) == [
        ("kennzahlen", "team", world.team_a.pk, "reports.kennzahlen")
    ]


def test_coordinator_sees_the_kreis_page_and_overview_but_no_manager(world) -> None:
    client = client_for(world.ka)

    page = client.get("/berichte/", {"year": 2025})
    overview = client.get("/berichte/uebersicht/")

    assert page.status_code == 200
    assert page.context["unit"].kind == "kreis"
    assert page.context["figures"]["k2_consultations"] == 4
    assert page.context["figures"]["small_cells_suppressed"] is True
    html = page.content.decode()
    assert 'href="/berichte/"' in html
    assert 'href="/berichte/uebersicht/"' in html
    assert world.m1.get_full_name() not in html
    assert overview.status_code == 200
    assert [row["team"] for row in overview.context["rows"]] == [world.team_a]
    assert list(ReportRead.objects.order_by("pk").values_list("report", "view")) == [
        ("kennzahlen", "reports.kennzahlen"),
        ("caseload", "reports.overview"),
    ]
    assert client.get("/berichte/", {"unit": f"manager:{world.m1.pk}"}).status_code == 404
    assert client.get("/berichte/", {"unit": f"kreis:{world.k2.pk}"}).status_code == 404


def test_coordinator_never_opens_a_case_page(world) -> None:
    client = client_for(world.ka)
    case = world.cases["c1"]

    for url in (
        f"/aufgaben/fall/{case.pk}/",
        f"/pruefung/fall/{case.pk}/",
        f"/api/v1/cases/{case.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    home = client.get("/")
    assert home.status_code == 200
    assert world.cases["c1"].person.family_name not in home.content.decode()
