"""URLs of the appointments in API v1 (mounted under /api/v1/ before the
case API, whose catch-all answers every other path)."""

from django.urls import path

from appointments import api

urlpatterns = [
    path("appointments/", api.MyAppointmentsView.as_view(), name="api-my-appointments"),
    path(
        "cases/<str:case_id>/appointments/",
        api.CaseAppointmentListView.as_view(),
        name="api-appointments",
    ),
    path(
        "cases/<str:case_id>/appointments/<str:appointment_id>/no-show/",
        api.NoShowView.as_view(),
        name="api-appointment-no-show",
    ),
    path(
        "cases/<str:case_id>/appointments/<str:appointment_id>/held/",
        api.HeldView.as_view(),
        name="api-appointment-held",
    ),
    path(
        "cases/<str:case_id>/appointments/<str:appointment_id>/cancel/",
        api.CancelView.as_view(),
        name="api-appointment-cancel",
    ),
]
