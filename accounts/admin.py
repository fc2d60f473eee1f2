from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import DeputyGrant, Gemeinde, Kreis, Team, Traeger, User


class NoDeleteMixin:
    """Organisation rows and users are referenced by audit events: never
    delete them, deactivate instead (viewflow's Task.owner cascades)."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(NoDeleteMixin, DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "traeger", "is_active")
    list_filter = ("role", "is_active", "traeger", "team")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Lotse role"), {"fields": ("role", "traeger", "team")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Lotse role"), {"fields": ("role", "traeger", "team")}),
    )


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


@admin.register(DeputyGrant)
class DeputyGrantAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("deputy", "principal", "valid_from", "valid_until", "revoked_at")
    list_filter = ("revoked_at",)
    raw_id_fields = ("principal", "deputy", "granted_by")
