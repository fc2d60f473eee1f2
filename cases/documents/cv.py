"""The client's CV (competence profile) as a German Lebenslauf (reportlab).

A Lebenslauf is written for German employers, schools and the recognition
offices, so it is printed in German only, in the usual tabular form:
personal details, then education, work experience, languages with their
level (GER/CEFR) and certificates, each newest first. What the manager
entered (school, employer, job) is printed as entered.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from django.db.models import F
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, Table

from cases.documents.layout import WIDTH, Document, date_text, grid
from cases.documents.text import Text
from cases.models import Case, CvEntry, Person

# The Lebenslauf's own German wording (the document is German by nature).
SECTIONS = (
    (CvEntry.Kind.EDUCATION, "Schul- und Berufsausbildung"),
    (CvEntry.Kind.WORK, "Berufserfahrung"),
    (CvEntry.Kind.LANGUAGE, "Sprachkenntnisse"),
    (CvEntry.Kind.CERTIFICATE, "Zertifikate und Nachweise"),
)
LEVELS: dict[str, str] = {
    CvEntry.Level.NATIVE: "Muttersprache",
    CvEntry.Level.A1: "A1 (Anfänger)",
    CvEntry.Level.A2: "A2 (Grundkenntnisse)",
    CvEntry.Level.B1: "B1 (fortgeschrittene Kenntnisse)",
    CvEntry.Level.B2: "B2 (selbständige Sprachverwendung)",
    CvEntry.Level.C1: "C1 (fachkundige Kenntnisse)",
    CvEntry.Level.C2: "C2 (annähernd muttersprachlich)",
}


def cv_entries(*, case: Case) -> list[CvEntry]:
    """The case's current CV entries, newest first within each kind."""
    return list(
        CvEntry.objects.filter(case_id=case.pk, removed_at__isnull=True).order_by(
            "kind", F("started_on").desc(nulls_last=True), "-pk"
        )
    )


def _month(value: date | None) -> str:
    return value.strftime("%m/%Y") if value else ""


def period_text(entry: CvEntry) -> str:
    start, end = _month(entry.started_on), _month(entry.ended_on)
    if start and end:
        return f"{start} – {end}"
    if start:
        return f"seit {start}"
    if end:
        return f"bis {end}"
    return ""


def _row(entry: CvEntry) -> list[Any]:
    lines: list[Any] = [Text(entry.title, size=10, bold=True)]
    where = ", ".join(part for part in (entry.organisation, entry.place) if part)
    if where:
        lines.append(Text(where, size=9.5))
    if entry.kind == CvEntry.Kind.LANGUAGE and entry.level:
        lines.append(Text(f"Niveau: {LEVELS.get(entry.level, entry.level)}", size=9.5))
    if entry.recognised:
        lines.append(Text("in Deutschland anerkannt", size=9.5))
    if entry.note:
        lines.append(Text(entry.note, size=9))
    return [Text(period_text(entry) or "–", size=9.5), lines]


def cv_pdf(*, case: Case, person: Person, entries: list[CvEntry], now: datetime) -> bytes:
    """Return the Lebenslauf as PDF bytes."""
    doc = Document("de")
    name = " ".join(part for part in (person.given_names, person.family_name) if part)
    story: list[Any] = [
        Text("Lebenslauf", size=20, bold=True, align="center"),
        Text(name, size=13, align="center", space_before=1 * mm),
        Spacer(1, 6 * mm),
    ]
    facts = [
        ("Name", name),
        ("Geburtsdatum", date_text(person.date_of_birth) if person.date_of_birth else "–"),
        ("Staatsangehörigkeit", person.nationality or "–"),
        ("Anschrift", person.address or "–"),
        ("Telefon", person.phone or "–"),
    ]
    table = Table(
        [[Text(label, size=9.5, bold=True), Text(value, size=10)] for label, value in facts],
        colWidths=[45 * mm, WIDTH - 45 * mm],
    )
    table.setStyle(grid())
    story += [Text("Persönliche Daten", size=12.5, bold=True, space_after=1.5 * mm), table]
    by_kind: dict[str, list[CvEntry]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)
    for kind, heading in SECTIONS:
        rows = by_kind.get(kind)
        if not rows:
            continue
        body = Table([_row(entry) for entry in rows], colWidths=[45 * mm, WIDTH - 45 * mm])
        body.setStyle(grid())
        story.append(
            KeepTogether(
                [
                    Text(heading, size=12.5, bold=True, space_before=5 * mm, space_after=1.5 * mm),
                    body,
                ]
            )
        )
    if not entries:
        story.append(Text("Noch keine Angaben erfasst.", size=10, space_before=5 * mm))
    story += [
        Spacer(1, 12 * mm),
        Text(f"Stand: {date_text(now)}", size=9.5),
        Spacer(1, 10 * mm),
        Text("_" * 40, size=10),
        Text("Unterschrift", size=8.5),
    ]
    footer = doc.footer("Lebenslauf", now)
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=22 * mm,
        title=f"Lebenslauf {name}",
        lang="de",
        invariant=True,
    ).build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
