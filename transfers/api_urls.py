"""URLs of the transfer API (mounted under /api/v1/ before the cases' URLs)."""

from django.urls import path

from transfers import api

urlpatterns = [
    path("cases/reassign/", api.ReassignView.as_view(), name="api-cases-reassign"),
    path("cases/<str:case_id>/transfer/", api.CaseTransferView.as_view(), name="api-case-transfer"),
    path(
        "cases/<str:case_id>/transfer-package/",
        api.PackageExportView.as_view(),
        name="api-case-transfer-package",
    ),
    path(
        "transfer-packages/import/",
        api.PackageImportView.as_view(),
        name="api-transfer-package-import",
    ),
]
