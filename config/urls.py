from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import views
from workflows import api as workflows_api

admin.site.site_header = "Lotse"
admin.site.site_title = "Lotse"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("aufgaben/", include("workflows.urls")),
    path("datenschutz/", include("dataprotection.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/tasks/", workflows_api.TaskListView.as_view(), name="api-tasks"),
    path("api/v1/", include("cases.api_urls")),
]
