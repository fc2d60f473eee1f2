"""German report pages: the Kennzahlen with bar charts, the official sheet
as download, freezing a period, and the caseload overview per team.

Charts are inline SVG drawn on the server (no JavaScript, nothing fetched).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from config.errors import ApplicationError
from reports.models import UnitKind
from reports.selectors import (
    Period,
    caseload_overview,
    kennzahlen_cells,
    kennzahlen_for_user,
    report_default_unit,
    report_unit_choices,
    report_unit_get,
)
from reports.services import FREEZERS, report_snapshot_freeze
from reports.sheet import DEVELOPMENT_COLUMNS, NAMES, goal_item

OVERVIEW_ROLES = (
    Role.SUPERVISOR,
    Role.AUDITOR,
    Role.DATA_PROTECTION_OFFICER,
    Role.COORDINATOR,
    Role.ADMINISTRATOR,
)
UNIT_PARAM = re.compile(r"(manager|team|traeger|gemeinde|kreis|land):([0-9]{1,18})")


def _bars(rows: list[dict[str, Any]], *, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows with the bar width in percent of the largest count."""
    shown = [row for row in rows if row["count"]][:limit] if limit else rows
    largest = max((row["count"] or 0 for row in shown), default=0)
    return [
        {
            "label": row["label"],
            "count": row["count"],
            "width": round(100 * (row["count"] or 0) / largest, 1) if largest else 0,
            "y": 24 * index,
        }
        for index, row in enumerate(shown)
    ]


def _chart(title: str, rows: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    bars = _bars(rows, **kw)
    return {"title": title, "bars": bars, "height": 24 * len(bars)}


def _development(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per main total a small chart of its years, with the change from the
    year before the last (None where a count is suppressed or zero)."""
    charts = []
    for kpi, key, label in DEVELOPMENT_COLUMNS:
        years: list[dict[str, Any]] = [
            {"label": str(row["year"]), "count": row.get(key)} for row in rows
        ]
        chart = _chart(f"{kpi} {label}", years)
        before, last = (years[-2]["count"], years[-1]["count"]) if len(years) > 1 else (None, None)
        chart["change"] = (
            round(100 * (last - before) / before) if before and last is not None else None
        )
        charts.append(chart)
    return charts


def _selection(request: HttpRequest) -> tuple[str, int, int]:
    """Return (kind, pk, year) asked for, or the user's own unit this year."""
    today = timezone.localdate()
    raw_year = request.GET.get("year", "")
    year = int(raw_year) if re.fullmatch(r"20[0-9]{2}", raw_year) else today.year
    match = UNIT_PARAM.fullmatch(request.GET.get("unit", "") or request.POST.get("unit", ""))
    if match:
        return match[1], int(match[2]), year
    default = report_default_unit(user=request.user)
    if default is None:
        raise Http404
    return default[0], default[1], year


def _needs_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """K10 as a table: per field of action the cases whose need fell, stayed, rose."""
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        line = table.setdefault(row["key"], {"label": row["label"]})
        line[row["change"]] = row["count"]
    return [line for line in table.values() if any(v for k, v in line.items() if k != "label")]


@require_GET
@login_required
def kennzahlen(request: AuthenticatedHttpRequest) -> HttpResponse:
    kind, pk, year = _selection(request)
    try:
        unit = report_unit_get(user=request.user, kind=kind, pk=pk)
    except ApplicationError:
        raise Http404 from None
    period = Period.year(year)
    figures = kennzahlen_for_user(
        user=request.user, unit=unit, period=period, view="reports.kennzahlen", now=timezone.now()
    )
    unit_value = f"{unit.kind}:{unit.pk}"
    query = {"year": year, "unit": unit.kind}
    if unit.kind != UnitKind.LAND:
        query["unit_id"] = unit.pk
    export = reverse("api-kennzahlen") + "?" + urlencode(query)
    context = {
        "figures": figures,
        "cells": kennzahlen_cells(figures),
        "names": NAMES,
        "unit": unit,
        "unit_value": unit_value,
        "year": year,
        "years": list(range(timezone.localdate().year, timezone.localdate().year - 6, -1)),
        "choices": [
            (f"{k}:{p}", f"{UnitKind(k).label}: {label}")
            for k, p, label in report_unit_choices(user=request.user)
        ],
        "csv_url": export + "&format=csv",
        "xlsx_url": export + "&format=xlsx",
        "may_freeze": request.user.role in FREEZERS
        and not figures.get("frozen")
        and period.end < timezone.localdate(),
        "charts": [
            _chart(_("Consultations by form"), figures["k2a_by_form"]),
            _chart(_("Consultations by topic"), figures["k2b_by_topic"]),
            _chart(_("Goals by field of action"), figures["k4_by_field"]),
            _chart(
                _("Goals by the goal catalogue"),
                [
                    {"label": goal_item(row), "count": row["count"]}
                    for row in figures.get("k4_by_goal") or []
                ],
                limit=15,
            ),
            _chart(_("Referrals by group"), figures["k5_by_group"]),
            _chart(_("Referrals by target"), figures["k5_by_target"], limit=15),
        ],
        "goal_rows": figures.get("k4_by_goal") or [],
        "development": _development(figures.get("development") or []),
        "needs_change": _needs_table(figures.get("k10_needs_change") or []),
    }
    return render(request, "reports/kennzahlen.html", context)


@require_POST
@login_required
def freeze(request: HttpRequest) -> HttpResponse:
    kind, pk, year = _selection(request)
    raw_year = request.POST.get("year", "")
    year = int(raw_year) if re.fullmatch(r"20[0-9]{2}", raw_year) else year
    try:
        report_snapshot_freeze(
            units=[(kind, pk)], period=Period.year(year), actor=request.user, now=timezone.now()
        )
    except ApplicationError as exc:
        if exc.http_status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The figures of %(year)s are frozen.") % {"year": year})
    return redirect(
        reverse("reports:kennzahlen") + "?" + urlencode({"unit": f"{kind}:{pk}", "year": year})
    )


@require_GET
@login_required
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    today: date = timezone.localdate(now)
    if request.user.role not in OVERVIEW_ROLES:
        raise Http404
    rows = caseload_overview(user=request.user, now=now, view="reports.overview")
    for row in rows:
        row["chart"] = _chart(
            _("Open cases by status"),
            [
                {"label": str(label), "count": row["by_status"][value]}
                for value, label in _open_states()
            ],
        )
    return render(request, "reports/overview.html", {"rows": rows, "today": today})


def _open_states() -> list[tuple[str, Any]]:
    from cases.models import OPEN_STATES

    return [(state.value, state.label) for state in OPEN_STATES]
