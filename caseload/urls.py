from django.urls import path

from caseload import views

app_name = "caseload"

urlpatterns = [
    path("", views.import_view, name="import"),
    path("<str:run_id>/", views.run_view, name="run"),
    path("vorlage.csv", views.template_csv, name="template_csv"),
    path("vorlage.xlsx", views.template_xlsx, name="template_xlsx"),
]
