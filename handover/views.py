"""German screens of the handover: the GU's form and list, the managers'
incoming list with accept and return, the file import and its templates.

Each view reads through `handover.selectors` (404 for what the user may not
see) or makes one service call and shows its errors at the fields.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from config.errors import ApplicationError
from handover import services
from handover.forms import AcceptForm, HandoverForm, ImportForm, MemberFormSet, ReturnForm
from handover.models import Handover, HandoverStatus, ImportJob
from handover.selectors import (
    HandoverNotFound,
    handover_get_for_user,
    handover_list_for_user,
    import_job_get_for_user,
    member_candidates,
)

DECIDERS = (Role.INTEGRATION_MANAGER, Role.SUPERVISOR)


def _handover_for(request: HttpRequest, handover_pk: Any) -> Handover:
    try:
        return handover_get_for_user(user=request.user, handover_id=handover_pk)
    except HandoverNotFound:
        raise Http404 from None


def _require_role(request: AuthenticatedHttpRequest, roles: tuple[str, ...]) -> None:
    if request.user.role not in roles:
        raise Http404


@login_required
def handover_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """'Übergaben': the sender's own, or the incoming ones of the Gemeinden."""
    _require_role(request, (Role.GU_SOCIAL_WORKER, *DECIDERS))
    rows = list(handover_list_for_user(user=request.user))
    return render(
        request,
        "handover/list.html",
        {
            "incoming": [h for h in rows if h.status == HandoverStatus.SUBMITTED],
            "others": [h for h in rows if h.status != HandoverStatus.SUBMITTED],
            "is_sender": request.user.role == Role.GU_SOCIAL_WORKER,
        },
    )


def _place_errors(
    error: ApplicationError, form: HandoverForm, formset: Any, filled: list[int]
) -> None:
    for name, messages_ in error.fields.items():
        if name.startswith("members."):
            _prefix, position, field_name = [*name.split(".", 2), "", ""][:3]
            index = (
                filled[int(position)] if position.isdigit() and int(position) < len(filled) else 0
            )
            target = formset.forms[index]
            for message in messages_:
                target.add_error(field_name if field_name in target.fields else None, message)
            continue
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)
    if not error.fields:
        form.add_error(None, str(error.message))


@login_required
def handover_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The GU's form: one person or a household; save as draft or submit."""
    _require_role(request, (Role.GU_SOCIAL_WORKER,))
    form = HandoverForm(request.POST or None)
    formset = MemberFormSet(request.POST or None, prefix="members")
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            filled = [
                index
                for index, member_form in enumerate(formset.forms)
                if any(member_form.cleaned_data.get(k) for k in ("family_name", "given_names"))
            ]
            members = [formset.forms[index].cleaned_data for index in filled]
            try:
                handover, _created = services.handover_create(
                    actor=request.user,
                    now=timezone.now(),
                    data=form.cleaned_data,
                    members=members,
                    source=Handover.Source.FORM,
                    submit="submit" in request.POST,
                )
            except ApplicationError as error:
                _place_errors(error, form, formset, filled)
                status = error.http_status
            else:
                messages.success(
                    request,
                    _("The handover was submitted.")
                    if handover.status == HandoverStatus.SUBMITTED
                    else _("The handover was saved as a draft."),
                )
                return redirect("handover:detail", handover.pk)
        else:
            status = 400
    return render(request, "handover/new.html", {"form": form, "formset": formset}, status=status)


