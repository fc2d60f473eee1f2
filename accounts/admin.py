from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import DeputyGrant, DirectoryGroup, Gemeinde, Kreis, Team, Traeger, User
from accounts.types import request_user
from config.errors import ApplicationError


class NoDeleteMixin:
    """Organisation rows and users are referenced by audit events: never
    delete them, deactivate instead (viewflow's Task.owner cascades)."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(NoDeleteMixin, DjangoUserAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        "role",
        "team",
        "traeger",
        "kreis",
        "is_active",
    )
    list_filter = ("role", "is_active", "traeger", "team", "kreis")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Lotse role"), {"fields": ("role", "traeger", "team", "kreis")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Lotse role"), {"fields": ("role", "traeger", "team", "kreis")}),
    )
    actions = ["reset_second_factor"]

    @admin.action(description=_("Reset two-factor sign-in (the user sets it up again)"))
    def reset_second_factor(self, request: HttpRequest, queryset: Any) -> None:
        now = timezone.now()
        for user in queryset:
            services.second_factor_reset(user=user, actor=request_user(request), now=now)
        messages.success(request, _("Two-factor sign-in was reset."))


@admin.register(Kreis)
class KreisAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "ags")
    search_fields = ("name", "ags")


@admin.register(Gemeinde)
class GemeindeAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "ags", "kreis")
    list_filter = ("kreis",)
    search_fields = ("name", "ags")


@admin.register(Traeger)
class TraegerAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "data_protection_regime", "kreis")
    list_filter = ("kind", "kreis")
    filter_horizontal = ("gemeinden",)


@admin.register(Team)
class TeamAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "traeger")
    list_filter = ("traeger",)


class DeputyGrantForm(forms.ModelForm):
    class Meta:
        model = DeputyGrant
        fields = ("principal", "deputy", "valid_from", "valid_until", "reason", "revoked_at")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None and not self.errors:
            try:
                services.deputy_grant_validate(
                    principal=data["principal"],
                    deputy=data["deputy"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    reason=data["reason"],
                    actor=self.request_user,
                )
            except ApplicationError as error:
                raise forms.ValidationError(str(error.message)) from None
        return data


@admin.register(DeputyGrant)
class DeputyGrantAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Grants are created and revoked through the audited services; a
    saved grant changes only by revocation."""

    list_display = ("deputy", "principal", "valid_from", "valid_until", "revoked_at")
    list_filter = ("revoked_at",)
    raw_id_fields = ("principal", "deputy")
    exclude = ("granted_by",)
    form = DeputyGrantForm

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request_user(request)
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("revoked_at",)
        return ("principal", "deputy", "valid_from", "valid_until", "reason")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        now, actor = timezone.now(), request_user(request)
        if not change:  # checked by DeputyGrantForm.clean
            grant = services.deputy_grant_create(
                principal=obj.principal,
                deputy=obj.deputy,
                valid_from=obj.valid_from,
                valid_until=obj.valid_until,
                reason=obj.reason,
                actor=actor,
                now=now,
            )
            obj.pk, obj.granted_by = grant.pk, grant.granted_by
        elif (
            obj.revoked_at is not None
            and DeputyGrant.objects.filter(pk=obj.pk, revoked_at__isnull=True).exists()
        ):
            services.deputy_grant_revoke(grant=obj, actor=actor, now=now)


@admin.register(DirectoryGroup)
class DirectoryGroupAdmin(admin.ModelAdmin):
    """Which directory group grants which Lotse role (LDAP DN or OIDC group).

    Removing a row ends the access of its members at their next sign-in.
    """

    list_display = ("name", "role", "traeger", "team", "kreis")
    list_filter = ("role", "traeger", "kreis")
    search_fields = ("name",)
    ordering = ("name",)
