"""The caseload import page of a supervisor: upload (dry run first), the
run's progress and report, the templates."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from caseload import services
from caseload.forms import ImportForm
from caseload.models import CaseloadImport
from caseload.selectors import (
    ImportNotFound,
    caseload_import_get_for_user,
    caseload_imports_visible_to,
)
from config.errors import ApplicationError


def _require_supervisor(request: AuthenticatedHttpRequest) -> None:
    if request.user.role != Role.SUPERVISOR or not request.user.team_id:
        raise Http404


@login_required
def import_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a caseload file; it is checked or imported in the worker."""
    _require_supervisor(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = services.caseload_import_submit(
                actor=request.user,
                now=timezone.now(),
                content=upload.read(settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES + 1),
                filename=upload.name or "",
                dry_run=form.cleaned_data["dry_run"],
            )
        except ApplicationError as error:
            form.add_error("file", str(error.message))
            status = 400
        else:
            return redirect("caseload:run", run_id=run.pk)
    elif request.method == "POST":
        status = 400
    runs = caseload_imports_visible_to(user=request.user).select_related("created_by")[:20]
    return render(
        request,
        "caseload/import.html",
        {"form": form, "runs": runs, "columns": services.column_help()},
        status=status,
    )


@login_required
def run_view(request: AuthenticatedHttpRequest, run_id: str) -> HttpResponse:
    """One run: progress while it runs (the page reloads itself), then the
    report row by row."""
    _require_supervisor(request)
    try:
        run = caseload_import_get_for_user(user=request.user, run_id=run_id)
    except ImportNotFound:
        raise Http404 from None
    running = run.status in (CaseloadImport.Status.QUEUED, CaseloadImport.Status.RUNNING)
    return render(
        request,
        "caseload/run.html",
        {
            "run": run,
            "report": services.report_for_display(run.report) if run.report else None,
            "running": running,
        },
    )


@login_required
def template_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_supervisor(request)
    response = HttpResponse(services.import_template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="fallbestand-vorlage.csv"'
    return response


@login_required
def template_xlsx(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_supervisor(request)
    response = HttpResponse(
        services.import_template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="fallbestand-vorlage.xlsx"'
    return response
