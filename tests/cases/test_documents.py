"""Client documents in the client's language (issue 21): the Integrationsplan
and the consent form with its Art. 13 information, in German and seven more
languages beside German, Arabic script shaped and right to left, each script
in its font, an unreviewed translation marked as such.

The plan of every language is rendered to PNG under var/artifacts/documents/
(pdftoppm from poppler-utils, which `make` installs; without it the
rendering test is skipped, except in CI where it fails).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from pypdf import PdfReader
from pypdf.generic import ContentStream

from cases.documents import languages
from cases.documents.layout import Document
from cases.models import Consent
from tests.cases.test_views import NOW, SECRET, World, client_of, reads, url, w  # noqa: F401

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(settings.BASE_DIR) / "var" / "artifacts" / "documents"
CODES = [language.code for language in languages.DOCUMENT_LANGUAGES]


def text_of(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages)


def drawn_chunks(body: bytes) -> list[str]:
    """Each string the PDF draws, in the order it draws its characters
    (left to right), decoded through the fonts' ToUnicode maps. Unlike text
    extraction, which puts right-to-left text back into reading order, this
    shows what is on the page."""
    reader = PdfReader(io.BytesIO(body))
    chunks = []
    for page in reader.pages:
        maps = {}
        for name, ref in page["/Resources"]["/Font"].items():
            font = ref.get_object()
            if "/ToUnicode" in font:
                cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
                pairs = re.findall(r"<([0-9A-Fa-f]{2})> <([0-9A-Fa-f]{4})>", cmap)
                maps[name] = {int(a, 16): chr(int(b, 16)) for a, b in pairs if int(b, 16)}
        current: dict[int, str] = {}
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = maps.get(operands[0], {})
            elif operator == b"Tj":
                raw = operands[0]
                codes = getattr(raw, "original_bytes", None) or bytes(raw, "latin-1")
                chunks.append("".join(current.get(code, chr(code)) for code in codes))
    return chunks


def letters(text: str, low: int, high: int) -> list[str]:
    return [c for c in text if low <= ord(c) <= high and unicodedata.category(c).startswith("L")]


def plan(w: World, code: str) -> Any:  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        return client_of(w.owner).get(url("cases:plan_pdf", w.case, sprache=code))


def consent(w: World, code: str) -> Any:  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        return client_of(w.owner).get(url("cases:consent_pdf", w.case, sprache=code))


# What each language's plan must show in its own words and script.
OWN_WORDS = {
    "en": "Integration plan",
    "tr": "Entegrasyon planı",
    "ru": "План интеграции",
    "uk": "План інтеграції",
    "ti": "መደብ ምውህሃድ",
}
SCRIPT_RANGES = {
    "ar": (0xFB50, 0xFEFF),  # shaped: Arabic presentation forms
    "fa": (0xFB50, 0xFEFF),
    "uk": (0x0400, 0x04FF),
    "ru": (0x0400, 0x04FF),
    "ti": (0x1200, 0x139F),
}


@pytest.mark.parametrize("code", CODES)
def test_the_plan_prints_in_each_language_beside_german(w: World, code: str) -> None:  # noqa: F811
    response = plan(w, code)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(f'-{code}.pdf"')
    text = text_of(response.content)
    # German always: what the Träger reads and the client signs beside.
    for german in ("Integrationsplan", "Unterschrift Klient:in", "Ziel 1", f"{SECRET}, Amal"):
        assert german in text, (code, german)
    assert "Gedruckt am 02.03.2026" in text
    assert "Arabisch" in text  # the language of the talk, recorded as "ar"
    if code in OWN_WORDS:
        assert OWN_WORDS[code] in text, code
    if code in SCRIPT_RANGES:
        low, high = SCRIPT_RANGES[code]
        assert len(letters(text, low, high)) > 100, code
    if code == "de":
        assert "Signature" not in text
        assert "ትግርኛ" not in text


def test_arabic_is_shaped_and_in_visual_order(w: World) -> None:  # noqa: F811
    body = plan(w, "ar").content
    text = text_of(body)

    # "خطة الاندماج" (integration plan), typed in logical order, must be
    # drawn with its letters in their joined forms (initial khah, medial
    # tah, final teh marbuta; lam-alef ligature ...) and right to left, so
    # that read left to right the page shows the last letter first.
    logical = "خطة الاندماج"
    drawn = "".join(
        chr(c)
        for c in (
            0xFE9D,
            0xFE8E,
            0xFEE3,
            0xFEAA,
            0xFEE7,
            0xFEFB,
            0xFE8D,
            0x20,
            0xFE94,
            0xFEC4,
            0xFEA7,
        )
    )
    assert drawn in drawn_chunks(body)
    assert logical not in "".join(drawn_chunks(body))
    # Text extraction reads it back in logical order, shaped.
    assert "".join(reversed(drawn)) in text
    # No unshaped Arabic letter is left anywhere on the page.
    assert letters(text, 0x0620, 0x064A) == []
    # A Persian letter outside Arabic's alphabet is shaped too (peh, gaf).
    farsi = text_of(plan(w, "fa").content)
    assert any(0xFB56 <= ord(c) <= 0xFB59 or 0xFB92 <= ord(c) <= 0xFB95 for c in farsi)


def test_an_unreviewed_translation_says_so_on_the_document(
    w: World,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notice = (
        "Diese Übersetzung (Arabisch) wurde noch nicht geprüft. Maßgeblich ist der deutsche Text."
    )
    assert notice in text_of(plan(w, "ar").content)
    assert notice in text_of(consent(w, "ar").content)
    assert "noch nicht geprüft" not in text_of(plan(w, "en").content)  # listed as reviewed
    assert "noch nicht geprüft" not in text_of(plan(w, "de").content)

    reviewed = tmp_path / "reviewed.toml"
    reviewed.write_text('[ar]\nreviewed_by = "A. Translator"\nreviewed_on = 2026-12-01\n')
    monkeypatch.setattr(languages, "reviews_file", lambda: reviewed)
    assert "noch nicht geprüft" not in text_of(plan(w, "ar").content)


def test_the_reviews_file_lists_only_what_was_reviewed() -> None:
    assert languages.is_reviewed("de")
    assert languages.is_reviewed("en")
    for code in ("ar", "fa", "uk", "ru", "tr", "ti"):
        assert not languages.is_reviewed(code), code


@pytest.mark.parametrize("code", CODES)
def test_the_consent_form_and_information_print_in_each_language(w: World, code: str) -> None:  # noqa: F811
    before = reads(w.case)
    response = consent(w, code)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'inline; filename="einwilligung-fall-{w.case.pk}-{code}.pdf"'
    )
    assert reads(w.case) == [*before, (w.owner.pk, "cases.consent_pdf")]
    text = text_of(response.content)
    for german in (
        "Einwilligung in die Datenverarbeitung",
        "Informationen zum Datenschutz (Art. 13 DSGVO)",
        "Ja, ich willige ein.",
        "Version des Informationstextes",
        "Widerruf Ihrer Einwilligung",
        "Unterschrift Klient:in",
        w.case.traeger.name,
    ):
        assert german in text, (code, german)
    from django.utils import translation

    with translation.override("de"):
        for scope in Consent.Scope:
            label = str(scope.label)
            assert label[0].upper() + label[1:] in text, (code, label)
    if code in SCRIPT_RANGES:
        low, high = SCRIPT_RANGES[code]
        assert len(letters(text, low, high)) > 500, code


def test_every_document_text_is_translated_in_every_language(
    w: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, str]] = []
    original = Document.tr

    def recording(self: Document, msgid: str, code: str | None = None, **values: Any) -> str:
        asked.append((code or self.code, msgid))
        return original(self, msgid, code, **values)

    monkeypatch.setattr(Document, "tr", recording)
    for code in ("ar", "fa", "uk", "ru", "tr", "ti"):
        assert plan(w, code).status_code == 200
        assert consent(w, code).status_code == 200
    untranslated = set()
    for code, msgid in asked:
        if code in ("de", "en"):
            continue
        if original(Document(code), msgid, code) == msgid:
            untranslated.add((code, msgid))
    assert asked
    assert untranslated == set()


def test_an_unknown_language_is_refused_with_the_choices(w: World) -> None:  # noqa: F811
    before = reads(w.case)
    response = client_of(w.owner).get(url("cases:consent_pdf", w.case, sprache="xx"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Dokumente für Klient:innen gibt es in dieser Sprache nicht." in html
    assert "Arabisch (ar), Dari/Farsi (fa)" in html
    assert reads(w.case) == before


def test_missing_fonts_refuse_the_language_and_german_still_prints(
    w: World,  # noqa: F811
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.LOTSE_FONT_DIR = str(tmp_path)  # an empty font directory

    refused = plan(w, "ar")
    assert refused.status_code == 503
    assert "Die Schriften für diese Sprache sind auf dem Server nicht installiert" in (
        refused.content.decode()
    )
    assert "fonts-noto-core" in refused.content.decode()
    german = plan(w, "de")  # Latin falls back to the Vera that reportlab ships
    assert german.status_code == 200
    assert "Unterschrift Klient:in" in text_of(german.content)


def test_the_case_page_offers_the_document_languages_in_german(w: World) -> None:  # noqa: F811
    html = client_of(w.owner).get(url("cases:detail", w.case)).content.decode()
    assert f'action="/faelle/{w.case.pk}/plan.pdf"' in html
    assert f'formaction="/faelle/{w.case.pk}/einwilligung.pdf"' in html
    assert "Sprache der Dokumente für die Klient:in" in html
    for code, name in (
        ("de", "Deutsch"),
        ("en", "Englisch"),
        ("ar", "Arabisch"),
        ("fa", "Dari/Farsi"),
        ("uk", "Ukrainisch"),
        ("ru", "Russisch"),
        ("tr", "Türkisch"),
        ("ti", "Tigrinya"),
    ):
        assert f'<option value="{code}">{name}</option>' in html, code


def test_the_plan_in_every_language_is_rendered_to_png(w: World) -> None:  # noqa: F811
    """The artefacts to look at: var/artifacts/documents/plan-<code>-1.png."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm (poppler-utils) is missing; make installs it")
        pytest.skip("pdftoppm (poppler-utils) is missing")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm") or "pdftoppm"

    def to_png(name: str, body: bytes) -> None:
        pdf = ARTIFACTS / f"{name}.pdf"
        pdf.write_bytes(body)
        argv = [pdftoppm, "-png", "-r", "70", str(pdf), str(ARTIFACTS / name)]
        subprocess.run(argv, check=True)  # noqa: S603 - fixed argv

    for code in CODES:
        to_png(f"plan-{code}", plan(w, code).content)
        assert (ARTIFACTS / f"plan-{code}-1.png").stat().st_size > 10_000, code
    to_png("einwilligung-ar", consent(w, "ar").content)
    assert (ARTIFACTS / "einwilligung-ar-1.png").is_file()


