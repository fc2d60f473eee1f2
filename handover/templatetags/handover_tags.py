"""Template filters of the handover pages."""

from __future__ import annotations

from django import template

from handover.forms import HandoverForm, MemberForm

register = template.Library()

# The import file's columns (handover.services.COLUMNS) carry the names of
# the form fields they fill; their labels are the German column names.
_LABELS = {
    name: field.label
    for name, field in {**HandoverForm.base_fields, **MemberForm.base_fields}.items()
}


@register.filter
def import_column(name: str) -> str:
    """A column of the import file by its German label, "–" for the whole row."""
    if name == "file":
        return "–"
    label = _LABELS.get(name)
    return str(label) if label else name


@register.filter
def file_errors(errors: list[dict]) -> list[dict]:
    """The problems of the file as a whole (reported on line 0)."""
    return [e for e in errors if e["line"] == 0]


@register.filter
def row_errors(errors: list[dict]) -> list[dict]:
    return [e for e in errors if e["line"] != 0]
