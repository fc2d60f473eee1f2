"""URLs of the reports part of API v1 (mounted under /api/v1/reports/)."""

from django.urls import path

from reports import api

urlpatterns = [
    path("kennzahlen/", api.KennzahlenView.as_view(), name="api-kennzahlen"),
]
