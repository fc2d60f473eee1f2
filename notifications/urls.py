"""The notification inbox pages (German paths)."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<str:notification_id>/gelesen/", views.mark_read, name="read"),
    path("alle-gelesen/", views.mark_all_read, name="read_all"),
    path("e-mail/", views.preference, name="preference"),
]
