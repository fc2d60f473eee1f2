from django.urls import path

from accounts import directory, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Sign-in at the organisation's OIDC provider (404 while not configured).
    path("oidc/anmelden/", directory.oidc_authenticate, name="oidc_authenticate"),
    path("oidc/rueckkehr/", directory.oidc_callback, name="oidc_callback"),
    path("passwort/", views.PasswordChangeView.as_view(), name="password_change"),
    path("zwei-faktor/", views.otp_verify, name="otp_verify"),
    path("zwei-faktor/einrichten/", views.otp_setup, name="otp_setup"),
    path("vertretungen/", views.deputies, name="deputies"),
    path("vertretungen/<str:grant_pk>/widerrufen/", views.deputy_revoke, name="deputy_revoke"),
]
