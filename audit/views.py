"""The auditor's pages: case timeline, access reports, history export.

Only auditors and data-protection officers get here, and only for the
cases of their Träger (`cases.selectors.cases_visible_to`); everyone else
and every other case: 404. Opening a timeline or an export reads case
data and is logged as a read through `case_get_for_user`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Role, User
from audit import exports
from audit.forms import CaseAccessForm, TimelineForm, UserAccessForm
from audit.lines import event_line, read_line
from audit.models import AuditEvent, ReadAccess
from audit.selectors import (
    KIND_READ,
    TimelineFilter,
    case_access_summary,
    case_accesses,
    case_timeline,
    timeline_rows,
    user_accesses,
    user_report_reads,
)
from cases.selectors import CaseNotFound, case_get_for_user, cases_visible_to

AUDIT_ROLES = (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER)
# Shown in the navigation of base.html for auditors.
NAV_TITLE = gettext_lazy("Access reports")
PAGE_SIZE = 50
REPORT_READS_SHOWN = 200


def is_auditor(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in AUDIT_ROLES)


def _auditor_or_404(request: HttpRequest) -> None:
    if not is_auditor(request.user):
        raise Http404


def _case_or_404(request: HttpRequest, case_pk: Any, view: str) -> Any:
    try:
        return case_get_for_user(user=request.user, case_id=case_pk, now=timezone.now(), view=view)
    except CaseNotFound:
        raise Http404 from None


def _user_name(user: User | None) -> str:
    if user is None:
        return _("system")
    return f"{user.get_full_name() or user.username} ({user.get_role_display()})"


def _case_actors(case_id: int) -> list[tuple[int, str]]:
    ids = set(
        AuditEvent.objects.filter(chain_key=f"case:{case_id}", actor__isnull=False)
        .values_list("actor_id", flat=True)
        .distinct()
    )
    ids |= set(
        ReadAccess.objects.filter(case_id=case_id).values_list("user_id", flat=True).distinct()
    )
    users = User.objects.filter(pk__in=ids).order_by("last_name", "username")
    return [(user.pk, _user_name(user)) for user in users]


@never_cache
@require_GET
@login_required
def timeline(request: HttpRequest, case_pk: Any) -> HttpResponse:
    """The case's events and read accesses in one ordered, filtered list."""
    _auditor_or_404(request)
    case = _case_or_404(request, case_pk, "audit.timeline")
    form = TimelineForm(request.GET or None, actors=_case_actors(case.pk))
    status, page, rows = 200, None, []
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        since, until = (
            form.period(today=timezone.localdate(), default_days=None)
            if form.is_bound
            else (None, None)
        )
        filters = TimelineFilter(
            kind=data.get("art") or "", actor_id=data.get("person"), since=since, until=until
        )
        paginator = Paginator(case_timeline(case_id=case.pk, filters=filters), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("seite"))
        for row in timeline_rows(list(page.object_list)):
            if row.kind == KIND_READ:
                who, line = row.read.user, read_line(row.read)
            else:
                who, line = row.event.actor, event_line(row.event)
            rows.append({"row": row, "who": _user_name(who), "line": line})
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "audit/timeline.html",
        {"case": case, "form": form, "page": page, "rows": rows, "query": query.urlencode()},
        status=status,
    )


def _pdf_texts(case_id: int) -> dict[str, str]:
    return {
        "title": _("History of case %(id)s") % {"id": case_id},
        "intro": _(
            "Every event of the case's audit chain in order. Each event carries its hash "
            "and the hash of its predecessor; client content is not part of the trail."
        ),
        "head": _("Chain head (hash of the last event)"),
        "seq": _("No."),
        "time": _("Time"),
        "actor": _("Actor (id, role)"),
        "event": _("Event"),
        "hashes": _("Hash / previous hash"),
        "prev": _("previous"),
        "verify": _(
            "To verify a copy, export the history as JSON and run "
            "python -m audit.verify_export <file> (see README, 'Audit trail')."
        ),
    }


