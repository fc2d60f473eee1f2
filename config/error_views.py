"""Django's error views, answering the API's JSON under /api/.

Errors that happen outside a DRF view (a body over Django's upload limit
read by a middleware, an unknown path, an unexpected exception in a
middleware) would otherwise come back as HTML; API clients get the
contract's `{"code", "detail"}` instead (shared/docs/API.md).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            {"code": "request_too_large", "detail": _("The request is too large.")}, status=413
        )
    if isinstance(exception, TooManyFieldsSent):
        return JsonResponse(
            {"code": "parse_error", "detail": _("The request has too many fields.")}, status=400
        )
    return JsonResponse(
        {"code": "bad_request", "detail": _("The request is not valid.")}, status=400
    )


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(
        {"code": "forbidden", "detail": _("You do not have permission to do this.")}, status=403
    )


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse(
        {
            "code": "server_error",
            "detail": _("An unexpected error occurred. It has been logged; please try again."),
        },
        status=500,
    )
