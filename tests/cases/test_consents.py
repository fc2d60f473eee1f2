"""Consents with the fields of DOMAIN.md §14.2: legal basis, guardian,
information text version, interpreter language, withdrawal channel and the
evidence scan; validated, audited with codes only, exported (Art. 15)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from cases import services
from cases.models import CaseStatus, Consent, Document
from tests.accounts.factories import TeamFactory, UserFactory, api_key
from tests.cases.factories import journey_to, manager_in

pytestmark = pytest.mark.django_db

GUARDIAN = "Qzx-Vormund Beispiel"
PDF = b"%PDF-1.4\n% Einwilligung\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def case():
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def events(case, event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(case_id=case.pk, event_type=event_type).order_by("seq"))


def test_consent_by_a_guardian_is_recorded_with_codes_in_the_audit_event(case) -> None:
    client = api(case.owner)

    response = client.post(
        f"/api/v1/cases/{case.pk}/consents/",
        {
            "scope": "special_categories_art9",
            "form": "signed_paper",
            "language": "ti",
            "given_by": "legal_guardian",
            "guardian_name": GUARDIAN,
            "interpreter": "Dolmetscherdienst",
            "interpreter_language": "ti",
            "purpose_version": "Art9-Info v2",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {
        k: body[k] for k in ("legal_basis", "given_by", "guardian_name", "purpose_version")
    } == {
        "legal_basis": "consent_art9_2a",
        "given_by": "legal_guardian",
        "guardian_name": GUARDIAN,
        "purpose_version": "Art9-Info v2",
    }
    assert (body["interpreter_language"], body["withdrawal_channel"], body["evidence"]) == (
        "ti",
        "",
        None,
    )
    (event,) = events(case, "cases.consent.recorded")[-1:]
    assert event.reason == "SPECIAL_CATEGORIES_ART9"
    assert {k: event.data[k] for k in ("legal_basis", "given_by", "form")} == {
        "legal_basis": "CONSENT_ART9_2A",
        "given_by": "LEGAL_GUARDIAN",
        "form": "SIGNED_PAPER",
    }
    assert GUARDIAN not in json.dumps(event.data)
    assert "ti" not in json.dumps(
        [c["fields"].get("interpreter_language") for c in event.data["changes"]]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "special_categories_art9", "legal_basis": "consent_art6_1a"}, "legal_basis"),
        ({"scope": "team_sharing", "legal_basis": "consent_art9_2a"}, "legal_basis"),
        ({"scope": "team_sharing", "given_by": "legal_guardian"}, "guardian_name"),
        ({"scope": "team_sharing", "guardian_name": GUARDIAN}, "guardian_name"),
        ({"scope": "team_sharing", "given_by": "neighbour"}, "given_by"),
    ],
)
def test_consent_that_does_not_fit_is_refused_and_nothing_is_written(case, body, field) -> None:
    before = (Consent.objects.count(), AuditEvent.objects.filter(case_id=case.pk).count())

    response = api(case.owner).post(
        f"/api/v1/cases/{case.pk}/consents/",
        {"form": "signed_paper", "language": "ar", **body},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert response.json()["detail"]
    assert GUARDIAN not in response.content.decode()
    assert (Consent.objects.count(), AuditEvent.objects.filter(case_id=case.pk).count()) == before


def test_withdrawal_needs_its_channel_and_records_it(case) -> None:
    consent = services.consent_record(
        case=case,
        actor=case.owner,
        now=timezone.now(),
        scope="TEAM_SHARING",
        form="SIGNED_PAPER",
        language="ar",
    )
    url = f"/api/v1/cases/{case.pk}/consents/{consent.pk}/withdraw/"
    client = api(case.owner)

    missing = client.post(url, {}, format="json")
    consent.refresh_from_db()
    assert missing.status_code == 400
    assert "channel" in missing.json()["fields"]
    assert (consent.withdrawn_at, consent.withdrawal_channel) == (None, "")

    done = client.post(url, {"channel": "messenger"}, format="json")

    assert done.status_code == 200
    assert done.json()["withdrawal_channel"] == "messenger"
    (event,) = events(case, "cases.consent.withdrawn")
    assert (event.reason, event.data["channel"]) == ("TEAM_SHARING", "MESSENGER")


def test_withdraw_consent_transition_records_the_channel_on_the_processing_consent() -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())
    client = api(case.owner)
    url = f"/api/v1/cases/{case.pk}/transitions/withdraw_consent/"

    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400
    assert "channel" in missing.json()["fields"]

    done = client.post(url, {"channel": "written"}, format="json")

    assert done.status_code == 200, done.content
    consent = Consent.objects.get(case=case, scope="CASE_PROCESSING")
    assert consent.withdrawal_channel == "WRITTEN"
    assert events(case, "cases.case.withdraw_consent")[0].data["channel"] == "WRITTEN"


def test_evidence_scan_is_stored_once_as_the_cases_consent_form(case, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    consent = services.consent_record(
        case=case,
        actor=case.owner,
        now=timezone.now() - timedelta(minutes=1),
        scope="SPECIAL_CATEGORIES_ART9",
        form="SIGNED_PAPER",
        language="ar",
    )
    url = f"/api/v1/cases/{case.pk}/consents/{consent.pk}/evidence/"
    client = api(case.owner)

    text = client.post(url, {"file": SimpleUploadedFile("x.txt", b"hello")}, format="multipart")
    missing = client.post(url, {}, format="multipart")
    stored = client.post(url, {"file": SimpleUploadedFile("scan.pdf", PDF)}, format="multipart")
    again = client.post(url, {"file": SimpleUploadedFile("scan.pdf", PDF)}, format="multipart")

    assert (text.status_code, missing.status_code) == (400, 400)
    assert text.json()["fields"] == {"file": ["Laden Sie eine PDF-, PNG- oder JPEG-Datei hoch."]}
    assert stored.status_code == 201, stored.content
    document = Document.objects.get(case=case)
    assert stored.json()["evidence"] == document.pk
    assert (document.kind, document.sensitivity) == ("CONSENT_FORM", "ART9")
    assert document.file.read() == PDF
    assert again.status_code == 409
    assert again.json()["code"] == "evidence_exists"
    assert Document.objects.filter(case=case).count() == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [
        f"einwilligung-{consent.pk}.pdf"
    ]
    (event,) = events(case, "cases.consent.evidence_attached")
    assert event.data["document_id"] == document.pk


def test_supervisor_cannot_upload_evidence(case) -> None:
    from tests.cases.factories import supervisor_of

    consent = Consent.objects.filter(case=case).first()
    response = api(supervisor_of(case.owner.team)).post(
        f"/api/v1/cases/{case.pk}/consents/{consent.pk}/evidence/",
        {"file": SimpleUploadedFile("scan.pdf", PDF)},
        format="multipart",
    )

    assert response.status_code == 403
    assert Document.objects.filter(case=case).count() == 0


def test_art15_export_shows_the_new_consent_fields(case) -> None:
    services.consent_record(
        case=case,
        actor=case.owner,
        now=timezone.now(),
        scope="TEAM_SHARING",
        form="DOCUMENTED_VERBAL",
        language="fa",
        given_by="LEGAL_GUARDIAN",
        guardian_name=GUARDIAN,
        purpose_version="Team v1",
    )
    dpo = UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=case.traeger)
    client = Client()
    client.force_login(dpo)

    data = json.loads(client.get(f"/datenschutz/personen/{case.person_id}/auskunft.json").content)

    exported = next(c for c in data["consents"] if c["scope"] == "TEAM_SHARING")
    assert {
        k: exported[k]
        for k in ("legal_basis", "given_by", "guardian_name", "purpose_version", "evidence_id")
    } == {
        "legal_basis": "CONSENT_ART6_1A",
        "given_by": "LEGAL_GUARDIAN",
        "guardian_name": GUARDIAN,
        "purpose_version": "Team v1",
        "evidence_id": None,
    }
    assert exported["withdrawal_channel"] == ""


def test_retention_erases_the_guardians_name_and_keeps_the_codes() -> None:
    case = journey_to(CaseStatus.CLOSED, owner=manager_in(TeamFactory()))
    consent = services.consent_record(
        case=case,
        actor=case.owner,
        now=case.closed_at,
        scope="TEAM_SHARING",
        form="SIGNED_PAPER",
        language="ar",
        given_by="LEGAL_GUARDIAN",
        guardian_name=GUARDIAN,
        interpreter_language="ar",
    )
    later = case.closed_at.replace(year=case.closed_at.year + 4, month=1, day=2)

    services.case_transition(case=case, name="retention_elapsed", actor=None, now=later)

    consent.refresh_from_db()
    assert (consent.guardian_name, consent.interpreter_language, consent.language) == (
        "—",
        "",
        "—",
    )
    assert (consent.given_by, consent.legal_basis) == ("LEGAL_GUARDIAN", "CONSENT_ART6_1A")
