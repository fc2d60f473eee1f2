"""The screens of case transfers (German paths under /fallwechsel/).

- a supervisor hands one case to another manager, team or Träger;
- a supervisor reassigns all (or the ticked) cases of a leaving manager;
- a case's manager exports the case file as a signed transfer package;
- a manager or supervisor takes over a package from another installation
  and reads the case file it brought.

Each view makes one service call and shows its refusal in German at the
form; a case the user may not see is a 404.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import Role, User
from accounts.types import AuthenticatedHttpRequest
from cases import services as case_services
from cases.selectors import DEPUTY, OWNER, CaseNotFound, case_get_for_user
from config.errors import ApplicationError
from transfers import selectors, services
from transfers.forms import (
    ExportForm,
    ImportForm,
    LeavingManagerForm,
    ReassignForm,
    TransferForm,
)
from transfers.package import PackageAlreadyImported, PackageRefused

KIND_LABELS = case_services.TRANSFER_KIND_LABELS


def _case(request: AuthenticatedHttpRequest, case_pk: Any, view: str, content: bool) -> Any:
    try:
        return case_get_for_user(
            user=request.user,
            case_id=case_pk,
            now=timezone.now(),
            view=view,
            readers=frozenset({OWNER, DEPUTY}) if content else None,
        )
    except CaseNotFound:
        raise Http404 from None


def _show(form: Any, error: ApplicationError) -> None:
    placed = False
    for name, problems in error.fields.items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _require(request: AuthenticatedHttpRequest, *roles: str) -> None:
    if request.user.role not in roles:
        raise Http404


@never_cache
@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """'Fallwechsel': what the user can do here."""
    _require(request, Role.SUPERVISOR, Role.INTEGRATION_MANAGER)
    return render(
        request,
        "transfers/index.html",
        {
            "is_supervisor": request.user.role == Role.SUPERVISOR,
            "targets": selectors.transfer_targets(),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def case_transfer(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Hand one case to another integration manager (supervisor)."""
    _require(request, Role.SUPERVISOR)
    case = _case(request, case_pk, "transfers.case_transfer", content=False)
    owners = selectors.transfer_owner_choices(actor=request.user).exclude(pk=case.owner_id)
    form = TransferForm(request.POST or None, owners=owners)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                moved = case_services.case_transfer(
                    case=case.pk,
                    actor=request.user,
                    now=timezone.now(),
                    owner=form.cleaned_data["owner"],
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as error:
                _show(form, error)
                status = error.http_status
            else:
                owner = moved.case.owner
                name = owner.get_full_name() or owner.username
                messages.success(
                    request,
                    _("Case #%(case)s was handed to %(name)s.") % {"case": case.pk, "name": name},
                )
                return HttpResponseRedirect(reverse("transfers:reassign"))
        else:
            status = 400
    return render(
        request, "transfers/case_transfer.html", {"case": case, "form": form}, status=status
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Reassign the cases of a leaving manager (supervisor): choose the
    manager, then all or the ticked cases and the new manager."""
    _require(request, Role.SUPERVISOR)
    now = timezone.now()
    managers = selectors.team_managers(actor=request.user)
    chooser = LeavingManagerForm(request.GET or None, managers=managers)
    leaving: User | None = chooser.cleaned_data["manager"] if chooser.is_valid() else None
    context: dict[str, Any] = {"chooser": chooser, "leaving": leaving}
    status = 200
    if leaving is not None:
        cases = list(selectors.cases_of_manager(actor=request.user, manager=leaving, now=now))
        form = ReassignForm(
            request.POST if request.method == "POST" else None,
            owners=selectors.transfer_owner_choices(actor=request.user).exclude(pk=leaving.pk),
            case_choices=[(str(c.pk), f"#{c.pk}") for c in cases],
            initial={"case_ids": [str(c.pk) for c in cases]},
        )
        if request.method == "POST":
            if form.is_valid():
                try:
                    result = case_services.cases_reassign(
                        actor=request.user,
                        now=timezone.now(),
                        from_owner=leaving,
                        owner=form.cleaned_data["owner"],
                        case_ids=form.selected_ids(),
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as error:
                    _show(form, error)
                    status = error.http_status
                else:
                    owner = form.cleaned_data["owner"]
                    messages.success(
                        request,
                        _("%(count)s cases were handed to %(name)s.")
                        % {
                            "count": len(result.case_ids),
                            "name": owner.get_full_name() or owner.username,
                        },
                    )
                    return HttpResponseRedirect(
                        reverse("transfers:reassign") + f"?manager={leaving.pk}"
                    )
            else:
                status = 400
        context.update(form=form, cases=cases)
    return render(request, "transfers/reassign.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def package_export(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Export the case file as a signed package (the case's manager)."""
    try:
        case = _case(request, case_pk, "transfers.package_export_form", content=True)
    except ApplicationError as error:
        return render(
            request,
            "cases/refused.html",
            {"message": error.message, "case_pk": case_pk},
            status=error.http_status,
        )
    form = ExportForm(request.POST or None, targets=selectors.transfer_targets())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                exported = services.transfer_package_export(
                    case_id=case.pk,
                    actor=request.user,
                    now=timezone.now(),
                    target=form.cleaned_data["target"],
                )
            except ApplicationError as error:
                _show(form, error)
                status = error.http_status
            else:
                response = HttpResponse(exported.content, content_type="application/json")
                response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
                return response
        else:
            status = 400
    return render(
        request,
        "transfers/package_export.html",
        {"case": case, "form": form, "exported": selectors.packages_exported(case=case)},
        status=status,
    )


# The package waiting for the answer to a duplicate warning, in the user's
# session (server side, `SESSION_ENGINE` db): one at a time, dropped once
# taken over or when the page is opened afresh.
PENDING = "transfers.pending_package"


def _pending_keep(request: AuthenticatedHttpRequest, content: bytes, name: str) -> str:
    token = secrets.token_urlsafe(16)
    request.session[PENDING] = {
        "token": token,
        "name": name[:200],
        "content": base64.b64encode(content).decode("ascii"),
    }
    return token


def _pending_get(request: AuthenticatedHttpRequest, token: str) -> tuple[bytes, str] | None:
    kept = request.session.get(PENDING)
    if not token or not isinstance(kept, dict) or kept.get("token") != token:
        return None
    return base64.b64decode(kept["content"]), str(kept.get("name") or "")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def package_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Take over a package from another installation.

    A person who may already be known (the intake's duplicate check) is
    shown with the candidates to choose from, as on the intake page; the
    file waits in the session meanwhile, so the answer needs no new upload.
    """
    _require(request, Role.SUPERVISOR, Role.INTEGRATION_MANAGER)
    owners = (
        selectors.team_managers(actor=request.user).filter(is_active=True)
        if request.user.role == Role.SUPERVISOR
        else User.objects.filter(pk=request.user.pk)
    )
    form = ImportForm(request.POST or None, request.FILES or None, owners=owners)
    status = 200
    pending: tuple[bytes, str] | None = None
    token = ""
    if request.method == "GET":
        request.session.pop(PENDING, None)
    elif not form.is_valid():
        status = 400
        asked = str(request.POST.get("pending") or "")
        pending = _pending_get(request, asked)
        token = asked if pending else ""
    else:
        upload = form.cleaned_data.get("file")
        waiting = _pending_get(request, form.cleaned_data.get("pending") or "")
        # The answer belongs to the file it was given for (the waiting one).
        decision: dict[str, Any] = form.decided() if waiting is not None else {}
        if upload is not None:
            pending = (upload.read(settings.LOTSE_TRANSFER_MAX_BYTES + 1), upload.name or "")
            if waiting is None or pending[0] != waiting[0]:
                decision = {}  # another file: checked afresh
        else:
            pending = waiting
            if pending is None:
                form.add_error(
                    "file",
                    _("The file is no longer kept here: please choose it again.")
                    if form.cleaned_data.get("pending")
                    else _("Choose the transfer package."),
                )
                status = 400
        if pending is not None:
            content, name = pending
            try:
                record = services.transfer_package_import(
                    content=content,
                    actor=request.user,
                    now=timezone.now(),
                    owner=form.cleaned_data["owner"],
                    **decision,
                )
            except case_services.PossibleDuplicate as duplicate:
                token = _pending_keep(request, content, name)
                form.warn(duplicate.candidates[case_services.PACKAGE_PERSON])
                status = duplicate.http_status
            except ApplicationError as error:
                _show(form, error)
                status = error.http_status
                if decision and not isinstance(error, PackageRefused | PackageAlreadyImported):
                    # The answer was refused (not one of the persons, an
                    # open case of the known person): the file still waits.
                    token = _pending_keep(request, content, name)
                else:
                    request.session.pop(PENDING, None)
                    pending = None
            else:
                request.session.pop(PENDING, None)
                messages.success(
                    request,
                    _("The case file from %(installation)s was taken over.")
                    % {"installation": record.source_installation},
                )
                return HttpResponseRedirect(reverse("cases:detail", args=[record.case_id]))
    return render(
        request,
        "transfers/package_import.html",
        {
            "form": form,
            "pending_token": token,
            "pending_name": pending[1] if pending and token else "",
        },
        status=status,
    )


@never_cache
@login_required
def package_received(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The case file a package brought, with its origin."""
    try:
        case = _case(request, case_pk, "transfers.package_received", content=True)
    except ApplicationError as error:
        return render(
            request,
            "cases/refused.html",
            {"message": error.message, "case_pk": case_pk},
            status=error.http_status,
        )
    record = selectors.imported_package_of_case(case=case)
    if record is None:
        raise Http404
    return render(
        request,
        "transfers/package_received.html",
        {
            "case": case,
            "record": record,
            "file": selectors.received_file_display(payload=record.payload),
        },
    )
