"""The case's client documents (upload, download, delete) and the CV
(competence profile) with its Lebenslauf PDF.

Like the other case pages: the case through `case_get_for_user` (the read
is logged; a foreign case is a 404, a supervisor gets 403 on content), one
service call per request, a refusal shown at the field it names.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.types import AuthenticatedHttpRequest
from cases import services
from cases.document_forms import CvEntryForm, DocumentUploadForm
from cases.documents import cv as cv_document
from cases.documents.fonts import FontsMissing
from cases.models import CvEntry
from cases.views import _case, _refusal
from config.errors import ApplicationError


def _place(form: Any, error: ApplicationError) -> None:
    placed = False
    for name, problems in (error.fields or {}).items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Upload a client document to the case."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.document_upload", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    form = DocumentUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.document_upload(
                    case=case, actor=request.user, now=now, **form.upload_args()
                )
            except ApplicationError as error:
                _place(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The document was stored."))
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]) + "#dokumente")
        else:
            status = 400
    return render(
        request, "cases/document_upload.html", {"case": case, "form": form}, status=status
    )


@never_cache
@login_required
@require_GET
def document_download(
    request: AuthenticatedHttpRequest, case_pk: Any, document_pk: Any
) -> HttpResponse:
    """Hand out a document's file; the download is an audit event."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.document_download", content=True)
        document, content = services.document_download(
            case=case, document_id=document_pk, actor=request.user, now=now
        )
    except ApplicationError as error:
        return _refusal(request, error, case_pk)
    response = HttpResponse(content, content_type=document.content_type or "application/pdf")
    stored = str(document.file.name or "")
    extension = stored.rsplit(".", 1)[-1] if "." in stored else "pdf"
    response["Content-Disposition"] = (
        f'attachment; filename="dokument-{document.pk}-fall-{case.pk}.{extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required
@require_POST
def document_delete(
    request: AuthenticatedHttpRequest, case_pk: Any, document_pk: Any
) -> HttpResponse:
    """Delete a document's file (after the page asked for confirmation)."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.document_delete", content=True)
        services.document_delete(case=case, document_id=document_pk, actor=request.user, now=now)
    except ApplicationError as error:
        return _refusal(request, error, case_pk)
    messages.success(request, _("The document was deleted."))
    return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]) + "#dokumente")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def cv_page(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The client's CV: its entries, a form to add one, the PDF."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.cv", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    form = CvEntryForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.cv_entry_add(case=case, actor=request.user, now=now, **form.cleaned_data)
            except ApplicationError as error:
                _place(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The entry was added to the CV."))
                return HttpResponseRedirect(reverse("documents:cv", args=[case.pk]))
        else:
            status = 400
    entries = cv_document.cv_entries(case=case)
    return render(
        request,
        "cases/cv.html",
        {"case": case, "form": form, "entries": entries, "kinds": CvEntry.Kind},
        status=status,
    )


@never_cache
@login_required
@require_POST
def cv_entry_remove(request: AuthenticatedHttpRequest, case_pk: Any, entry_pk: Any) -> HttpResponse:
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.cv", content=True)
        services.cv_entry_remove(case=case, entry_id=entry_pk, actor=request.user, now=now)
    except ApplicationError as error:
        return _refusal(request, error, case_pk)
    messages.success(request, _("The entry was removed from the CV."))
    return HttpResponseRedirect(reverse("documents:cv", args=[case.pk]))


@never_cache
@login_required
@require_GET
def cv_pdf(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The CV as a German Lebenslauf (PDF)."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.cv_pdf", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    try:
        body = cv_document.cv_pdf(
            case=case, person=case.person, entries=cv_document.cv_entries(case=case), now=now
        )
    except FontsMissing as error:
        return _refusal(request, error, case.pk)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="lebenslauf-fall-{case.pk}.pdf"'
    return response
