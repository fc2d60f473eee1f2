"""Art. 15 export (JSON and PDF) and the DPO's page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from cases.models import CaseStatus
from tests.accounts.factories import TeamFactory, UserFactory
from tests.cases.factories import journey_to, manager_in

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _dpo(traeger) -> object:
    return UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=traeger)


def test_dpo_exports_everything_about_a_person_as_json_and_pdf() -> None:
    owner = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    person = case.person
    dpo = _client(_dpo(owner.traeger))
    events_before = AuditEvent.objects.filter(event_type="dataprotection.person.exported").count()

    response = dpo.get(f"/datenschutz/personen/{person.pk}/auskunft.json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="auskunft-person-{person.pk}.json"'
    )
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["person"]["family_name"] == person.family_name
    assert data["person"]["id"] == person.pk
    assert [c["id"] for c in data["cases"]] == [case.pk]
    exported = data["cases"][0]
    assert exported["status"] == "ACTIVE"
    assert [g["title"] for p in exported["plans"] for g in p["goals"]] == [
        "Deutschkurs B1 abschließen"
    ]
    assert exported["plans"][0]["goals"][0]["measures"][0]["description"] == "Anmeldung VHS-Kurs"
    assert len(exported["consultations"]) == 1
    assert [i["field_of_action"]["key"] for a in exported["assessments"] for i in a["items"]] == [
        "language"
    ]
    assert [c["scope"] for c in data["consents"]] == ["CASE_PROCESSING"]
    assert exported["history"][0]["event"] == "cases.case.created"

    pdf = dpo.get(f"/datenschutz/personen/{person.pk}/auskunft.pdf")

    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert len(pdf.content) > 2000
    logged = AuditEvent.objects.filter(event_type="dataprotection.person.exported")
    assert logged.count() == events_before + 2
    assert logged.last().object_id == str(person.pk)
    assert logged.last().data == {"cases": [case.pk]}


@pytest.mark.parametrize(
    "who",
    ["owner", "supervisor", "auditor", "admin", "dpo_other_traeger"],
)
def test_everyone_but_the_dpo_of_the_traeger_gets_404(who: str) -> None:
    team = TeamFactory()
    owner = manager_in(team)
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    users = {
        "owner": owner,
        "supervisor": UserFactory(role=Role.SUPERVISOR, team=team),
        "auditor": UserFactory(role=Role.AUDITOR, team=None, traeger=owner.traeger),
        "admin": UserFactory(role=Role.ADMINISTRATOR, team=None, traeger=None),
        "dpo_other_traeger": _dpo(TeamFactory().traeger),
    }
    client = _client(users[who])
    before = AuditEvent.objects.count()

    urls = [
        f"/datenschutz/personen/{case.person_id}/auskunft.json",
        f"/datenschutz/personen/{case.person_id}/auskunft.pdf",
    ]
    if who != "dpo_other_traeger":  # that DPO has an overview of their own Träger
        urls.append("/datenschutz/")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert case.person.family_name not in response.content.decode(errors="ignore")
    assert AuditEvent.objects.count() == before


def test_unknown_or_malformed_person_is_404() -> None:
    dpo = _client(_dpo(TeamFactory().traeger))

    assert dpo.get("/datenschutz/personen/999999/auskunft.json").status_code == 404
    assert dpo.get("/datenschutz/personen/+1/auskunft.json").status_code == 404


def test_overview_lists_erasures_without_content() -> None:
    owner = manager_in(TeamFactory())
    person = journey_to(CaseStatus.ACTIVE, owner=owner).person
    dpo = _client(_dpo(owner.traeger))

    # The lookup lists persons of the DPO's Träger only (by number or name).
    page = dpo.get(f"/datenschutz/?person={person.pk}")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Löschprotokoll" in html
    assert f'href="/datenschutz/personen/{person.pk}/auskunft.pdf"' in html


def test_dpo_finds_a_person_by_name_and_the_lookup_is_logged() -> None:
    from audit.models import ReadAccess

    owner = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    person = case.person
    stranger = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))
    dpo_user = _dpo(owner.traeger)
    dpo = _client(dpo_user)

    by_name = dpo.get(
        "/datenschutz/", {"person": f"{person.given_names.lower()} {person.family_name}"}
    )
    by_number = dpo.get("/datenschutz/", {"person": str(person.pk)})
    nobody = dpo.get("/datenschutz/", {"person": "Niemandsname"})

    html = by_name.content.decode()
    assert by_name.status_code == 200
    assert f"{person.family_name}, {person.given_names}" in html
    assert f'href="/datenschutz/personen/{person.pk}/auskunft.pdf"' in html
    assert f"/datenschutz/personen/{stranger.person.pk}/" not in html  # another Träger's
    assert f"{person.family_name}, {person.given_names}" in by_number.content.decode()
    assert "Keine Person Ihres Trägers passt." in nobody.content.decode()
    assert list(
        ReadAccess.objects.filter(user=dpo_user, view="dataprotection.lookup").values_list(
            "case_id", flat=True
        )
    ) == [case.pk, case.pk]


def test_the_art15_pdf_speaks_german_with_local_times_and_no_codes() -> None:
    import io
    import re

    from django.utils import timezone
    from pypdf import PdfReader

    owner = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    dpo = _client(_dpo(owner.traeger))

    pdf = dpo.get(f"/datenschutz/personen/{case.person.pk}/auskunft.pdf")
    data = dpo.get(f"/datenschutz/personen/{case.person.pk}/auskunft.json").json()

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = " ".join(text.split())
    assert "Auskunft nach Art. 15 DSGVO" in flat
    assert "Familienname" in flat
    assert "In Umsetzung" in flat  # the case's status by its label
    assert "Verarbeitung der Falldaten" in flat  # the consent's scope
    assert re.findall(r"\b[A-Z]{2,}_[A-Z_]+\b", text) == []
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", text) == []
    assert "+00:00" not in text
    assert re.findall(r"\d{4}-\d{2}-\d{2}", text) == []  # dates as 01.02.2026
    offset = timezone.localtime(timezone.now()).strftime("%z")
    assert data["generated_at"].endswith(f"{offset[:3]}:{offset[3:]}")  # local, not UTC


def test_the_export_reaches_the_case_data_other_apps_keep() -> None:
    """Art. 15: the appointments, the handover rows naming the person, the
    transfer packages (without the copied case file), the previous tool's
    references and the clock facts are in the JSON and the PDF."""
    import io
    from datetime import timedelta

    from django.utils import timezone
    from pypdf import PdfReader

    from appointments.services import appointment_plan
    from cases import services

    owner = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    now = timezone.now()
    appointment_plan(
        case=case,
        actor=owner,
        now=now,
        starts_at=now + timedelta(days=2),
        duration_minutes=45,
        form="office",
        topic="health",
        place="Rathaus Zimmer 12",
    )
    services.person_clock_fact_record(
        person=case.person,
        actor=owner,
        now=now,
        source="OTHER_TRAEGER",
        evidence="Bescheinigung der Gemeinde Beispielstadt",
        first_consultation_on=case.consultation_start,
    )
    dpo = _client(_dpo(owner.traeger))

    data = dpo.get(f"/datenschutz/personen/{case.person.pk}/auskunft.json").json()
    pdf = dpo.get(f"/datenschutz/personen/{case.person.pk}/auskunft.pdf")

    exported = data["cases"][0]
    assert [a["place"] for a in exported["appointments"]] == ["Rathaus Zimmer 12"]
    assert exported["handover"] == []
    assert exported["transfer_packages"] == []
    assert exported["previous_tool_references"] == []
    assert [f["evidence"] for f in data["clock_facts"]] == [
        "Bescheinigung der Gemeinde Beispielstadt"
    ]
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "Termine" in text
    assert "Rathaus Zimmer 12" in text
    assert "Bescheinigung der Gemeinde Beispielstadt" in text