@never_cache
@require_GET
@login_required
def export(request: HttpRequest, case_pk: Any, fmt: str) -> HttpResponse:
    """The case's whole history as JSON, CSV or PDF (logged as a read)."""
    _auditor_or_404(request)
    if fmt not in ("json", "csv", "pdf"):
        raise Http404
    case = _case_or_404(request, case_pk, f"audit.export_{fmt}")
    document = exports.case_history_json(
        case_id=case.pk, exported_by=request.user, now=timezone.now(), describe=event_line
    )
    if fmt == "json":
        body, content_type = exports.json_bytes(document), "application/json"
    elif fmt == "csv":
        body, content_type = exports.case_history_csv(document=document), "text/csv"
    else:
        body = exports.case_history_pdf(document=document, texts=_pdf_texts(case.pk))
        content_type = "application/pdf"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    if fmt == "pdf":
        response["Content-Type"] = content_type
    response["Content-Disposition"] = f'attachment; filename="fall-{case.pk}-verlauf.{fmt}"'
    return response


READ_HEADER = ("zeitpunkt", "nutzer_id", "rolle", "fall", "ansicht")


@never_cache
@require_GET
@login_required
def case_access_report(request: HttpRequest) -> HttpResponse:
    """'Who accessed case X in period P' (page, or CSV with format=csv)."""
    _auditor_or_404(request)
    form = CaseAccessForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "audit/access_case.html", context)
    if not form.is_valid():
        return render(request, "audit/access_case.html", context, status=400)
    case = _case_or_404(request, form.cleaned_data["fall"], "audit.access_report")
    since, until = form.period(today=timezone.localdate())
    reads = case_accesses(case_id=case.pk, since=since, until=until)
    if request.GET.get("format") == "csv":
        return _csv(
            exports.rows_csv(READ_HEADER, exports.read_rows(reads)), f"zugriffe-fall-{case.pk}"
        )
    summary = case_access_summary(case_id=case.pk, since=since, until=until)
    users = User.objects.in_bulk([row.user_id for row in summary])
    page = Paginator(reads.select_related("user"), PAGE_SIZE).get_page(request.GET.get("seite"))
    query = request.GET.copy()
    query.pop("seite", None)
    context.update(
        case=case,
        since=since,
        until=until,
        summary=[(row, _user_name(users.get(row.user_id))) for row in summary],
        page=page,
        query=query.urlencode(),
    )
    return render(request, "audit/access_case.html", context)


def _users_of_traeger(user: Any) -> list[tuple[int, str]]:
    users = User.objects.filter(traeger_id=user.traeger_id).order_by("last_name", "username")
    return [(other.pk, _user_name(other)) for other in users]


@never_cache
@require_GET
@login_required
def user_access_report(request: HttpRequest) -> HttpResponse:
    """'What did user U access in period P', within the auditor's cases."""
    _auditor_or_404(request)
    form = UserAccessForm(request.GET or None, users=_users_of_traeger(request.user))
    context: dict[str, Any] = {"form": form}
    if not form.is_bound:
        return render(request, "audit/access_user.html", context)
    if not form.is_valid():
        return render(request, "audit/access_user.html", context, status=400)
    subject = User.objects.get(pk=form.cleaned_data["nutzer"])
    since, until = form.period(today=timezone.localdate())
    visible = cases_visible_to(user=request.user, now=timezone.now()).values("pk")
    reads = user_accesses(user_id=subject.pk, since=since, until=until, case_ids=visible)
    if request.GET.get("format") == "csv":
        return _csv(
            exports.rows_csv(READ_HEADER, exports.read_rows(reads)), f"zugriffe-nutzer-{subject.pk}"
        )
    page = Paginator(reads, PAGE_SIZE).get_page(request.GET.get("seite"))
    query = request.GET.copy()
    query.pop("seite", None)
    report_reads = list(
        user_report_reads(user_id=subject.pk, since=since, until=until)[: REPORT_READS_SHOWN + 1]
    )
    context.update(
        subject=_user_name(subject),
        since=since,
        until=until,
        page=page,
        query=query.urlencode(),
        report_reads=report_reads[:REPORT_READS_SHOWN],
        more_report_reads=len(report_reads) > REPORT_READS_SHOWN,
    )
    return render(request, "audit/access_user.html", context)


def _csv(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
