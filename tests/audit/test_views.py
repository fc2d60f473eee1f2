"""The auditor's pages: timeline, access reports and export.

Auditors and data-protection officers of the case's Träger see them; every
other role and every foreign auditor gets 404 and leaves no read behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent, ReadAccess
from audit.verify_export import first_broken_link
from cases.models import Case, CaseStatus
from tests.accounts.factories import TeamFactory, UserFactory
from tests.cases.factories import journey_to, manager_in, supervisor_of

pytestmark = pytest.mark.django_db


@dataclass
class World:
    case: Case
    owner: Any
    lead: Any
    auditor: Any
    dpo: Any
    foreign_auditor: Any


@pytest.fixture
def world() -> World:
    team = TeamFactory()
    owner = manager_in(team, first_name="Imke", last_name="Berger")
    now = timezone.now() - timedelta(days=2)
    case = journey_to(CaseStatus.ACTIVE, owner=owner, now=now)
    return World(
        case=case,
        owner=owner,
        lead=supervisor_of(team),
        auditor=UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
        dpo=UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=team.traeger),
        foreign_auditor=UserFactory(role=Role.AUDITOR, team=None, traeger=TeamFactory().traeger),
    )


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reads(case: Case) -> list[tuple[int, str]]:
    return list(
        ReadAccess.objects.filter(case_id=case.pk).order_by("pk").values_list("user_id", "view")
    )


@pytest.mark.parametrize("who", ["auditor", "dpo"])
def test_auditor_sees_the_timeline_in_german_and_the_visit_is_logged(world, who) -> None:
    user = getattr(world, who)
    before = reads(world.case)

    response = client_of(user).get(f"/pruefung/fall/{world.case.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Fallverlauf" in html
    assert "Schritt „Plan vereinbart“: Status Planung → In Umsetzung." in html
    assert html.index("Hat den Fall erfasst") < html.index("Schritt „Plan vereinbart“")
    # The visit itself is logged first, so the timeline already shows it.
    assert "Hat die Falldaten angesehen: Fallverlauf (Prüfung)." in html
    assert "Hat einem Ziel einen Schritt hinzugefügt." in html
    assert "geändert (Inhalt nicht protokolliert)" in html
    assert "Deutschkurs" not in html  # the goal's title is client content
    assert reads(world.case) == [*before, (user.pk, "audit.timeline")]


@pytest.mark.parametrize("who", ["owner", "lead", "foreign_auditor"])
def test_everyone_else_gets_404_and_no_read_is_logged(world, who) -> None:
    before = reads(world.case)
    client = client_of(getattr(world, who))

    for url in (
        f"/pruefung/fall/{world.case.pk}/",
        f"/pruefung/fall/{world.case.pk}/export.json",
        f"/pruefung/fall/{world.case.pk}/export.pdf",
        f"/pruefung/zugriffe/fall/?fall={world.case.pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert reads(world.case) == before


def test_an_unknown_case_and_a_bad_id_are_404(world) -> None:
    client = client_of(world.auditor)

    assert client.get("/pruefung/fall/999999999/").status_code == 404
    assert client.get("/pruefung/fall/%2B1/").status_code == 404
    assert client.get(f"/pruefung/fall/{world.case.pk}/export.xml").status_code == 404


def test_timeline_filters_by_kind_actor_and_period(world) -> None:
    client = client_of(world.auditor)
    client_of(world.owner).get(f"/aufgaben/fall/{world.case.pk}/")  # one read by the owner

    only_reads = client.get(f"/pruefung/fall/{world.case.pk}/", {"art": "read"})
    by_auditor = client.get(
        f"/pruefung/fall/{world.case.pk}/", {"art": "read", "person": world.auditor.pk}
    )
    transitions = client.get(f"/pruefung/fall/{world.case.pk}/", {"art": "transition"})
    future = client.get(f"/pruefung/fall/{world.case.pk}/", {"von": "2099-01-01"})

    assert only_reads.content.decode().count("Hat die Falldaten angesehen") == 2
    assert "Aufgaben des Falls" in only_reads.content.decode()  # workflows.case, by name
    assert "Hat eine Beratung erfasst" not in only_reads.content.decode()
    # the auditor's own two visits so far, not the owner's read
    assert by_auditor.content.decode().count("Hat die Falldaten angesehen") == 2
    assert "workflows.case" not in by_auditor.content.decode()
    html = transitions.content.decode()
    assert html.count("Hat den Fall erfasst") == 1
    assert html.count("Schritt „") == 3  # first consultation, draft, agree
    assert "Hat eine Beratung erfasst" not in html
    assert "Für diese Auswahl gibt es keine Einträge." in future.content.decode()


def test_timeline_refuses_bad_filters_in_german(world) -> None:
    response = client_of(world.auditor).get(
        f"/pruefung/fall/{world.case.pk}/", {"von": "2026-05-01", "bis": "2026-04-01"}
    )

    assert response.status_code == 400
    assert "Das Ende liegt vor dem Anfang." in response.content.decode()


def test_timeline_is_paginated(world) -> None:
    client = client_of(world.owner)
    for _ in range(60):
        client.get(f"/aufgaben/fall/{world.case.pk}/")
    auditor = client_of(world.auditor)

    first = auditor.get(f"/pruefung/fall/{world.case.pk}/", {"art": "read"})
    second = auditor.get(f"/pruefung/fall/{world.case.pk}/", {"art": "read", "seite": 2})

    assert first.content.decode().count("Hat die Falldaten angesehen") == 50
    assert "Seite 1 von 2" in first.content.decode()
    # 60 reads by the owner and the auditor's own two visits
    assert second.content.decode().count("Hat die Falldaten angesehen") == 12


def test_the_start_page_and_the_case_page_link_the_timeline_for_auditors(world) -> None:
    url = f"/pruefung/fall/{world.case.pk}/"

    assert url in client_of(world.auditor).get("/").content.decode()
    assert url in client_of(world.auditor).get(f"/aufgaben/fall/{world.case.pk}/").content.decode()
    assert (
        url not in client_of(world.owner).get(f"/aufgaben/fall/{world.case.pk}/").content.decode()
    )


def test_json_export_verifies_offline_and_is_logged_as_a_read(world) -> None:
    response = client_of(world.auditor).get(f"/pruefung/fall/{world.case.pk}/export.json")

    assert response.status_code == 200
    document = json.loads(response.content)
    events = AuditEvent.objects.filter(chain_key=f"case:{world.case.pk}").order_by("seq")
    assert [e["hash"] for e in document["events"]] == [e.hash for e in events]
    assert document["head_hash"] == events.last().hash
    assert first_broken_link(document) is None
    assert reads(world.case)[-1] == (world.auditor.pk, "audit.export_json")


def test_csv_export_carries_every_event_with_its_hashes(world) -> None:
    response = client_of(world.dpo).get(f"/pruefung/fall/{world.case.pk}/export.csv")

    lines = response.content.decode("utf-8-sig").splitlines()
    events = list(AuditEvent.objects.filter(chain_key=f"case:{world.case.pk}").order_by("seq"))
    assert lines[0].split(";")[:3] == ["seq", "occurred_at", "actor_id"]
    assert len(lines) == 1 + len(events)
    assert lines[1].endswith(f"{events[0].prev_hash};{events[0].hash}")
    assert reads(world.case)[-1] == (world.dpo.pk, "audit.export_csv")


def test_pdf_export_is_a_pdf(world) -> None:
    response = client_of(world.auditor).get(f"/pruefung/fall/{world.case.pk}/export.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert reads(world.case)[-1] == (world.auditor.pk, "audit.export_pdf")


def test_case_access_report_names_who_read_the_case(world) -> None:
    client_of(world.owner).get(f"/aufgaben/fall/{world.case.pk}/")
    client_of(world.owner).get(f"/aufgaben/fall/{world.case.pk}/")
    client = client_of(world.auditor)

    page = client.get("/pruefung/zugriffe/fall/", {"fall": world.case.pk})
    csv_rows = (
        client.get("/pruefung/zugriffe/fall/", {"fall": world.case.pk, "format": "csv"})
        .content.decode("utf-8-sig")
        .splitlines()
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert "Imke Berger (Integrationsmanager:in)" in html
    assert "<td>2</td>" in html
    owner_rows = [row for row in csv_rows[1:] if row.split(";")[1] == str(world.owner.pk)]
    assert [row.split(";")[4] for row in owner_rows] == ["workflows.case", "workflows.case"]


def test_user_access_report_lists_only_cases_in_scope(world) -> None:
    client_of(world.owner).get(f"/aufgaben/fall/{world.case.pk}/")
    ReadAccess.objects.create(
        user=world.owner,
        user_role=world.owner.role,
        case_id=10**12,  # a case outside the auditor's Träger
        view="elsewhere",
        accessed_at=timezone.now(),
    )

    response = client_of(world.auditor).get(
        "/pruefung/zugriffe/nutzer/", {"nutzer": world.owner.pk, "format": "csv"}
    )

    rows = response.content.decode("utf-8-sig").splitlines()[1:]
    assert {row.split(";")[3] for row in rows} == {str(world.case.pk)}
    assert "elsewhere" not in response.content.decode()


def test_user_access_report_refuses_a_user_of_another_traeger(world) -> None:
    response = client_of(world.auditor).get(
        "/pruefung/zugriffe/nutzer/", {"nutzer": world.foreign_auditor.pk}
    )

    assert response.status_code == 400


def test_user_access_report_lists_the_report_figures_the_user_read(world) -> None:
    year = timezone.localdate().year
    assert client_of(world.owner).get("/berichte/", {"year": year}).status_code == 200

    response = client_of(world.auditor).get(
        "/pruefung/zugriffe/nutzer/", {"nutzer": world.owner.pk}
    )

    [read] = response.context["report_reads"]
    assert (read.user_id, read.report, read.scope_kind, read.scope_id, read.view) == (
        world.owner.pk,
        "kennzahlen",
        "manager",
        world.owner.pk,
        "reports.kennzahlen",
    )
    assert (read.period_from.year, read.period_to.year) == (year, year)
    assert response.context["more_report_reads"] is False
    assert "Abgerufene Berichtszahlen" in response.content.decode()
