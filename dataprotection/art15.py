"""The Art. 15 information as a PDF a person can read: German labels,
German values (choices and catalogue entries by their labels), local
times (Europe/Berlin), no field names and no codes.

`services.person_export` gathers the data (the JSON export keeps its
field names for programs); this module only presents it.
"""

from __future__ import annotations

import io
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _

from audit import lines
from cases import case_data
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    Consent,
    Consultation,
    CvEntry,
    Document,
    ExtensionRequest,
    Goal,
    Household,
    IntegrationPlan,
    Measure,
    Person,
    PersonClockFact,
    PlanReview,
    Referral,
)

# Nested lists of the export: key -> (model of its rows, German heading).
NESTED: dict[str, tuple[Any, Any]] = {
    "assessments": (Assessment, lambda: _("Needs assessments")),
    "items": (AssessmentItem, lambda: _("Needs")),
    "plans": (IntegrationPlan, lambda: _("Integrationspläne")),
    "goals": (Goal, lambda: _("Goals")),
    "measures": (Measure, lambda: _("Steps")),
    "reviews": (PlanReview, lambda: _("Plan reviews")),
    "consultations": (Consultation, lambda: _("Consultations")),
    "referrals": (Referral, lambda: _("Referrals")),
    "extension_requests": (ExtensionRequest, lambda: _("Extension requests")),
    "documents": (Document, lambda: _("Documents")),
    "cv_entries": (CvEntry, lambda: _("CV entries")),
}


def _nested() -> dict[str, tuple[Any, Any]]:
    """NESTED and the case data other apps keep (cases.case_data)."""
    return {
        **NESTED,
        **{
            source.key: (source.model, lambda s=source: s.heading) for source in case_data.sources()
        },
    }


def _local_time(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def _fields(model: Any, row: dict[str, Any], nested: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (German label, German value) for the plain fields of a row."""
    label_of = model._meta.label_lower
    shown = []
    for key, value in row.items():
        if key in nested or key == "history":
            continue
        if key == "relation" and model is Household:
            label = lines._field_label("cases.householdmembership", "relation")
            value_text = lines._value("cases.householdmembership", "relation", value)
        else:
            label = lines._field_label(label_of, key)
            if isinstance(value, dict) and "label" in value:
                value_text = str(value["label"])
            else:
                value_text = lines._value(label_of, key, value)
        shown.append((label, value_text))
    return shown


def _history_line(entry: dict[str, Any]) -> str:
    when = _local_time(entry["at"])
    event = SimpleNamespace(event_type=entry["event"], reason=entry.get("reason") or "")
    if entry.get("from") or entry.get("to"):
        what = _("status %(from)s → %(to)s") % {
            "from": lines.state_label(entry.get("from") or ""),
            "to": lines.state_label(entry.get("to") or ""),
        }
        if entry.get("reason"):
            what += " · " + _("reason: %(reason)s") % {"reason": lines._reason(event)}
    elif entry["event"] in lines.EVENT_TEXTS:
        what = str(lines.EVENT_TEXTS[entry["event"]]) % {"reason": lines._reason(event)}
    elif entry["event"] == "cases.case.created":
        what = _("the case was registered")
    else:
        what = _("a change of the case")
    return f"{when}: {what}"


def person_export_pdf(export: dict[str, Any]) -> bytes:
    """Return `services.person_export`'s result as a readable German PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    nested = _nested()  # the nested lists, the other apps' case data included
    story: list[Any] = []

    def para(text: str, style: str = "Normal") -> Any:
        return Paragraph(escape(text), styles[style])

    def table(pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            return
        grid = Table(
            [[para(label), para(value)] for label, value in pairs],
            colWidths=[6 * cm, 11 * cm],
        )
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(grid)
        story.append(Spacer(1, 0.2 * cm))

    def rows(model: Any, items: list[dict[str, Any]], title: str, level: int) -> None:
        if not items:
            return
        story.append(para(title, f"Heading{min(level, 4)}"))
        for number, row in enumerate(items, start=1):
            if len(items) > 1:
                story.append(para(f"{model._meta.verbose_name} {number}", "Heading5"))
            table(_fields(model, row, nested))
            for key, (nested_model, heading) in nested.items():
                if key in row:
                    rows(nested_model, row[key], str(heading()), level + 1)
            if row.get("history"):
                story.append(para(_("History"), f"Heading{min(level + 1, 4)}"))
                for entry in row["history"]:
                    story.append(para(_history_line(entry)))

    title = _("Information under Art. 15 GDPR")
    story.append(para(title, "Heading1"))
    story.append(
        para(
            _("Controller: %(controller)s · generated %(at)s")
            % {"controller": export["controller"], "at": _local_time(export["generated_at"])}
        )
    )
    story.append(Spacer(1, 0.4 * cm))
    story.append(para(_("Person"), "Heading2"))
    table(_fields(Person, export["person"], nested))
    rows(Household, export["households"], _("Households"), 2)
    rows(Consent, export["consents"], _("Consents"), 2)
    facts_heading = _("Consultation period known from elsewhere")
    rows(PersonClockFact, export.get("clock_facts", []), facts_heading, 2)
    rows(Case, export["cases"], _("Cases"), 2)
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=title, invariant=True).build(story)
    return buffer.getvalue()
