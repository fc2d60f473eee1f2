"""Client documents (upload checked by content, size limit, Art. 9 consent,
audited download) and the CV with its Lebenslauf PDF (issue 20)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent, ReadAccess
from cases import services
from cases.models import CaseStatus, Consent, CvEntry, Document
from tests.cases.factories import give_consent, journey_to
from tests.cases.test_views import World, client_of, url, w  # noqa: F401

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LOTSE_DOCUMENT_MAX_BYTES = 1024


def events(case, kind: str) -> int:
    return AuditEvent.objects.filter(case_id=case.pk, event_type=kind).count()


def upload(case, actor, **kwargs):
    args = {"content": PDF, "kind": "CERTIFICATE", "file_name": "zeugnis.pdf"}
    args.update(kwargs)
    return services.document_upload(case=case, actor=actor, now=timezone.now(), **args)


def test_upload_stores_the_file_with_its_type_size_and_an_audit_event(w: World) -> None:  # noqa: F811
    keep = timezone.localdate() + timedelta(days=200)
    document = upload(w.case, w.owner, title="B1-Zertifikat", retain_until=keep)
    assert (document.kind, document.content_type, document.size) == (
        "CERTIFICATE",
        "application/pdf",
        len(PDF),
    )
    assert document.retain_until == keep
    assert document.original_name == "zeugnis.pdf"
    assert document.file.name.endswith(".pdf")
    assert events(w.case, "cases.document.uploaded") == 1


def test_a_disguised_file_is_refused_by_its_content_and_nothing_is_written(w: World) -> None:  # noqa: F811
    before = AuditEvent.objects.filter(case_id=w.case.pk).count()
    with pytest.raises(services.InvalidArguments) as refused:
        upload(w.case, w.owner, content=b"MZ\x90\x00 an executable", file_name="zeugnis.pdf")
    assert refused.value.code == "file_type_not_allowed"
    assert Document.objects.filter(case=w.case).count() == 0
    assert AuditEvent.objects.filter(case_id=w.case.pk).count() == before


def test_a_png_named_pdf_is_stored_as_png(w: World) -> None:  # noqa: F811
    document = upload(w.case, w.owner, content=PNG, file_name="scan.pdf")
    assert document.content_type == "image/png"
    assert document.file.name.endswith(".png")


def test_a_too_big_file_is_refused(w: World) -> None:  # noqa: F811
    with pytest.raises(services.InvalidArguments) as refused:
        upload(w.case, w.owner, content=PDF + b"x" * 2000)
    assert refused.value.code == "file_too_large"
    assert Document.objects.filter(case=w.case).count() == 0


def test_art9_document_needs_an_active_art9_consent(w: World) -> None:  # noqa: F811
    with pytest.raises(services.GuardFailed) as refused:
        upload(w.case, w.owner, kind="MEDICAL_PROOF")
    assert refused.value.code == "art9_consent_missing"
    with pytest.raises(services.GuardFailed):
        upload(w.case, w.owner, kind="OTHER", sensitivity="ART9")
    assert Document.objects.filter(case=w.case).count() == 0
    give_consent(w.case, scope=Consent.Scope.SPECIAL_CATEGORIES_ART9, now=timezone.now())
    document = upload(w.case, w.owner, kind="MEDICAL_PROOF")
    assert document.sensitivity == Document.Sensitivity.ART9


def test_download_is_an_audit_event_and_a_read(w: World) -> None:  # noqa: F811
    document = upload(w.case, w.owner)
    client = client_of(w.owner)
    response = client.get(reverse("documents:download", args=[w.case.pk, document.pk]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert events(w.case, "cases.document.downloaded") == 1
    assert ReadAccess.objects.filter(
        case_id=w.case.pk, user=w.owner, view="cases.document_download"
    ).exists()


@pytest.mark.parametrize("who", ["colleague", "manager_other", "lead", "auditor"])
def test_others_cannot_download(w: World, who: str) -> None:  # noqa: F811
    document = upload(w.case, w.owner)
    response = client_of(getattr(w, who)).get(
        reverse("documents:download", args=[w.case.pk, document.pk])
    )
    assert response.status_code in (403, 404)
    assert events(w.case, "cases.document.downloaded") == 0


def test_a_document_of_another_case_is_a_404(w: World) -> None:  # noqa: F811
    other = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    document = upload(other, w.owner)
    response = client_of(w.owner).get(reverse("documents:download", args=[w.case.pk, document.pk]))
    assert response.status_code == 404


def test_upload_page_stores_a_document_and_refuses_a_disguised_one(w: World) -> None:  # noqa: F811
    client = client_of(w.owner)
    target = reverse("documents:upload", args=[w.case.pk])
    fake = io.BytesIO(b"GIF89a not allowed")
    fake.name = "zeugnis.pdf"
    response = client.post(target, {"file": fake, "kind": "CERTIFICATE", "sensitivity": "NORMAL"})
    assert response.status_code == 400
    assert "nicht angenommen" in response.content.decode() or "PDF" in response.content.decode()
    real = io.BytesIO(PDF)
    real.name = "zeugnis.pdf"
    response = client.post(
        target, {"file": real, "kind": "CERTIFICATE", "sensitivity": "NORMAL", "title": "Zeugnis"}
    )
    assert response.status_code == 302
    assert Document.objects.filter(case=w.case, title="Zeugnis").count() == 1


def test_case_page_queries_do_not_grow_with_50_documents(w: World) -> None:  # noqa: F811
    few = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    many = journey_to(CaseStatus.ACTIVE, owner=w.owner)
    upload(few, w.owner)
    for number in range(50):
        upload(many, w.owner, title=f"Dokument {number}")
    client = client_of(w.owner)
    client.get(url("cases:detail", few))

    def count(case) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("cases:detail", case))
        assert response.status_code == 200
        return len(queries)

    assert count(few) == count(many)
    # Each document is listed twice: in the documents table and in the chronology.
    assert client.get(url("cases:detail", many)).content.decode().count("Herunterladen") == 100


def test_cv_entries_and_the_lebenslauf_pdf(w: World) -> None:  # noqa: F811
    now = timezone.now()
    services.cv_entry_add(
        case=w.case,
        actor=w.owner,
        now=now,
        kind="EDUCATION",
        title="Abitur",
        organisation="Gymnasium Aleppo",
        started_on="2005-09-01",
        ended_on="2008-06-30",
    )
    services.cv_entry_add(
        case=w.case, actor=w.owner, now=now, kind="LANGUAGE", title="Deutsch", level="B1"
    )
    with pytest.raises(services.InvalidArguments):
        services.cv_entry_add(
            case=w.case, actor=w.owner, now=now, kind="LANGUAGE", title="Englisch"
        )
    with pytest.raises(services.InvalidArguments):
        services.cv_entry_add(
            case=w.case,
            actor=w.owner,
            now=now,
            kind="WORK",
            title="Tischler",
            started_on="2010-01-01",
            ended_on="2009-01-01",
        )
    assert CvEntry.objects.filter(case=w.case).count() == 2
    assert events(w.case, "cases.cv_entry.added") == 2
    response = client_of(w.owner).get(reverse("documents:cv_pdf", args=[w.case.pk]))
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("Lebenslauf", "Abitur", "Gymnasium Aleppo", "09/2005 – 06/2008", "B1"):
        assert expected in text, expected
    assert "Sprachkenntnisse" in text
    assert client_of(w.lead).get(reverse("documents:cv_pdf", args=[w.case.pk])).status_code == 403


def test_cv_page_adds_and_removes_an_entry(w: World) -> None:  # noqa: F811
    client = client_of(w.owner)
    target = reverse("documents:cv", args=[w.case.pk])
    response = client.post(target, {"kind": "LANGUAGE", "title": "Arabisch", "level": ""})
    assert response.status_code == 400
    response = client.post(target, {"kind": "LANGUAGE", "title": "Arabisch", "level": "NATIVE"})
    assert response.status_code == 302
    entry = CvEntry.objects.get(case=w.case)
    client.post(reverse("documents:cv_entry_remove", args=[w.case.pk, entry.pk]))
    entry.refresh_from_db()
    assert entry.removed_at is not None
    assert "Arabisch" not in client.get(target).content.decode().split("cv-add-title")[0]


# --- the API -----------------------------------------------------------------------


def api_of(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_uploads_lists_and_downloads_a_document(w: World) -> None:  # noqa: F811
    api = api_of(w.owner)
    target = f"/api/v1/cases/{w.case.pk}/documents/"
    scan = io.BytesIO(PDF)
    scan.name = "zeugnis.pdf"
    response = api.post(
        target, {"file": scan, "kind": "certificate", "title": "Zeugnis"}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["sensitivity"], body["content_type"]) == (
        "certificate",
        "normal",
        "application/pdf",
    )
    listed = api.get(target).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    download = api.get(f"{target}{body['id']}/")
    assert download.status_code == 200
    assert download.content == PDF
    assert events(w.case, "cases.document.downloaded") == 1


def test_api_refuses_a_disguised_a_too_big_and_an_art9_file(w: World) -> None:  # noqa: F811
    api = api_of(w.owner)
    target = f"/api/v1/cases/{w.case.pk}/documents/"

    def send(content: bytes, kind: str = "certificate") -> Any:
        upload = io.BytesIO(content)
        upload.name = "scan.pdf"
        return api.post(target, {"file": upload, "kind": kind}, format="multipart")

    disguised = send(b"<html><script>alert(1)</script></html>")
    assert (disguised.status_code, disguised.json()["code"]) == (400, "file_type_not_allowed")
    big = send(PDF + b"x" * 5000)
    assert (big.status_code, big.json()["code"]) == (400, "file_too_large")
    art9 = send(PDF, kind="medical_proof")
    assert (art9.status_code, art9.json()["code"]) == (409, "art9_consent_missing")
    old_spelling = send(PDF, kind="CERTIFICATE")
    assert old_spelling.status_code == 400
    assert Document.objects.filter(case=w.case).count() == 0
    assert events(w.case, "cases.document.uploaded") == 0


def test_api_documents_of_a_foreign_case_are_a_404(w: World) -> None:  # noqa: F811
    document = upload(w.case, w.owner)
    api = api_of(w.manager_other)
    assert api.get(f"/api/v1/cases/{w.case.pk}/documents/").status_code == 404
    assert api.get(f"/api/v1/cases/{w.case.pk}/documents/{document.pk}/").status_code == 404
    assert api_of(w.lead).get(f"/api/v1/cases/{w.case.pk}/documents/").status_code == 403


def test_api_cv_entries(w: World) -> None:  # noqa: F811
    api = api_of(w.owner)
    target = f"/api/v1/cases/{w.case.pk}/cv-entries/"
    response = api.post(
        target, {"kind": "language", "title": "Deutsch", "level": "b1"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["level"]) == ("language", "b1")
    missing = api.post(target, {"kind": "language", "title": "Englisch"}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")
    assert [row["title"] for row in api.get(target).json()] == ["Deutsch"]
    assert api.delete(f"{target}{response.json()['id']}/").status_code == 204
    assert api.get(target).json() == []


def test_delete_page_removes_the_file_and_keeps_the_row(
    w: World,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    document = upload(w.case, w.owner)
    name = document.file.name
    storage = document.file.storage
    client = client_of(w.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents:delete", args=[w.case.pk, document.pk]))
    assert response.status_code == 302
    document.refresh_from_db()
    assert not document.file
    assert not storage.exists(name)
    assert events(w.case, "cases.document.deleted") == 1
    gone = client.get(reverse("documents:download", args=[w.case.pk, document.pk]))
    assert gone.status_code == 404
