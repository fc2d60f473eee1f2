from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.kennzahlen, name="kennzahlen"),
    path("einfrieren/", views.freeze, name="freeze"),
    path("uebersicht/", views.overview, name="overview"),
]