def _detail(
    request: AuthenticatedHttpRequest,
    handover: Handover,
    *,
    accept_form: AcceptForm | None = None,
    return_form: ReturnForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_decide = request.user.role in DECIDERS and handover.status == HandoverStatus.SUBMITTED
    candidates: dict[int, list[Any]] = {}
    if may_decide:
        candidates = member_candidates(handover=handover, traeger_id=request.user.traeger_id)
        if accept_form is None:
            accept_form = AcceptForm(actor=request.user, candidates=candidates)
            accept_form.offer_member_cases(list(handover.members.order_by("position")))
        return_form = return_form or ReturnForm()
    members = list(handover.members.order_by("position"))
    return render(
        request,
        "handover/detail.html",
        {
            "handover": handover,
            "members": [
                (
                    m,
                    accept_form[f"person_{m.pk}"]
                    if accept_form and f"person_{m.pk}" in accept_form.fields
                    else None,
                )
                for m in members
            ],
            "accept_form": accept_form if may_decide else None,
            "return_form": return_form if may_decide else None,
            "may_submit": request.user.role == Role.GU_SOCIAL_WORKER
            and handover.status == HandoverStatus.DRAFT,
        },
        status=status,
    )


@login_required
def handover_detail(request: AuthenticatedHttpRequest, handover_pk: Any) -> HttpResponse:
    return _detail(request, _handover_for(request, handover_pk))


@login_required
@require_POST
def handover_submit_view(request: AuthenticatedHttpRequest, handover_pk: Any) -> HttpResponse:
    handover = _handover_for(request, handover_pk)
    try:
        services.handover_submit(handover=handover, actor=request.user, now=timezone.now())
    except ApplicationError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The handover was submitted."))
    return redirect("handover:detail", handover.pk)


@login_required
@require_POST
def handover_accept_view(request: AuthenticatedHttpRequest, handover_pk: Any) -> HttpResponse:
    handover = _handover_for(request, handover_pk)
    _require_role(request, DECIDERS)
    candidates = member_candidates(handover=handover, traeger_id=request.user.traeger_id)
    form = AcceptForm(request.POST, actor=request.user, candidates=candidates)
    form.offer_member_cases(list(handover.members.order_by("position")))
    if not form.is_valid():
        return _detail(request, handover, accept_form=form, status=400)
    assignee = form.cleaned_data.get("assignee")
    try:
        accepted = services.handover_accept(
            handover=handover,
            actor=request.user,
            now=timezone.now(),
            assignee=int(assignee) if assignee else None,
            persons=form.persons(),
            member_cases=form.chosen_member_cases(),
        )
    except ApplicationError as error:
        if error.code == "possible_duplicate":
            form.add_error(None, str(error.message))
        else:
            for name, messages_ in error.fields.items():
                for message in messages_:
                    form.add_error(name if name in form.fields else None, message)
            if not error.fields:
                form.add_error(None, str(error.message))
        return _detail(request, handover, accept_form=form, status=error.http_status)
    messages.success(request, _("The handover was accepted; the case was registered."))
    if accepted.assignee_id == request.user.pk:
        return redirect("cases:detail", accepted.case_id)
    return redirect("handover:list")


@login_required
@require_POST
def handover_return_view(request: AuthenticatedHttpRequest, handover_pk: Any) -> HttpResponse:
    handover = _handover_for(request, handover_pk)
    _require_role(request, DECIDERS)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _detail(request, handover, return_form=form, status=400)
    try:
        services.handover_return(
            handover=handover,
            actor=request.user,
            now=timezone.now(),
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        for name, messages_ in error.fields.items():
            for message in messages_:
                form.add_error(name if name in form.fields else None, message)
        if not error.fields:
            form.add_error(None, str(error.message))
        return _detail(request, handover, return_form=form, status=error.http_status)
    messages.success(request, _("The handover was returned to the sender."))
    return redirect("handover:list")


@login_required
def handover_import_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a CSV or XLSX file; dry run first, then all or nothing."""
    _require_role(request, (Role.GU_SOCIAL_WORKER,))
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.handover_import_submit(
                actor=request.user,
                now=timezone.now(),
                content=upload.read(settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES + 1),
                filename=upload.name or "",
                dry_run=form.cleaned_data["dry_run"],
            )
        except services.ImportInvalid as error:
            report = error.report
            status = 400
        else:
            if isinstance(result, ImportJob):  # a large file: the worker reads it
                return redirect("handover:import_job", job_id=result.pk)
            report = result
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "handover/import.html",
        {"form": form, "report": report.as_dict() if report else None},
        status=status,
    )


@login_required
def import_job_view(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponse:
    """A large file's import in the worker: its progress, then its report."""
    _require_role(request, (Role.GU_SOCIAL_WORKER,))
    try:
        job = import_job_get_for_user(user=request.user, job_id=job_id)
    except HandoverNotFound:
        raise Http404 from None
    return render(
        request,
        "handover/import_job.html",
        {
            "job": job,
            "report": job.report,
            "running": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        },
    )


@login_required
def template_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.import_template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="uebergaben-vorlage.csv"'
    return response


@login_required
def template_xlsx(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        services.import_template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="uebergaben-vorlage.xlsx"'
    return response
