"""The appointment pages (German paths, like the rest of the UI)."""

from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("", views.week, name="week"),
    path("fall/<str:case_pk>/", views.case_appointments, name="case"),
    path("fall/<str:case_pk>/<str:pk>/nicht-erschienen/", views.no_show, name="no_show"),
    path("fall/<str:case_pk>/<str:pk>/stattgefunden/", views.held, name="held"),
    path("fall/<str:case_pk>/<str:pk>/absagen/", views.cancel, name="cancel"),
    path("fall/<str:case_pk>/<str:pk>/einladung.pdf", views.letter_pdf, name="letter"),
    path("kalender/neu/", views.feed_rotate, name="feed_rotate"),
    path("kalender/aus/", views.feed_revoke, name="feed_revoke"),
    path("kalender/<str:token>.ics", views.feed, name="feed"),
]
