from django.urls import path

from dataprotection import views

app_name = "dataprotection"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("personen/<str:person_pk>/auskunft.json", views.export_json, name="export_json"),
    path("personen/<str:person_pk>/auskunft.pdf", views.export_pdf, name="export_pdf"),
]
