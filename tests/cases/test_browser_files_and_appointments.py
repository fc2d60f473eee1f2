"""Documents, the CV and an appointment in a real browser (issue 20):
a manager uploads a certificate and downloads it again, adds a language
to the CV and prints the Lebenslauf, plans an appointment, and records
after its time that the client did not come (a K2x consultation).

Same setup as `test_browser_journey` (Debian's Chromium, Django's live
server, screenshots under var/artifacts/playwright/).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from appointments.models import Appointment
from audit.models import AuditEvent
from cases.models import CaseStatus, Consultation, CvEntry, Document
from tests.accounts.factories import TeamFactory
from tests.cases.factories import ensure_catalogues, journey_to, manager_in
from tests.cases.test_browser_journey import Screen, browser  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_documents_cv_and_a_missed_appointment_in_the_browser(
    browser: Any,  # noqa: F811
    live_server: Any,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_catalogues()
    owner = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=owner, now=timezone.now() - timedelta(days=20))
    case_page = f"/faelle/{case.pk}/"
    manager = Screen(browser, live_server.url)
    manager.sign_in(owner.username)

    # --- upload a certificate and download it again ----------------------------
    manager.go(case_page)
    manager.page.get_by_role("link", name="Dokument hochladen").click()
    scan = tmp_path / "zeugnis.pdf"
    scan.write_bytes(PDF)
    manager.page.get_by_label("Datei").set_input_files(str(scan))
    manager.page.get_by_label("Art des Dokuments").select_option("CERTIFICATE")
    manager.page.get_by_label("Titel").fill("Zeugnis Klasse 12")
    manager.page.get_by_label("Normal", exact=False).first.check()
    manager.shot("document-upload")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Dokument speichern").click()
    assert manager.page.url.endswith(case_page + "#dokumente")
    document = Document.objects.get(case=case)
    assert (document.title, document.content_type) == ("Zeugnis Klasse 12", "application/pdf")
    with manager.page.expect_download() as download:
        # the chronology (#chronik) lists the document too, with the same link
        manager.page.locator("#dokumente").get_by_role("link", name="Herunterladen").click()
    assert Path(download.value.path()).read_bytes() == PDF
    assert AuditEvent.objects.filter(
        case_id=case.pk, event_type="cases.document.downloaded"
    ).exists()

    # --- the CV and its Lebenslauf --------------------------------------------------
    manager.page.get_by_role("link", name="Lebenslauf und Kompetenzen").first.click()
    manager.page.get_by_label("Art", exact=True).select_option("LANGUAGE")
    manager.page.get_by_label("Was", exact=True).fill("Deutsch")
    manager.page.get_by_label("Niveau (Sprachen)").select_option("B1")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="In den Lebenslauf aufnehmen").click()
    assert CvEntry.objects.filter(case=case, level="B1").count() == 1
    manager.shot("cv")
    pdf_url = manager.page.get_by_role("link", name="Lebenslauf (PDF)").get_attribute("href")
    response = manager.context.request.get(live_server.url + pdf_url)
    assert response.status == 200
    assert response.body().startswith(b"%PDF")

    # --- an appointment, missed ------------------------------------------------------
    manager.go(case_page)
    manager.page.get_by_role("link", name="Termine planen und verwalten").click()
    tomorrow = timezone.localdate() + timedelta(days=1)
    manager.page.get_by_label("Datum", exact=True).fill(tomorrow.isoformat())
    manager.page.get_by_label("Uhrzeit").fill("10:30")
    manager.page.get_by_label("Dauer (Minuten)").fill("45")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Termin planen").click()
    appointment = Appointment.objects.get(case=case)
    assert appointment.status == Appointment.Status.PLANNED
    manager.shot("appointments")
    # The day has come and gone.
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() - timedelta(hours=3)
    )
    manager.page.reload()
    manager.page.once("dialog", lambda dialog: dialog.accept())
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Nicht erschienen").click()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert Consultation.objects.get(pk=appointment.consultation_id).status == "NO_SHOW"
    assert "nicht erschienen" in manager.page.content()
    manager.sign_out()
