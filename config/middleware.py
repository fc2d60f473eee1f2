"""Project middleware."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreForSignedInMiddleware:
    """Mark every response to a signed-in user as never to be stored.

    Case data must not linger in browser or proxy caches (RELIABILITY.md
    S5). Token-authenticated API calls are covered too: DRF authenticates
    them after this middleware runs, so the Authorization header counts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            add_never_cache_headers(response)
        return response


request_logger = logging.getLogger("lotse.request")


class RequestLogMiddleware:
    """Write one log line per request, without personal data.

    The line names the URL *pattern* the request matched (`faelle/<int:pk>/`),
    never the path (which carries case and person ids) or the query string
    (a search for a name is a client's name); no user, no address, no
    header. With LOTSE_LOG_FORMAT=json each line is one JSON object.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        request_logger.info(
            "request",
            extra={
                "method": request.method if request.method in _METHODS else "OTHER",
                "route": ("/" + match.route) if match is not None else None,
                "view": match.view_name if match is not None else None,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ContentSecurityPolicyMiddleware:
    """Send LOTSE_CSP with every response (no inline scripts or styles);
    the API docs page gets LOTSE_CSP_API_DOCS for Swagger UI's CDN."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/docs/")
            response["Content-Security-Policy"] = (
                settings.LOTSE_CSP_API_DOCS if docs else settings.LOTSE_CSP
            )
        return response
