"""Admin: catalogues are editable; case data is not shown here.

Administrators manage users and catalogues and see no case content
(DOMAIN.md §14.6). Transitions never run from the admin: django-fsm-2's
admin mixin would fire them without their permission checks.
"""

from django.contrib import admin
from django.http import HttpRequest

from cases.models import CatalogueEntry


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
