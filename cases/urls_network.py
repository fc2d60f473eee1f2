"""The network-contact register (Vernetzung): about no client, so outside
the case paths."""

from django.urls import path

from cases import views_day

app_name = "network"

urlpatterns = [
    path("", views_day.network_register, name="register"),
    path("<str:contact_pk>/korrektur/", views_day.network_correction, name="correction"),
]
