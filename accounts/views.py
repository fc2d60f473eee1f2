"""Sign-in, the second factor and sign-out (German first, English through i18n)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts import services


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step of the sign-in: a code from the app or a backup code."""
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    if not services.has_second_factor(user=request.user):
        return HttpResponseRedirect(_with_next("accounts:otp_setup", request))
    context: dict[str, Any] = {"next": _next_url(request)}
    if request.method == "POST":
        try:
            device = services.second_factor_check(
                user=request.user, code=request.POST.get("otp", "")
            )
        except services.SecondFactorInvalid as exc:
            context["error"] = exc.message
        else:
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
    return render(request, "accounts/otp_verify.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app once; shows the backup codes once."""
    if services.has_second_factor(user=request.user):
        return HttpResponseRedirect(_with_next("accounts:otp_verify", request))
    device = services.totp_setup_device(user=request.user)
    context: dict[str, Any] = {
        "next": _next_url(request),
        "secret": services.totp_secret_for_display(device),
        "config_url": device.config_url,
    }
    if request.method == "POST":
        try:
            device, codes = services.totp_confirm(
                user=request.user, code=request.POST.get("otp", "")
            )
        except services.SecondFactorInvalid as exc:
            context["error"] = exc.message
        else:
            otp_login(request, device)
            return render(request, "accounts/otp_backup_codes.html", {**context, "codes": codes})
    return render(request, "accounts/otp_setup.html", context)


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The answer to a locked-out sign-in (django-axes).

    It names no user and is the same whether the user name exists or not.
    """
    return render(request, "accounts/locked_out.html", status=429)
