"""Template filters of the case pages."""

from __future__ import annotations

from typing import Any

from django import template

from cases.forms import catalogue_label

register = template.Library()


@register.filter(name="label")
def label(entry: Any) -> str:
    """A catalogue entry's label in the active language ("–" for none)."""
    return catalogue_label(entry) if entry is not None else "–"


@register.inclusion_tag("cases/_client_documents.html")
def client_documents(case: Any, *, plan: Any) -> dict[str, Any]:
    """The language picker and buttons for the client documents of `case`
    (the plan only when there is one)."""
    from cases.documents.languages import choices

    return {"case": case, "plan": plan, "document_languages": choices()}


@register.filter(name="get_item")
def get_item(mapping: Any, key: Any) -> Any:
    """`mapping[key]` in a template (None when missing)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


def _correction_labels() -> dict[str, Any]:
    from django.utils.translation import gettext_lazy as _

    return {
        "held_on": _("Date"),
        "referred_on": _("Date"),
        "contact_date": _("Date"),
        "assessed_on": _("Assessed on"),
        "duration_minutes": _("Minutes"),
        "form": _("Form"),
        "topics": _("Topics"),
        "status": _("Outcome"),
        "interpreter": _("Interpreter"),
        "notes": _("Notes"),
        "target_service": _("Referred to"),
        "organisation": _("Organisation"),
        "mode": _("How"),
        "topic": _("Topic"),
        "outcome": _("Outcome"),
        "outcome_date": _("Outcome date"),
        "title": _("Goal"),
        "success_criterion": _("Success criterion"),
        "target_date": _("Target date"),
        "field_of_action": _("Field of action"),
        "description": _("Step"),
        "responsible": _("Who does it"),
        "due_date": _("Due"),
        "category": _("With whom"),
        "format": _("Format"),
        "cancelled": _("cancelled"),
    }


@register.filter(name="correction_field")
def correction_field(name: str) -> Any:
    """The German name of a corrected field (a field of action's key as is)."""
    return _correction_labels().get(name, name)


@register.filter(name="correction_value")
def correction_value(value: Any) -> str:
    """A value kept in a correction, readable: dates as local dates, lists joined."""
    from datetime import date

    from django.utils.formats import date_format

    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(_yes()) if value else str(_no())
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


def _yes() -> Any:
    from django.utils.translation import gettext_lazy as _

    return _("yes")


def _no() -> Any:
    from django.utils.translation import gettext_lazy as _

    return _("no")
