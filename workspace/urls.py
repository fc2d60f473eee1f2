"""The workspace pages (German paths)."""

from django.urls import path

from workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("faelle/", views.case_list, name="cases"),
    path("team/", views.team_list, name="team"),
]
