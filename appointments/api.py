"""REST API v1 of the appointments (mounted under /api/v1/): a case's
appointments, planning one, its outcome, and the signed-in manager's
calendar. Same rules as `cases.api`: the case through the access
chokepoint (read logged; a foreign case is a 404), one service call per
write, enum values in snake_case."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import AuthenticatedRequest
from appointments import selectors, services
from appointments.models import Appointment
from audit.services import read_accesses_record
from cases.api import CASE_ERRORS, CONTENT_READERS, LIST_ERRORS, KeyField, _case_for, _valid
from cases.api_fields import StrictCharField, StrictIntegerField
from cases.services import InvalidArguments
from config.api_enums import ContractModelSerializer


class AppointmentOut(ContractModelSerializer):
    form = KeyField()
    topic = KeyField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "case",
            "manager",
            "starts_at",
            "duration_minutes",
            "form",
            "topic",
            "place",
            "interpreter",
            "status",
            "consultation",
            "reminded_at",
            "created_at",
            "closed_at",
        ]


class AppointmentIn(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="Beginn (mit Zeitzone, sonst Europe/Berlin).")
    duration_minutes = StrictIntegerField(min_value=5, max_value=720)
    form = StrictCharField(max_length=50)
    topic = StrictCharField(max_length=50)
    place = StrictCharField(max_length=200, required=False, allow_blank=True)
    interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)


class HeldIn(serializers.Serializer):
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)


class CaseAppointmentListView(APIView):
    @extend_schema(responses={200: AppointmentOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The case's appointments, latest first."""
        case = _case_for(request, case_id, "api:appointments", CONTENT_READERS)
        rows = selectors.appointments_of_case(case=case)
        return Response(AppointmentOut(rows, many=True).data)

    @extend_schema(request=AppointmentIn, responses={201: AppointmentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Plan an appointment (in the future, within the consultation period)."""
        case = _case_for(request, case_id, "api:appointments", CONTENT_READERS)
        data: dict[str, Any] = _valid(AppointmentIn, request)
        row = services.appointment_plan(case=case, actor=request.user, now=timezone.now(), **data)
        return Response(AppointmentOut(row).data, status=status.HTTP_201_CREATED)


class MyAppointmentsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("week", OpenApiTypes.DATE, description="Ein Tag der Woche."),
        ],
        responses={200: AppointmentOut(many=True), **LIST_ERRORS},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        """The signed-in manager's appointments of one week (default: this week)."""
        now = timezone.now()
        raw = request.query_params.get("week")
        try:
            day = timezone.localdate(now) if raw is None else date.fromisoformat(raw)
        except ValueError:
            raise InvalidArguments(
                _("A date is not valid."), fields={"week": [_("Use the form YYYY-MM-DD.")]}
            ) from None
        rows = selectors.appointments_of_week(
            user=request.user, monday=selectors.week_start(day), now=now
        )
        read_accesses_record(
            user=request.user,
            case_ids=sorted({row.case_id for row in rows}),
            view="api:appointments-week",
            now=now,
        )
        return Response(AppointmentOut(rows, many=True).data)


def _outcome(
    request: AuthenticatedRequest, case_id: Any, appointment_id: Any, call: Any
) -> Response:
    case = _case_for(request, case_id, "api:appointment", CONTENT_READERS)
    kwargs: dict[str, Any] = {}
    if call is services.appointment_held:
        kwargs = _valid(HeldIn, request)
    row = call(
        appointment=appointment_id, actor=request.user, now=timezone.now(), case=case.pk, **kwargs
    )
    return Response(AppointmentOut(row).data)


class NoShowView(APIView):
    @extend_schema(request=None, responses={200: AppointmentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int, appointment_id: int) -> Response:
        """The client did not come: a consultation with status `no_show`
        (K2x) is recorded. 409 `appointment_not_begun` before its time,
        `appointment_closed` when it already has an outcome."""
        return _outcome(request, case_id, appointment_id, services.appointment_no_show)


class HeldView(APIView):
    @extend_schema(request=HeldIn, responses={200: AppointmentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int, appointment_id: int) -> Response:
        """The appointment took place: its consultation is recorded."""
        return _outcome(request, case_id, appointment_id, services.appointment_held)


class CancelView(APIView):
    @extend_schema(request=None, responses={200: AppointmentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int, appointment_id: int) -> Response:
        """Cancel a planned appointment."""
        return _outcome(request, case_id, appointment_id, services.appointment_cancel)
