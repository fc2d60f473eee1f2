"""API v1 of the manager's day (issue 20): corrections and cancellations
with a reason, the needs assessments over time and the chronology.

    POST cases/{id}/consultations/{cid}/correct/  .../cancel/
    POST cases/{id}/referrals/{rid}/correct/      .../cancel/
    GET  cases/{id}/assessments/                  (all, oldest first, with the change)
    POST cases/{id}/assessments/{aid}/correct/    .../cancel/
    POST cases/{id}/plan/goals/{gid}/correct/     .../cancel/
    POST cases/{id}/plan/goals/{gid}/measures/{mid}/correct/  .../cancel/
    POST network-contacts/{nid}/correct/          .../cancel/
    GET  cases/{id}/chronology/?kind=consultation&kind=referral

A correction takes `reason` and the fields to change; a cancellation only
`reason`. One service call each (cases.services.corrections); errors as
everywhere: 400 at the field, 404 for what the caller may not see, 409
`already_cancelled`.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import AuthenticatedRequest
from cases import services
from cases.api import (
    CASE_ERRORS,
    CONTENT_READERS,
    READ_ERRORS,
    RESPONSIBLE_SPELLING,
    AssessmentItemIn,
    AssessmentOut,
    ConsultationOut,
    GoalOut,
    MeasureOut,
    NetworkContactOut,
    ReferralOut,
    _case_for,
    _object_or_404,
    _valid,
)
from cases.api_fields import StrictCharField, StrictIntegerField
from cases.chronology import case_chronology
from cases.models import (
    Assessment,
    Consultation,
    Correction,
    Goal,
    Measure,
    NetworkContact,
    Referral,
)
from cases.needs import needs_history
from cases.selectors import network_contacts_of
from config.api_enums import EnumField

# --- input ----------------------------------------------------------------------------


class CancelIn(serializers.Serializer):
    reason = StrictCharField(max_length=300, help_text="Grund der Stornierung.")


class ConsultationCorrectionIn(CancelIn):
    date = serializers.DateField(required=False)
    duration_minutes = StrictIntegerField(min_value=1, max_value=720, required=False)
    form = StrictCharField(max_length=50, required=False)
    topics = serializers.ListField(
        child=StrictCharField(max_length=50), required=False, max_length=50
    )
    status = EnumField(Consultation.Status, exclude=[Consultation.Status.CANCELLED], required=False)
    interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)


class ReferralCorrectionIn(CancelIn):
    date = serializers.DateField(required=False)
    target_service = StrictCharField(max_length=50, required=False)
    topic = StrictCharField(max_length=50, required=False)
    mode = EnumField(Referral.Mode, required=False)
    organisation = StrictCharField(max_length=200, required=False, allow_blank=True)
    outcome = EnumField(Referral.Outcome, required=False)
    outcome_date = serializers.DateField(required=False)


class AssessmentCorrectionIn(CancelIn):
    assessed_on = serializers.DateField(required=False)
    items = AssessmentItemIn(many=True, required=False, max_length=30)  # type: ignore[call-arg]


class GoalCorrectionIn(CancelIn):
    field_of_action = StrictCharField(max_length=50, required=False)
    title = StrictCharField(max_length=300, required=False)
    success_criterion = StrictCharField(max_length=300, required=False)
    target_date = serializers.DateField(required=False)


class MeasureCorrectionIn(CancelIn):
    description = StrictCharField(max_length=300, required=False)
    responsible = EnumField(
        Measure.Responsible,
        spelling={str(key): value for key, value in RESPONSIBLE_SPELLING.items()},
        required=False,
    )
    due_date = serializers.DateField(required=False)


class NetworkContactCorrectionIn(CancelIn):
    date = serializers.DateField(required=False)
    category = StrictCharField(max_length=50, required=False)
    organisation = StrictCharField(max_length=200, required=False)
    format = EnumField(NetworkContact.Format, required=False)
    topic = StrictCharField(max_length=200, required=False, allow_blank=True)
    duration_minutes = StrictIntegerField(min_value=1, max_value=720, required=False)


# --- output ---------------------------------------------------------------------------


class CorrectionOut(serializers.ModelSerializer):
    action = serializers.SerializerMethodField()

    class Meta:
        model = Correction
        fields = ["action", "reason", "before", "after", "corrected_by", "corrected_at"]

    def get_action(self, row: Correction) -> str:
        return row.action.lower()


class EntryOut(serializers.Serializer):
    kind = serializers.CharField()
    date = serializers.DateField(source="day")
    id = serializers.IntegerField(source="obj.pk")
    cancelled = serializers.BooleanField()
    corrections = CorrectionOut(many=True)


class NeedRowOut(serializers.Serializer):
    field_of_action = serializers.CharField(source="field.key")
    first = serializers.CharField(allow_null=True)
    latest = serializers.CharField(allow_null=True)
    change = serializers.CharField(
        allow_null=True, help_text="improved (Bedarf gesunken), unchanged, worsened; null: einmal"
    )


class NeedsOut(serializers.Serializer):
    assessments = AssessmentOut(many=True)
    changes = NeedRowOut(source="rows", many=True)


# --- views -----------------------------------------------------------------------------


def _rename(data: dict[str, Any], **names: str) -> dict[str, Any]:
    for old, new in names.items():
        if old in data:
            data[new] = data.pop(old)
    return data


class _CaseEntryAction(APIView):
    """POST correct/ or cancel/ on one entry of a case."""

    model: type[Any] = Consultation
    path = "case"
    name = "consultation"
    correction_in: type[serializers.Serializer] = ConsultationCorrectionIn
    out: type[serializers.Serializer] = ConsultationOut
    renamed: dict[str, str] = {}
    cancel = False

    def entry(self, request: Request, case_id: Any, entry_id: Any) -> Any:
        case = _case_for(request, case_id, f"api:{self.name}-correction", CONTENT_READERS)
        return _object_or_404(self.model.objects.filter(**{self.path: case}), entry_id)

    def act(self, request: AuthenticatedRequest, row: Any) -> Response:
        correct, cancel = services.CORRECTIONS[self.name]
        now = timezone.now()
        if self.cancel:
            data = _valid(CancelIn, request)
            result = cancel(**{self.name: row}, actor=request.user, now=now, reason=data["reason"])
        else:
            data = _rename(_valid(self.correction_in, request), **self.renamed)
            if "items" in data:
                data["items"] = [dict(item) for item in data["items"]]
            result = correct(**{self.name: row}, actor=request.user, now=now, **data)
        result.refresh_from_db()
        return Response(self.out(result).data)


def _action_view(base: type[_CaseEntryAction], *, cancel: bool) -> type[_CaseEntryAction]:
    request_body = CancelIn if cancel else base.correction_in

    class View(base):  # type: ignore[valid-type, misc]
        @extend_schema(request=request_body, responses={200: base.out, **CASE_ERRORS})
        def post(self, request: AuthenticatedRequest, case_id: str, entry_id: str) -> Response:
            """Correct the entry (`reason` and the fields to change) or cancel it
            (`reason`): the history keeps before and after."""
            return self.act(request, self.entry(request, case_id, entry_id))

    View.cancel = cancel
    View.__name__ = f"{base.__name__}{'Cancel' if cancel else 'Correct'}View"
    return View


class _Consultation(_CaseEntryAction):
    renamed = {"date": "held_on"}


class _Referral(_CaseEntryAction):
    model, name, correction_in, out = Referral, "referral", ReferralCorrectionIn, ReferralOut
    renamed = {"date": "referred_on"}


class _Assessment(_CaseEntryAction):
    model, name, correction_in, out = (
        Assessment,
        "assessment",
        AssessmentCorrectionIn,
        AssessmentOut,
    )


class _Goal(_CaseEntryAction):
    model, path, name, correction_in, out = Goal, "plan__case", "goal", GoalCorrectionIn, GoalOut


class _Measure(_CaseEntryAction):
    model, path, name = Measure, "goal__plan__case", "measure"
    correction_in, out = MeasureCorrectionIn, MeasureOut

    def entry(self, request: Request, case_id: Any, entry_id: Any) -> Any:
        goal_id, measure_id = entry_id
        case = _case_for(request, case_id, "api:measure-correction", CONTENT_READERS)
        goal = _object_or_404(Goal.objects.filter(plan__case=case), goal_id)
        return _object_or_404(Measure.objects.filter(goal=goal), measure_id)


ConsultationCorrectView = _action_view(_Consultation, cancel=False)
ConsultationCancelView = _action_view(_Consultation, cancel=True)
ReferralCorrectView = _action_view(_Referral, cancel=False)
ReferralCancelView = _action_view(_Referral, cancel=True)
AssessmentCorrectView = _action_view(_Assessment, cancel=False)
AssessmentCancelView = _action_view(_Assessment, cancel=True)
GoalCorrectView = _action_view(_Goal, cancel=False)
GoalCancelView = _action_view(_Goal, cancel=True)


def _measure_view(*, cancel: bool) -> type[APIView]:
    request_body = CancelIn if cancel else MeasureCorrectionIn

    class View(_Measure):
        @extend_schema(request=request_body, responses={200: MeasureOut, **CASE_ERRORS})
        def post(
            self, request: AuthenticatedRequest, case_id: str, goal_id: str, measure_id: str
        ) -> Response:
            """Correct or cancel a step (of an agreed plan: in a new version)."""
            return self.act(request, self.entry(request, case_id, (goal_id, measure_id)))

    View.cancel = cancel
    View.__name__ = f"Measure{'Cancel' if cancel else 'Correct'}View"
    return View


MeasureCorrectView = _measure_view(cancel=False)
MeasureCancelView = _measure_view(cancel=True)


def _network_view(*, cancel: bool) -> type[APIView]:
    request_body = CancelIn if cancel else NetworkContactCorrectionIn

    class View(APIView):
        @extend_schema(request=request_body, responses={200: NetworkContactOut, **CASE_ERRORS})
        def post(self, request: AuthenticatedRequest, contact_id: str) -> Response:
            """Correct or cancel one of the caller's own network contacts."""
            row = _object_or_404(network_contacts_of(user=request.user), contact_id)
            now = timezone.now()
            if cancel:
                data = _valid(CancelIn, request)
                services.network_contact_cancel(
                    contact=row, actor=request.user, now=now, reason=data["reason"]
                )
            else:
                data = _rename(_valid(NetworkContactCorrectionIn, request), date="contact_date")
                services.network_contact_correct(contact=row, actor=request.user, now=now, **data)
            row.refresh_from_db()
            return Response(NetworkContactOut(row).data)

    View.__name__ = f"NetworkContact{'Cancel' if cancel else 'Correct'}View"
    return View


NetworkContactCorrectView = _network_view(cancel=False)
NetworkContactCancelView = _network_view(cancel=True)


class AssessmentHistoryView(APIView):
    @extend_schema(responses={200: NeedsOut, **READ_ERRORS})
    def get(self, request: Request, case_id: str) -> Response:
        """Every counted needs assessment (oldest first) and, per field of
        action, the need at the first and the latest and the change."""
        case = _case_for(request, case_id, "api:assessments", CONTENT_READERS)
        return Response(NeedsOut(needs_history(case=case)).data)


class ChronologyView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("kind", str, many=True, description="Nur diese Arten.")],
        responses={200: EntryOut(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, case_id: str) -> Response:
        """The case's chronology, newest first: kind, date, id of the entry
        (read it at its own path), cancelled, and its corrections."""
        case = _case_for(request, case_id, "api:chronology", CONTENT_READERS)
        result = case_chronology(case=case, only=request.query_params.getlist("kind"))
        return Response(EntryOut(result.entries, many=True).data)
