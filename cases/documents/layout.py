"""Building blocks of a bilingual client document.

A document is printed in German and, for any other language, with the
client's language beside or under each German text: labels and headings
German first with the translation under it, running text in two columns
(German left, the client's language right, right-aligned when it is
written right to left). Values (names, dates, what the manager wrote) are
printed once; dates as DD.MM.YYYY, which both readers read the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from cases.documents import fonts
from cases.documents.languages import (
    SOURCE_LANGUAGE,
    DocumentLanguage,
    document_language,
    is_reviewed,
)
from cases.documents.text import Text, shape, visual, width
from cases.documents.text import draw as draw_line

SECOND = colors.HexColor("#33414f")  # the client's language, beside the German
RULE = colors.HexColor("#9aa3ad")
WIDTH = 169 * mm  # A4 less 18 mm margins and the frame's padding


def date_text(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return value.strftime("%d.%m.%Y")


class Document:
    """The languages of one document and the flowables to print them."""

    def __init__(self, code: str) -> None:
        language = document_language(code)
        if language is None:
            raise ValueError(code)
        self.language: DocumentLanguage = language
        self.code = code
        self.bilingual = code != SOURCE_LANGUAGE
        fonts.ensure({language.script}, latin_fallback=code in ("de", "en"))

    # --- texts ---------------------------------------------------------------

    def tr(self, msgid: str, code: str | None = None, **values: Any) -> str:
        """`msgid` from the catalogue of `code` (default: the document's
        language), with `values` put in."""
        with translation.override(code or self.code):
            text = gettext(msgid)
        return text % values if values else text

    def de(self, msgid: str, **values: Any) -> str:
        return self.tr(msgid, SOURCE_LANGUAGE, **values)

    def pair(self, msgid: str, **values: Any) -> tuple[str, str | None]:
        german = self.de(msgid, **values)
        return german, self.tr(msgid, **values) if self.bilingual else None

    def choice(self, label: Any) -> tuple[str, str | None]:
        """A model choice's (lazy) label in German and the document's language."""
        with translation.override(SOURCE_LANGUAGE):
            german = str(label)
        if not self.bilingual:
            return german, None
        with translation.override(self.code):
            return german, str(label)

    def catalogue(self, entry: Any) -> tuple[str, str | None]:
        """A catalogue entry (German and English labels in the database);
        other languages translate the English label in their catalogue and
        show the German alone where it has no translation."""
        if entry is None:
            return "–", None
        if not self.bilingual:
            return entry.label_de, None
        if self.code == "en":
            return entry.label_de, entry.label_en
        translated = self.tr(entry.label_en)
        return entry.label_de, translated if translated != entry.label_en else None

    # --- flowables -------------------------------------------------------------

    def second(self, text: str, *, size: float, bold: bool = False, **options: Any) -> Text:
        return Text(text, size=size, bold=bold, rtl=self.language.rtl, color=SECOND, **options)

    def stacked(
        self, pair: tuple[str, str | None], *, size: float = 8.5, bold: bool = False
    ) -> list[Flowable]:
        german, other = pair
        cell: list[Flowable] = [Text(german, size=size, bold=bold)]
        if other and other != german:
            cell.append(self.second(other, size=size, bold=bold))
        return cell

    def label(self, msgid: str, *, size: float = 8.5, **values: Any) -> list[Flowable]:
        return self.stacked(self.pair(msgid, **values), size=size)

    def title(self, msgid: str) -> list[Flowable]:
        german, other = self.pair(msgid)
        story: list[Flowable] = [Text(german, size=18, bold=True, align="center")]
        if other:
            story.append(
                Text(other, size=15, bold=True, rtl=self.language.rtl, align="center", color=SECOND)
            )
        return story

    def heading(self, msgid: str, **values: Any) -> list[Flowable]:
        return self.heading_of(self.pair(msgid, **values))

    def heading_of(self, pair: tuple[str, str | None]) -> list[Flowable]:
        german, other = (capfirst(text) if text else text for text in pair)
        story: list[Flowable] = [Text(german, size=12.5, bold=True, space_before=3 * mm)]
        if other:
            story.append(self.second(other, size=11, bold=True))
        story.append(Spacer(1, 1.5 * mm))
        return story

    def paragraph(self, msgid: str, *, size: float = 9.5, **values: Any) -> Flowable:
        """Running text: German left, the client's language right."""
        german, other = self.pair(msgid, **values)
        return self.columns(german, other, size=size)

    def columns(self, german: str, other: str | None, *, size: float = 9.5) -> Flowable:
        if other is None:
            return Text(german, size=size, space_after=1.5 * mm)
        table = Table(
            [[Text(german, size=size), self.second(other, size=size)]],
            colWidths=[WIDTH / 2, WIDTH / 2],
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (0, -1), 4 * mm),
                    ("RIGHTPADDING", (1, 0), (1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
                ]
            )
        )
        return table

    def review_notice(self) -> list[Flowable]:
        """The visible notice of a translation no translator has reviewed."""
        if is_reviewed(self.code):
            return []
        msgid = (
            "This translation (%(language)s) has not been reviewed yet. "
            "The German text is authoritative."
        )
        german = self.tr(msgid, SOURCE_LANGUAGE, language=self.language.label_de)
        other = self.tr(msgid, language=self.language.native)
        box = Table(
            [[[Text(german, size=9, bold=True), self.second(other, size=9, bold=True)]]],
            colWidths=[WIDTH],
        )
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#b35c00")),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff4e0")),
                    ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
                ]
            )
        )
        return [box, Spacer(1, 3 * mm)]

    def footer(self, msgid: str, now: datetime) -> Any:
        """The page footer: the document's name, the print date and the
        page number, in German and the client's language."""
        printed = "%(title)s · " + "%(printed)s"

        def lines(code: str) -> tuple[str, str]:
            left = printed % {
                "title": self.tr(msgid, code),
                "printed": self.tr("Printed on %(date)s", code, date=date_text(now)),
            }
            return left, self.tr("Page %(n)d", code)

        german = lines(SOURCE_LANGUAGE)
        other = lines(self.code) if self.bilingual else None

        def put(canvas: Any, text: str, x: float, y: float, *, rtl: bool, right: bool) -> None:
            line = visual(shape(text), rtl=rtl)
            offset = width(line, size=7.5, bold=False) if right else 0
            draw_line(canvas, x - offset, y, line, size=7.5, bold=False)

        def draw(canvas: Any, document: Any) -> None:
            canvas.saveState()
            rows = [(german, False), (other, True)] if other else [(german, False)]
            y = 10 * mm
            for (left, page), second in reversed(rows):
                canvas.setFillColor(SECOND if second else colors.black)
                rtl = self.language.rtl and second
                put(canvas, left, 18 * mm, y, rtl=rtl, right=False)
                put(canvas, page % {"n": document.page}, 192 * mm, y, rtl=rtl, right=True)
                y += 3.6 * mm
            canvas.restoreState()

        return draw


def grid(header: bool = False) -> TableStyle:
    commands: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecf6")))
    return TableStyle(commands)
