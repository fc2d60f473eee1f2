"""The case pages (German paths, like the rest of the UI)."""

from django.urls import path

from cases import extension_views, privacy_views, views, views_clock, views_day, views_people

app_name = "cases"

urlpatterns = [
    path("<str:case_pk>/", views.case_detail, name="detail"),
    path("<str:case_pk>/beratung/", views.consultation_new, name="consultation_new"),
    path("<str:case_pk>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path("<str:case_pk>/einwilligung.pdf", views.consent_pdf, name="consent_pdf"),
    path(
        "<str:case_pk>/verlaengerung/",
        extension_views.extension_request_new,
        name="extension_request_new",
    ),
]

# Intake without a handover, households and persons (cases.views_people).
# "neu/" comes before "<case_pk>/", which would take it for a case number.
urlpatterns = [
    path("neu/", views_people.intake_new, name="intake_new"),
    path("haushalt/<str:household_pk>/", views_people.household_detail, name="household"),
    path(
        "haushalt/<str:household_pk>/aendern/",
        views_people.household_edit,
        name="household_edit",
    ),
    path(
        "haushalt/<str:household_pk>/mitglied/",
        views_people.household_member_add,
        name="household_member_add",
    ),
    path(
        "haushalt/<str:household_pk>/mitglied/<str:person_pk>/beziehung/",
        views_people.household_member_relation,
        name="household_member_relation",
    ),
    path(
        "haushalt/<str:household_pk>/mitglied/<str:person_pk>/entfernen/",
        views_people.household_member_remove,
        name="household_member_remove",
    ),
    path(
        "haushalt/<str:household_pk>/mitglied/<str:person_pk>/fall/",
        views_people.household_member_case,
        name="household_member_case",
    ),
    path("person/<str:person_pk>/", views_people.person_edit, name="person_edit"),
    *urlpatterns,
    path("<str:case_pk>/einwilligungen/", privacy_views.consents, name="consents"),
    path("<str:case_pk>/plan-zustimmung/", privacy_views.plan_pending, name="plan_pending"),
    path("<str:case_pk>/aufbewahrungssperre/", privacy_views.legal_hold, name="legal_hold"),
    path("<str:case_pk>/verweisung/", views_day.referral_new, name="referral_new"),
    path(
        "<str:case_pk>/verweisung/<str:referral_pk>/ergebnis/",
        views_day.referral_outcome,
        name="referral_outcome",
    ),
    path(
        "<str:case_pk>/korrektur/<slug:kind>/<str:object_pk>/",
        views_day.correction,
        name="correction",
    ),
    path("<str:case_pk>/zeitraum/", views_clock.clock_fact_new, name="clock_fact_new"),
]
