"""The Integrationsplan as a PDF for the client to sign (reportlab).

Printed in German, or in one of the document languages
(`cases.documents.languages`) with German beside it: the client signs a
text they can read, the Träger keeps one it can read. Every label comes
from the translation files; catalogue entries carry German and English
labels in the database, other languages translate the English label in
their catalogue. What the manager and the client wrote (goals, steps, the
situation) is printed as entered. Part of the case pages' interface, like
`audit.exports`.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

from cases.documents.languages import document_language
from cases.documents.layout import WIDTH, Document, date_text, grid
from cases.documents.text import Text
from cases.models import (
    Case,
    CatalogueEntry,
    Goal,
    GoalStatus,
    IntegrationPlan,
    Measure,
    Person,
)

TITLE = "Integration plan"


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
    bytes, in German and (unless German) `language`. Raises
    `fonts.FontsMissing` when the language's script has no font."""
    doc = Document(language)
    label_width, value_width = 56 * mm, WIDTH - 56 * mm

    def facts_table(rows: list[tuple[str, Any]]) -> Table:
        cells = []
        for msgid, value in rows:
            if isinstance(value, tuple):
                shown = doc.stacked(value, size=10)
            else:
                shown = [Text(value, size=10)]
            cells.append([doc.label(msgid), shown])
        table = Table(cells, colWidths=[label_width, value_width])
        table.setStyle(grid())
        return table

    name = ", ".join(part for part in (person.family_name, person.given_names) if part)
    story: list[Any] = [
        *doc.title(TITLE),
        Text(
            doc.de(
                "%(traeger)s · case %(case)s · version %(version)s",
                traeger=case.traeger.name,
                case=case.pk,
                version=plan.version,
            ),
            size=8.5,
            align="center",
            space_before=1 * mm,
        ),
        Spacer(1, 4 * mm),
        *doc.review_notice(),
    ]
    period: Any = (
        f"{date_text(case.consultation_start)} – {date_text(case.effective_end)}"
        if case.consultation_start
        else doc.pair("not started yet")
    )
    story.append(
        facts_table(
            [
                ("Client", name),
                ("Date of birth", date_text(person.date_of_birth)),
                ("Integration manager", manager_name),
                ("Status of the plan", doc.choice(IntegrationPlan.Status(plan.status).label)),
                (
                    "Agreed on",
                    date_text(plan.agreed_at) if plan.agreed_at else doc.pair("not agreed yet"),
                ),
                (
                    "How the plan was agreed",
                    doc.choice(IntegrationPlan.AgreementForm(plan.agreement_form).label)
                    if plan.agreement_form
                    else "–",
                ),
                ("Language of the talk", _language(plan.agreement_language)),
                ("Interpreter", plan.interpreter or "–"),
                ("Consultation period", period),
                ("Next review", date_text(plan.next_review_at or case.next_review_at)),
            ]
        )
    )

    fields: dict[int, CatalogueEntry] = {}
    for goal in goals:
        fields.setdefault(goal.field_of_action_id, goal.field_of_action)
    ordered = sorted(fields.values(), key=lambda e: (e.order, e.key))
    story += doc.heading("Fields of action")
    if ordered:
        labels = [doc.catalogue(entry) for entry in ordered]
        german = ", ".join(pair[0] for pair in labels)
        others = [pair[1] for pair in labels if pair[1]]
        story.append(
            doc.columns(
                german,
                "، ".join(others) if doc.language.rtl and others else ", ".join(others) or None,
            )
        )
    else:
        story.append(doc.paragraph("none yet"))
    if plan.situation_summary.strip():
        story += doc.heading("Situation")
        story.append(Text(plan.situation_summary, size=10, space_after=2 * mm))

    story += doc.heading("Goals and steps")
    if not goals:
        story.append(doc.paragraph("No goals have been agreed yet."))
    for number, goal in enumerate(goals, start=1):
        story.append(KeepTogether(_goal(doc, number, goal, label_width, value_width)))

    story.append(KeepTogether(_signatures(doc)))

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


def _language(value: str) -> Any:
    """A language recorded as a code ("ar") by its German and own name."""
    known = document_language(value.strip().lower()) if value else None
    if known is None:
        return value or "–"
    return known.label_de, known.native if known.native != known.label_de else None


def _goal(
    doc: Document, number: int, goal: Goal, label_width: float, value_width: float
) -> list[Any]:
    german, other = doc.pair("Goal %(n)d: %(title)s", n=number, title=goal.title)
    block: list[Any] = [Text(german, size=11, bold=True, space_before=2 * mm)]
    if other:
        block.append(doc.second(other, size=10.5, bold=True))
    block.append(Spacer(1, 1 * mm))
    rows: list[list[Any]] = [
        [doc.label("Field of action"), doc.stacked(doc.catalogue(goal.field_of_action), size=10)],
        [doc.label("Success criterion"), Text(goal.success_criterion or "–", size=10)],
        [doc.label("Target date"), Text(date_text(goal.target_date), size=10)],
        [doc.label("Status"), doc.stacked(doc.choice(GoalStatus(goal.status).label), size=10)],
    ]
    about = Table(rows, colWidths=[label_width, value_width])
    about.setStyle(grid())
    block.append(about)
    measures: list[Measure] = list(goal.measures.all())
    if measures:
        header = [doc.label(column) for column in ("Step", "Who does it", "Due", "Done")]
        body = [
            [
                Text(m.description, size=9.5),
                doc.stacked(doc.choice(Measure.Responsible(m.responsible).label), size=9),
                Text(date_text(m.due_date), size=9.5),
                Text(date_text(m.done_at) if m.done_at else "–", size=9.5),
            ]
            for m in measures
        ]
        steps = Table(
            [header, *body],
            colWidths=[WIDTH - 90 * mm, 40 * mm, 25 * mm, 25 * mm],
            repeatRows=1,
        )
        steps.setStyle(grid(header=True))
        block += [Spacer(1, 2 * mm), steps]
    block.append(Spacer(1, 3 * mm))
    return block


def signature_lines(doc: Document, left: list[str], right: list[str]) -> Table:
    """Signature lines, each with its bilingual caption under it."""
    line = "_" * 40
    rows: list[list[Any]] = []
    for left_msgid, right_msgid in zip(left, right, strict=True):
        rows.append([Spacer(1, 9 * mm), Spacer(1, 9 * mm)])
        rows.append(
            [
                Text(line, size=10) if left_msgid else "",
                Text(line, size=10) if right_msgid else "",
            ]
        )
        rows.append(
            [
                doc.label(left_msgid) if left_msgid else "",
                doc.label(right_msgid) if right_msgid else "",
            ]
        )
    table = Table(rows, colWidths=[WIDTH / 2, WIDTH / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _signatures(doc: Document) -> list[Any]:
    return [
        *doc.heading("Signatures"),
        doc.paragraph(
            "We have worked out this plan together. Taking part is voluntary; "
            "the client can end it at any time. The plan is reviewed together "
            "on the review date."
        ),
        signature_lines(
            doc,
            [
                "Place, date",
                "Signature of the client",
                "Signature of the interpreter (if one took part)",
            ],
            ["Place, date", "Signature of the integration manager", ""],
        ),
    ]
