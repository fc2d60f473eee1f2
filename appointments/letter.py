"""The appointment letter for the client (reportlab), in German and the
client's language side by side, like the other client documents
(`cases.documents`): date, time, place, duration, the manager, and what to
do when the client cannot come. Texts live in the .po catalogues; an
unreviewed language prints the notice."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop as N_
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table

from appointments.models import Appointment
from cases.documents.layout import WIDTH, Document, date_text, grid
from cases.documents.text import Text
from cases.models import Case, Person

TITLE = N_("Invitation to a consultation")


def appointment_letter_pdf(
    *, case: Case, person: Person, appointment: Appointment, language: str, now: datetime
) -> bytes:
    doc = Document(language)
    local = timezone.localtime(appointment.starts_at)
    name = " ".join(part for part in (person.given_names, person.family_name) if part)
    manager = appointment.manager.get_full_name() or appointment.manager.username
    rows: list[tuple[str, Any]] = [
        (N_("Client"), name),
        (N_("Date"), date_text(local.date())),
        (N_("Time"), local.strftime("%H:%M")),
        (N_("Duration"), doc.pair(N_("%(n)d minutes"), n=appointment.duration_minutes)),
        (N_("Place"), appointment.place or "–"),
        (N_("Integration manager"), manager),
        (N_("Topic"), doc.catalogue(appointment.topic)),
    ]
    cells = []
    for msgid, value in rows:
        shown = doc.stacked(value, size=10) if isinstance(value, tuple) else [Text(value, size=10)]
        cells.append([doc.label(msgid), shown])
    table = Table(cells, colWidths=[56 * mm, WIDTH - 56 * mm])
    table.setStyle(grid())
    story: list[Any] = [
        *doc.title(TITLE),
        Text(
            doc.de("%(traeger)s · case %(case)s", traeger=case.traeger.name, case=case.pk),
            size=8.5,
            align="center",
            space_before=1 * mm,
        ),
        Spacer(1, 4 * mm),
        *doc.review_notice(),
        doc.paragraph(N_("You have an appointment with your integration manager.")),
        Spacer(1, 2 * mm),
        table,
        Spacer(1, 4 * mm),
        doc.paragraph(N_("Please bring this letter and the papers you were asked for.")),
        doc.paragraph(
            N_(
                "If you cannot come, please tell us beforehand, so that we can agree on a"
                " new appointment."
            )
        ),
        doc.paragraph(
            N_(
                "The consultation is free of charge and confidential."
                " An interpreter can be arranged."
            )
        ),
    ]
    buffer = io.BytesIO()
    footer = doc.footer(TITLE, now)
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=22 * mm,
        title=f"{doc.de(TITLE)} {case.pk}",
        lang=language,
        invariant=True,
    ).build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
