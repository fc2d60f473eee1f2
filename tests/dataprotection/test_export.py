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
    dpo = _client(_dpo(owner.traeger))

    page = dpo.get("/datenschutz/?person=12")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Löschprotokoll" in html
    assert 'href="/datenschutz/personen/12/auskunft.pdf"' in html
