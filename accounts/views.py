"""Sign-in, the second factor and sign-out (German first, English through i18n)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts import services
from accounts.models import Role
from accounts.selectors import team_members
from accounts.types import AuthenticatedHttpRequest, choice_field


class BoundedLoginMixin:
    """Refuse a user name or password of absurd length before the sign-in
    is attempted: Django's form only sets the HTML maxlength, and the
    attempt would reach django-axes (varchar 255) and the password hasher."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""  # type: ignore[attr-defined]
        password = self.cleaned_data.get("password") or ""  # type: ignore[attr-defined]
        if len(username) > USERNAME_MAX_LENGTH or len(password) > PASSWORD_MAX_LENGTH:
            raise forms.ValidationError(
                self.error_messages["invalid_login"],  # type: ignore[attr-defined]
                code="invalid_login",
                params={"username": _("user name")},
            )
        return super().clean()  # type: ignore[misc]


USERNAME_MAX_LENGTH = 150
PASSWORD_MAX_LENGTH = 1024


class LoginForm(BoundedLoginMixin, AuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (old password, new one twice). The
    session stays signed in; API tokens of the account end (accounts.tokens)."""

    template_name = "accounts/password_change.html"

    def get_success_url(self) -> str:
        return reverse("home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


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
def otp_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
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
def otp_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up the authenticator app once; shows the backup codes once."""
    if services.has_second_factor(user=request.user):
        return HttpResponseRedirect(_with_next("accounts:otp_verify", request))
    device = services.totp_setup_device(user=request.user)
    context: dict[str, Any] = {
        "next": _next_url(request),
        "secret": services.totp_secret_for_display(device),
        "config_url": device.config_url,
        "qr_svg": setup_qr_svg(device.config_url),
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


def setup_qr_svg(config_url: str) -> SafeString:
    """Return the authenticator set-up address as an inline SVG QR code.

    Drawn on the server and sent inside the never-cached page: the address
    carries the secret, so it never goes to a third-party service or into
    a separately fetched (cacheable) image.
    """
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        config_url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=8,
    )
    svg = image.to_string(encoding="unicode")
    # Only the library's own markup; the address is encoded as modules.
    return mark_safe(svg)  # noqa: S308


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The answer to a locked-out sign-in (django-axes).

    It names no user and is the same whether the user name exists or not.
    """
    return render(request, "accounts/locked_out.html", status=429)


# --- deputies (supervisors) --------------------------------------------------------


class DeputyGrantForm(forms.Form):
    principal = forms.TypedChoiceField(label=_("Absent integration manager"), coerce=int)
    deputy = forms.TypedChoiceField(label=_("Deputy"), coerce=int)
    valid_from = forms.DateTimeField(
        label=_("From (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    valid_until = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, supervisor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = [
            (u.pk, u.get_full_name() or u.username)
            for u in team_members(user=supervisor)
            if u.role == Role.INTEGRATION_MANAGER
        ]
        # Deputy and absent manager belong to the same team (issue 22).
        choice_field(self, "principal").choices = team
        choice_field(self, "deputy").choices = team


def _supervisor_only(request: AuthenticatedHttpRequest) -> None:
    if request.user.role != Role.SUPERVISOR or request.user.team_id is None:
        raise Http404


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def deputies(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The supervisor's page of deputyships: grant, see, revoke."""
    _supervisor_only(request)
    now = timezone.now()
    form = DeputyGrantForm(request.POST or None, supervisor=request.user)
    error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.deputy_grant(
                    actor=request.user,
                    now=now,
                    principal_id=form.cleaned_data["principal"],
                    deputy_id=form.cleaned_data["deputy"],
                    valid_from=form.cleaned_data["valid_from"],
                    valid_until=form.cleaned_data["valid_until"],
                    reason=form.cleaned_data["reason"],
                )
            except services.DeputyGrantInvalid as exc:
                error, status = exc.message, 400
            else:
                messages.success(request, _("The deputyship is in force."))
                return HttpResponseRedirect(reverse("accounts:deputies"))
        else:
            error, status = _("Please check the marked fields."), 400
    grants = services.deputy_grants_for_supervisor(supervisor=request.user).order_by("-valid_until")
    rows = [
        {
            "grant": g,
            "active": g.revoked_at is None and g.valid_from <= now < g.valid_until,
            "revocable": g.revoked_at is None and g.valid_until > now,
        }
        for g in grants
    ]
    return render(
        request,
        "accounts/deputies.html",
        {"form": form, "rows": rows, "error": error},
        status=status,
    )


@login_required
@require_http_methods(["POST"])
def deputy_revoke(request: AuthenticatedHttpRequest, grant_pk: str) -> HttpResponse:
    _supervisor_only(request)
    try:
        services.deputy_revoke(actor=request.user, grant_id=grant_pk, now=timezone.now())
    except services.DeputyGrantNotFound:
        raise Http404 from None
    messages.success(request, _("The deputyship has ended."))
    return HttpResponseRedirect(reverse("accounts:deputies"))
