"""The admin site: accounts and catalogues, behind the second factor, audited.

- With LOTSE_REQUIRE_MFA the admin opens only to an OTP-verified session
  (the sign-in middleware sends a password-only session to the second
  factor first; this site checks again).
- Secrets of other users are never registered here: the django-otp device
  models (TOTP keys, backup codes) are refused by `register`, and API
  tokens are stored hashed and have no admin at all. An administrator
  resets a lost second factor with an audited action on the user list.
- Every change made through the admin (add, change, delete, list action)
  is also an event of Lotse's own audit chain (global chain), in the same
  transaction as the change; `django_admin_log` alone can be deleted by
  the application's role.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.views import BoundedLoginMixin
from audit.services import SYSTEM_ROLE, audit_event_record, plain

# Models whose rows are secrets of one user: never in the admin.
HIDDEN_MODELS = frozenset(
    {
        "otp_totp.totpdevice",
        "otp_static.staticdevice",
        "otp_static.statictoken",
        "otp_email.emaildevice",
        "otp_hotp.hotpdevice",
        "authtoken.token",
        "authtoken.tokenproxy",
        "accounts.apitoken",
        # Workflow rows name cases and carry task data: no case content in
        # the admin (operators work through incidents instead).
        "viewflow.process",
        "viewflow.task",
    }
)


def _changed_fields(message: Any) -> list[str]:
    """Field names from the admin's change message (no values)."""
    names: list[str] = []
    for part in message if isinstance(message, list) else []:
        for detail in part.values() if isinstance(part, dict) else []:
            if isinstance(detail, dict):
                names.extend(str(name) for name in detail.get("fields", []))
    return names


def admin_event_record(
    *, request: HttpRequest, action: str, model: type[models.Model], ids: list[Any], **data: Any
) -> None:
    """Write one audit event for an admin action on rows `ids` of `model`."""
    user = request.user
    label = model._meta.label_lower
    with transaction.atomic():
        audit_event_record(
            event_type=f"admin.{action}",
            actor=user,
            actor_role=getattr(user, "role", "") or SYSTEM_ROLE,
            now=timezone.now(),
            object_type=label[:50],
            object_id=str(ids[0]) if len(ids) == 1 else "",
            data={"ids": [plain(pk) for pk in ids], **data},
        )


class AuditedAdminMixin:
    """Mirror the admin log into the audit chain."""

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        admin_event_record(request=request, action="addition", model=type(obj), ids=[obj.pk])
        return entry

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        request._lotse_changed_fields = list(getattr(form, "changed_data", []))  # type: ignore[attr-defined]
        return super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        fields = getattr(request, "_lotse_changed_fields", None)
        admin_event_record(
            request=request,
            action="change",
            model=type(obj),
            ids=[obj.pk],
            fields=fields if fields is not None else _changed_fields(message),
        )
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        ids = [obj.pk for obj in queryset]
        entries = super().log_deletions(request, queryset)  # type: ignore[misc]
        if ids:
            admin_event_record(request=request, action="deletion", model=queryset.model, ids=ids)
        return entries

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        name = request.POST.get("action", "")
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        with transaction.atomic():
            response = super().response_action(request, queryset)  # type: ignore[misc]
            # delete_selected is recorded by log_deletions once confirmed.
            if name and name != "delete_selected" and selected:
                admin_event_record(
                    request=request,
                    action="action",
                    model=self.model,  # type: ignore[attr-defined]
                    ids=selected[:1000],
                    name=name[:100],
                )
        return response


class AdminLoginForm(BoundedLoginMixin, AdminAuthenticationForm):
    pass


class LotseAdminSite(admin.AdminSite):
    site_header = "Lotse"
    site_title = "Lotse"
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.LOTSE_REQUIRE_MFA or bool(
            getattr(request.user, "is_verified", lambda: False)()
        )

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        models_ = (
            [model_or_iterable]
            if isinstance(model_or_iterable, type) and issubclass(model_or_iterable, models.Model)
            else list(model_or_iterable)
        )
        shown = [m for m in models_ if m._meta.label_lower not in HIDDEN_MODELS]
        if not shown:
            return
        base = admin_class or admin.ModelAdmin
        audited = type(base.__name__, (AuditedAdminMixin, base), {"__module__": base.__module__})
        super().register(shown, audited, **options)
