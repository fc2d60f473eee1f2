"""The transfer screens (German paths, mounted under /fallwechsel/)."""

from django.urls import path

from transfers import views

app_name = "transfers"

urlpatterns = [
    path("", views.index, name="index"),
    path("neu-zuweisen/", views.reassign, name="reassign"),
    path("paket-einlesen/", views.package_import, name="package_import"),
    path("fall/<str:case_pk>/", views.case_transfer, name="case_transfer"),
    path("fall/<str:case_pk>/paket/", views.package_export, name="package_export"),
    path("fall/<str:case_pk>/uebernommen/", views.package_received, name="package_received"),
]
