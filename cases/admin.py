"""Admin: catalogues are editable; case data is not shown here.

Administrators manage users and catalogues and see no case content
(DOMAIN.md §14.6). Transitions never run from the admin: django-fsm-2's
admin mixin would fire them without their permission checks.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cases.models import CatalogueEntry, GoalCatalogueEntry


@admin.register(CatalogueEntry)
class CatalogueEntryAdmin(admin.ModelAdmin):
    list_display = (
        "catalogue",
        "key",
        "label_de",
        "label_en",
        "order",
        "is_active",
        "valid_from",
        "valid_to",
        "official_mapping",
        "report_group",
    )
    list_filter = ("catalogue", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("key", "label_de", "label_en")
    ordering = ("catalogue", "order", "key")

    def get_readonly_fields(self, request: HttpRequest, obj: CatalogueEntry | None = None):
        # Keys are referenced by stored rows and reports: fixed once created.
        return ("catalogue", "key") if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class _GermanLabelChoiceField(forms.ModelChoiceField):
    """Catalogue entries by their German label, not their code."""

    def label_from_instance(self, obj: Any) -> str:
        return obj.label_de


@admin.register(GoalCatalogueEntry)
class GoalCatalogueEntryAdmin(admin.ModelAdmin):
    """The goal catalogue per field of action (K4 counts by its entries)."""

    list_display = ("label_de", "field_label", "key", "label_en", "order", "is_active")
    list_filter = ("field_of_action", "is_active")
    list_editable = ("order", "is_active")
    list_select_related = ("field_of_action",)
    search_fields = ("key", "label_de", "label_en")
    ordering = ("field_of_action__order", "order", "key")

    @admin.display(description=_("field of action"), ordering="field_of_action__order")
    def field_label(self, obj: GoalCatalogueEntry) -> str:
        return obj.field_of_action.label_de

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "field_of_action":
            kwargs["form_class"] = _GermanLabelChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: GoalCatalogueEntry | None = None):
        # Stored goals and frozen reports name the entry: key and field fixed.
        return ("field_label", "key") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: GoalCatalogueEntry | None = None):
        editable = ["label_de", "label_en", "order", "is_active"]
        if obj is not None:
            return ["field_label", "key", *editable]
        return ["field_of_action", "key", *editable]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
