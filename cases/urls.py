"""The case pages (German paths, like the rest of the UI)."""

from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("<str:case_pk>/", views.case_detail, name="detail"),
    path("<str:case_pk>/beratung/", views.consultation_new, name="consultation_new"),
    path("<str:case_pk>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path("<str:case_pk>/einwilligung.pdf", views.consent_pdf, name="consent_pdf"),
]
