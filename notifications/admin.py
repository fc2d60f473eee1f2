"""Admin: incidents (failed background work) with a retry action, and a
read-only view of the outbox and heartbeats for operators."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications import services
from notifications.models import Heartbeat, Incident, Notification


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("source", "key", "error", "attempts", "first_seen", "last_seen", "resolved_at")
    list_filter = ("source", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = list_display
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Retry and mark resolved"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        now = timezone.now()
        for incident in queryset.filter(resolved_at__isnull=True):
            services.incident_retry(incident=incident, now=now)
        messages.success(request, _("The work is queued again."))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Operators see delivery state only: kind, ids and times."""

    list_display = ("pk", "kind", "recipient", "case_id", "delivery", "attempts", "created_at")
    list_filter = ("delivery", "kind")
    fields = ("kind", "recipient", "case_id", "delivery", "attempts", "created_at", "delivered_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beat_at", "worker")
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
