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
