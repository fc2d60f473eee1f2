from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("passwort/", views.PasswordChangeView.as_view(), name="password_change"),
    path("zwei-faktor/", views.otp_verify, name="otp_verify"),
    path("zwei-faktor/einrichten/", views.otp_setup, name="otp_setup"),
    path("vertretungen/", views.deputies, name="deputies"),
    path("vertretungen/<str:grant_pk>/widerrufen/", views.deputy_revoke, name="deputy_revoke"),
]
