"""The case pages (German paths, like the rest of the UI)."""

from django.urls import path

from cases import privacy_views, views

app_name = "cases"

urlpatterns = [
    path("<str:case_pk>/", views.case_detail, name="detail"),
    path("<str:case_pk>/beratung/", views.consultation_new, name="consultation_new"),
    path("<str:case_pk>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path("<str:case_pk>/einwilligung.pdf", views.consent_pdf, name="consent_pdf"),
    path("<str:case_pk>/einwilligungen/", privacy_views.consents, name="consents"),
    path("<str:case_pk>/plan-zustimmung/", privacy_views.plan_pending, name="plan_pending"),
    path("<str:case_pk>/aufbewahrungssperre/", privacy_views.legal_hold, name="legal_hold"),
]
