"""URLs of the caseload import in API v1 (mounted under /api/v1/caseload-imports/)."""

from django.urls import path

from caseload import api

urlpatterns = [
    path("", api.CaseloadImportView.as_view(), name="api-caseload-imports"),
    path("<str:run_id>/", api.CaseloadImportDetailView.as_view(), name="api-caseload-import"),
]
