"""Session rules of a sign-in: timeouts and the second factor.

Both apply to browser sessions (and the API used with a session cookie).
API calls with a token carry no session: their second factor was checked
when the token was issued.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import (
    LAST_SEEN_AT,
    PROVIDER_MFA_SESSION_KEY,
    SIGNED_IN_AT,
    has_second_factor,
)

# Seconds between two writes of the last activity (one session save per minute).
_TOUCH_EVERY = 60


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionTimeoutMiddleware:
    """End a session after LOTSE_SESSION_IDLE_MINUTES without a request, and
    SESSION_COOKIE_AGE seconds after sign-in whatever the activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = timezone.now().timestamp()
            session = request.session
            signed_in = session.get(SIGNED_IN_AT)
            last_seen = session.get(LAST_SEEN_AT)
            idle = settings.LOTSE_SESSION_IDLE_MINUTES * 60
            if signed_in is None or last_seen is None:
                session[SIGNED_IN_AT] = signed_in or now
                session[LAST_SEEN_AT] = now
            elif now - signed_in >= settings.SESSION_COOKIE_AGE or now - last_seen >= idle:
                logout(request)
                if not _is_api(request):
                    messages.info(request, _("Your session has expired. Please sign in again."))
            elif now - last_seen >= _TOUCH_EVERY:
                session[LAST_SEEN_AT] = now
        return self.get_response(request)


def _provider_verified(request: HttpRequest) -> bool:
    """The organisation's OIDC provider asserted a second factor at sign-in."""
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(PROVIDER_MFA_SESSION_KEY))


class RequireSecondFactorMiddleware:
    """With LOTSE_REQUIRE_MFA, a password-only session reaches nothing but
    the second-factor pages and sign-out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.LOTSE_REQUIRE_MFA
            and user.is_authenticated
            and not user.is_verified()
            and not _provider_verified(request)
            and not self._exempt(request)
        ):
            if _is_api(request):
                return JsonResponse(
                    {
                        "code": "otp_required",
                        "detail": _("Two-factor sign-in is required; finish it in the browser."),
                    },
                    status=403,
                )
            target = "accounts:otp_verify" if has_second_factor(user=user) else "accounts:otp_setup"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        open_paths = {
            reverse("accounts:login"),
            reverse("accounts:logout"),
            reverse("accounts:otp_verify"),
            reverse("accounts:otp_setup"),
            reverse("healthz"),
        }
        return request.path in open_paths or request.path.startswith(
            "/" + settings.STATIC_URL.lstrip("/")
        )
