"""The Integrationsplan as a PDF for the client to sign (reportlab, like the
audit and Art. 15 exports).

Every label comes from the translation files: the document is built under
`translation.override(language)`, so a language added to `LANGUAGES` with
its catalogue prints without a code change (catalogue entries carry German
and English labels; other languages show the English one). What the
manager and the client wrote (goals, steps, the situation) is printed as
entered. Part of the case pages' interface, like `audit.exports`.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cases.models import Case, CatalogueEntry, Goal, IntegrationPlan, Person


def _date(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _label(entry: CatalogueEntry | None, language: str) -> str:
    if entry is None:
        return "–"
    return entry.label_de if language.startswith("de") else entry.label_en


def plan_pdf(
    *,
    case: Case,
    person: Person,
    plan: IntegrationPlan,
    goals: list[Goal],
    manager_name: str,
    language: str,
    now: datetime,
) -> bytes:
    """Return the plan with its goals, steps and signature lines as PDF
    bytes, labelled in `language`."""
    with translation.override(language):
        return _build(
            case=case,
            person=person,
            plan=plan,
            goals=goals,
            manager_name=manager_name,
            language=language,
            now=now,
        )


def _build(
    *,
    case: Case,
    person: Person,
    plan: IntegrationPlan,
    goals: list[Goal],
    manager_name: str,
    language: str,
    now: datetime,
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("plan_body", fontSize=10, leading=13)
    small = styles["BodyText"].clone("plan_small", fontSize=8.5, leading=11)
    head = styles["Heading2"].clone("plan_head", fontSize=13, spaceBefore=8, spaceAfter=4)

    def para(text: Any, style: Any = body) -> Paragraph:
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    grid = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa3ad")),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    header_grid = TableStyle(
        [
            *grid.getCommands(),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecf6")),
        ]
    )

    name = ", ".join(part for part in (person.family_name, person.given_names) if part)
    title = _("Integration plan")
    story: list[Any] = [
        para(title, styles["Title"]),
        para(
            _("%(traeger)s · case %(case)s · version %(version)s")
            % {"traeger": case.traeger.name, "case": case.pk, "version": plan.version},
            small,
        ),
        Spacer(1, 4 * mm),
    ]
    period = (
        f"{_date(case.consultation_start)} – {_date(case.effective_end)}"
        if case.consultation_start
        else _("not started yet")
    )
    facts = [
        (_("Client"), name),
        (_("Date of birth"), _date(person.date_of_birth)),
        (_("Integration manager"), manager_name),
        (_("Status of the plan"), plan.get_status_display()),
        (_("Agreed on"), _date(plan.agreed_at) if plan.agreed_at else _("not agreed yet")),
        (_("How the plan was agreed"), plan.get_agreement_form_display() or "–"),
        (_("Language of the talk"), plan.agreement_language or "–"),
        (_("Interpreter"), plan.interpreter or "–"),
        (_("Consultation period"), period),
        (_("Next review"), _date(plan.next_review_at or case.next_review_at)),
    ]
    table = Table(
        [[para(label, small), para(value)] for label, value in facts],
        colWidths=[52 * mm, 118 * mm],
    )
    table.setStyle(grid)
    story.append(table)

    fields: dict[int, CatalogueEntry] = {}
    for goal in goals:
        fields.setdefault(goal.field_of_action_id, goal.field_of_action)
    story.append(para(_("Fields of action"), head))
    ordered = sorted(fields.values(), key=lambda e: (e.order, e.key))
    story.append(
        para(", ".join(_label(e, language) for e in ordered) if ordered else _("none yet"))
    )
    if plan.situation_summary.strip():
        story.append(para(_("Situation"), head))
        story.append(para(plan.situation_summary))

    story.append(para(_("Goals and steps"), head))
    if not goals:
        story.append(para(_("No goals have been agreed yet.")))
    for number, goal in enumerate(goals, start=1):
        block: list[Any] = [
            para(
                _("Goal %(n)d: %(title)s") % {"n": number, "title": goal.title},
                styles["Heading4"],
            )
        ]
        about = Table(
            [
                [para(_("Field of action"), small), para(_label(goal.field_of_action, language))],
                [para(_("Success criterion"), small), para(goal.success_criterion or "–")],
                [para(_("Target date"), small), para(_date(goal.target_date))],
                [para(_("Status"), small), para(goal.get_status_display())],
            ],
            colWidths=[52 * mm, 118 * mm],
        )
        about.setStyle(grid)
        block.append(about)
        measures = list(goal.measures.all())
        if measures:
            columns = (_("Step"), _("Who does it"), _("Due"), _("Done"))
            rows = [[para(column, small) for column in columns]]
            rows += [
                [
                    para(m.description),
                    para(m.get_responsible_display()),
                    para(_date(m.due_date)),
                    para(_date(m.done_at) if m.done_at else "–"),
                ]
                for m in measures
            ]
            steps = Table(rows, colWidths=[86 * mm, 36 * mm, 24 * mm, 24 * mm], repeatRows=1)
            steps.setStyle(header_grid)
            block += [Spacer(1, 2 * mm), steps]
        block.append(Spacer(1, 3 * mm))
        story.append(KeepTogether(block))

    signature_line = "_" * 38
    signatures = Table(
        [
            [para(signature_line), para(signature_line)],
            [para(_("Place, date"), small), para(_("Place, date"), small)],
            [Spacer(1, 10 * mm), Spacer(1, 10 * mm)],
            [para(signature_line), para(signature_line)],
            [
                para(_("Signature of the client"), small),
                para(_("Signature of the integration manager"), small),
            ],
            [Spacer(1, 10 * mm), Spacer(1, 10 * mm)],
            [para(signature_line), ""],
            [para(_("Signature of the interpreter (if one took part)"), small), ""],
        ],
        colWidths=[85 * mm, 85 * mm],
    )
    story.append(
        KeepTogether(
            [
                para(_("Signatures"), head),
                para(
                    _(
                        "We have worked out this plan together. Taking part is voluntary; "
                        "the client can end it at any time. The plan is reviewed together "
                        "on the review date."
                    )
                ),
                Spacer(1, 8 * mm),
                signatures,
            ]
        )
    )

    printed = _("Printed on %(date)s") % {"date": _date(now)}
    page_label = _("Page %(n)d")

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(18 * mm, 10 * mm, f"{title} · {printed}")
        canvas.drawRightString(192 * mm, 10 * mm, page_label % {"n": document.page})
        canvas.restoreState()

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {case.pk}",
        lang=language,
        invariant=True,
    ).build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
