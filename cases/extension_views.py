"""The extension request from the case page (besides the guided check
task): offered while the effective end lies within
`LOTSE_EXTENSION_REQUEST_MONTHS` months. It calls the same service as the
check task and the API (`extension_request_submit`); the supervisor decides
under four eyes in the approvals, as for every request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.types import AuthenticatedHttpRequest
from cases import services
from cases.forms import ExtensionRequestForm
from cases.selectors import case_clock, extension_reasons_on, extension_request_offered
from cases.views import _case, _refusal, _show_error
from config.errors import ApplicationError


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def extension_request_new(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Request the one extension of the consultation period (one service
    call); a case outside the window gets 409 and the page says why."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.extension_request_new", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    today = timezone.localdate(now)
    context: dict[str, Any] = {
        "case": case,
        "clock": case_clock(case=case, now=now),
        "months": settings.LOTSE_EXTENSION_REQUEST_MONTHS,
    }
    if not extension_request_offered(case=case, now=now):
        return render(request, "cases/extension_request_closed.html", context, status=409)
    form = ExtensionRequestForm(
        request.POST if request.method == "POST" else None,
        reasons=extension_reasons_on(day=today),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.extension_request_submit(
                    case=case, actor=request.user, now=now, **form.cleaned_data
                )
            except ApplicationError as error:
                _show_error(form, error)  # type: ignore[arg-type]
                status = error.http_status
            else:
                messages.success(
                    request, _("The extension request was sent to the supervisors for a decision.")
                )
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
        else:
            status = 400
    return render(request, "cases/extension_request.html", {**context, "form": form}, status=status)
