"""The German workspace ("Arbeitsplatz"): the manager's day and case list,
the supervisor's team view and team list.

Each page reads through `workspace.selectors` (which reach cases only via
`cases_visible_to`) with a fixed number of queries. A page that shows
client names logs one read per case shown, in one INSERT, as the start
page, the inbox and the API list do; the supervisor's pages show no client
content and log nothing, as the supervisor's start page and API list.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from audit.services import read_accesses_record
from notifications.links import screen_notifications
from workspace import selectors
from workspace.forms import CaseFilterForm, TeamFilterForm


def _require_role(request: AuthenticatedHttpRequest, role: str) -> None:
    if request.user.role != role:
        raise Http404


def _log_reads(request: HttpRequest, case_ids: set[int], *, view: str, now: Any) -> None:
    if case_ids:
        read_accesses_record(user=request.user, case_ids=sorted(case_ids), view=view, now=now)


def _notes(request: HttpRequest, rows: list[Any]) -> list[Any]:
    return screen_notifications(user=request.user, notifications=rows, now=timezone.now())


def render_dashboard(request: AuthenticatedHttpRequest, *, view: str) -> HttpResponse:
    """The manager's day or the supervisor's team view; 404 for other roles.

    `view` names the page in the read log (the start page renders this too).
    """
    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    if user.role == Role.INTEGRATION_MANAGER:
        day = selectors.manager_day(user=user, now=now)
        _log_reads(request, day.content_ids, view=view, now=now)
        return render(
            request,
            "workspace/dashboard_manager.html",
            {
                "day": day,
                "today": today,
                "review_days": settings.LOTSE_REVIEW_REMINDER_DAYS,
                "notifications": _notes(request, day.notifications),
            },
        )
    if user.role == Role.SUPERVISOR:
        team = selectors.team_view(user=user, now=now)
        return render(
            request,
            "workspace/dashboard_team.html",
            {"team": team, "today": today, "notifications": _notes(request, team.notifications)},
        )
    raise Http404


@require_GET
@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """'Arbeitsplatz': what is due today for the signed-in user."""
    return render_dashboard(request, view="workspace.dashboard")


@require_GET
@login_required
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """'Meine Fälle': the manager's own and deputised cases."""
    _require_role(request, Role.INTEGRATION_MANAGER)
    now = timezone.now()
    form = CaseFilterForm(request.GET, gemeinden=selectors.gemeinde_choices(user=request.user))
    context: dict[str, Any] = {"form": form, "today": timezone.localdate(now), "page": None}
    if not form.is_valid():
        return render(request, "workspace/case_list.html", context, status=400)
    page = selectors.manager_case_page(
        user=request.user, now=now, filters=form.filters(), page=form.page_number()
    )
    _log_reads(request, page.content_ids, view="workspace.case_list", now=now)
    context.update(page=page, filtered=form.is_filtered())
    return render(request, "workspace/case_list.html", context)


@require_GET
@login_required
def team_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """'Team': the supervisor's team's open cases and caseload, no names."""
    _require_role(request, Role.SUPERVISOR)
    now = timezone.now()
    today = timezone.localdate(now)
    caseload = selectors.team_caseload(user=request.user, now=now)
    form = TeamFilterForm(
        request.GET,
        managers=[(m.pk, m.get_full_name() or m.username) for m in caseload],
        gemeinden=selectors.gemeinde_choices(user=request.user),
    )
    context: dict[str, Any] = {
        "form": form,
        "today": today,
        "caseload": caseload,
        "totals": selectors.caseload_totals(caseload),
        "page": None,
    }
    if not form.is_valid():
        return render(request, "workspace/team_list.html", context, status=400)
    context.update(
        page=selectors.team_case_page(
            user=request.user, now=now, filters=form.filters(), page=form.page_number()
        ),
        filtered=form.is_filtered(),
    )
    return render(request, "workspace/team_list.html", context)