def test_check_warns_of_each_language_without_its_fonts(tmp_path: Path, settings: Any) -> None:
    from cases.documents.checks import check_document_fonts

    assert check_document_fonts(None) == []
    settings.LOTSE_FONT_DIR = str(tmp_path)
    warnings = check_document_fonts(None)
    assert [warning.id for warning in warnings] == ["cases.W001"] * 6
    assert [warning.msg.split("'")[1] for warning in warnings] == [
        "ar",
        "fa",
        "uk",
        "ru",
        "tr",
        "ti",
    ]


def test_the_first_consultation_offers_the_consent_form_to_print() -> None:
    from tests.accounts.factories import TeamFactory
    from tests.cases.factories import manager_in, new_case
    from tests.workflows.test_smoke import url_of

    manager = manager_in(TeamFactory())
    case = new_case(owner=manager)
    web = client_of(manager)
    assert web.post(url_of(case, "accept_handover"), {"action": "accept"}).status_code == 302

    html = web.get(url_of(case, "first_consultation")).content.decode()

    assert "Einwilligung und Datenschutzinformation in der Sprache der Klient:in drucken" in html
    assert f'action="/faelle/{case.pk}/einwilligung.pdf"' in html
    assert "plan.pdf" not in html  # no plan yet
    assert '<option value="ti">Tigrinya</option>' in html
    assert (
        client_of(manager).get(f"/faelle/{case.pk}/einwilligung.pdf?sprache=ti").status_code == 200
    )
