"""German screens of the handover (mounted under /uebergaben/)."""

from django.urls import path

from handover import views

app_name = "handover"

urlpatterns = [
    path("", views.handover_list, name="list"),
    path("neu/", views.handover_new, name="new"),
    path("import/", views.handover_import_view, name="import"),
    path("import/<str:job_id>/", views.import_job_view, name="import_job"),
    path("vorlage.csv", views.template_csv, name="template_csv"),
    path("vorlage.xlsx", views.template_xlsx, name="template_xlsx"),
    path("<str:handover_pk>/", views.handover_detail, name="detail"),
    path("<str:handover_pk>/absenden/", views.handover_submit_view, name="submit"),
    path("<str:handover_pk>/annehmen/", views.handover_accept_view, name="accept"),
    path("<str:handover_pk>/zurueck/", views.handover_return_view, name="return"),
]
