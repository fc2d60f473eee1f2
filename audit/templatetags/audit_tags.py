"""Template filters of the auditor's pages: labels for recorded codes."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from audit import lines

register = template.Library()

# ReportRead.report and .scope_kind as the reports app records them
# (reports.selectors KENNZAHLEN/CASELOAD, reports.models.UnitKind); spelled
# out here because the audit app sits below the reports app.
REPORT_LABELS = {"kennzahlen": _("Kennzahlen"), "caseload": _("caseload and deadlines")}
UNIT_LABELS = {
    "manager": _("integration manager"),
    "team": _("team"),
    "traeger": _("Träger"),
    "gemeinde": _("Gemeinde"),
    "kreis": _("Kreis"),
    "land": _("Land"),
}


@register.filter
def role_label(code: str) -> str:
    """A role code (INTEGRATION_MANAGER) as its German name."""
    return lines.role_label(code)


@register.filter
def view_label(view: str) -> str:
    """A recorded view name (cases.case_detail) as the screen's name."""
    return lines.view_label(view)


@register.filter
def report_label(report: str) -> str:
    return str(REPORT_LABELS.get(report, _("report")))


@register.filter
def unit_label(kind: str) -> str:
    return str(UNIT_LABELS.get(kind, _("unit")))


@register.filter
def state_label(code: str) -> str:
    """A case or extension state code (CLOSED) as its German name."""
    return lines.state_label(code)
