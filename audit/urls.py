"""The auditor's pages (German paths, like the rest of the UI)."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("fall/<str:case_pk>/", views.timeline, name="timeline"),
    path("fall/<str:case_pk>/export.<str:fmt>", views.export, name="export"),
    path("zugriffe/fall/", views.case_access_report, name="access_case"),
    path("zugriffe/nutzer/", views.user_access_report, name="access_user"),
]
