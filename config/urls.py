from django.contrib import admin
from django.urls import include, path

from config import views

admin.site.site_header = "Lotse"
admin.site.site_title = "Lotse"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
]
