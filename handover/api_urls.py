"""URLs of the handover part of API v1 (mounted under /api/v1/handovers/)."""

from django.urls import path

from handover import api

urlpatterns = [
    path("", api.HandoverListView.as_view(), name="api-handovers"),
    path("import/", api.HandoverImportView.as_view(), name="api-handover-import"),
    path(
        "import/<str:job_id>/", api.HandoverImportJobView.as_view(), name="api-handover-import-job"
    ),
    path("<str:handover_id>/", api.HandoverDetailView.as_view(), name="api-handover"),
    path("<str:handover_id>/accept/", api.HandoverAcceptView.as_view(), name="api-handover-accept"),
    path("<str:handover_id>/return/", api.HandoverReturnView.as_view(), name="api-handover-return"),
]
