from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views
from notifications import api as notifications_api
from workflows import api as workflows_api

admin.site.site_header = "Lotse"
admin.site.site_title = "Lotse"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("aufgaben/", include("workflows.urls")),
    path("faelle/", include("cases.urls")),
    path("vernetzung/", include("cases.urls_network")),
    path("pruefung/", include("audit.urls")),
    path("benachrichtigungen/", include("notifications.urls")),
    path("uebergaben/", include("handover.urls")),
    path("fallbestand/", include("caseload.urls")),
    path("datenschutz/", include("dataprotection.urls")),
    path("fallwechsel/", include("transfers.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/tasks/", workflows_api.TaskListView.as_view(), name="api-tasks"),
    path(
        "api/v1/notifications/",
        notifications_api.NotificationListView.as_view(),
        name="api-notifications",
    ),
    path(
        "api/v1/notifications/<str:notification_id>/read/",
        notifications_api.NotificationReadView.as_view(),
        name="api-notification-read",
    ),
    path("api/v1/handovers/", include("handover.api_urls")),
    path("api/v1/caseload-imports/", include("caseload.api_urls")),
    path("api/v1/reports/", include("reports.api_urls")),
    path("api/v1/", include("transfers.api_urls")),
    path("api/v1/", include("appointments.api_urls")),
    path("api/v1/", include("cases.api_urls")),
    path("berichte/", include("reports.urls")),
    path("arbeitsplatz/", include("workspace.urls")),
    path("termine/", include("appointments.urls")),
    path("dokumente/", include("cases.document_urls")),
]

handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
