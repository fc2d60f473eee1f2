"""API v1 for voluntariness and data protection of a case: the plan drafted
or changed after its agreement (or after a decline), anonymous counselling,
the legal hold and the erasure after a withdrawal (issue 18)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import AuthenticatedRequest
from cases import services
from cases.api import CASE_ERRORS, CONTENT_READERS, PlanOut, _case_for, _valid
from cases.api_fields import StrictBooleanField, StrictCharField
from cases.models import IntegrationPlan
from cases.selectors import DPO, OWNER
from config.api_enums import EnumField
from config.errors import NotFound


class PlanAgreeIn(serializers.Serializer):
    agreement_form = EnumField(IntegrationPlan.AgreementForm)
    agreement_language = StrictCharField(max_length=50)
    interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)
    copy_handed_over = StrictBooleanField(default=False)
    next_review_at = serializers.DateField(required=False, allow_null=True)


class LegalHoldIn(serializers.Serializer):
    legal_hold = StrictBooleanField()
    reason = StrictCharField(max_length=300, required=False, allow_blank=True)


class CaseFlagsOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    anonymous_mode = serializers.BooleanField()
    legal_hold = serializers.BooleanField()

    def get_status(self, case: Any) -> str:
        return str(case.status).lower()


class PlanDraftView(APIView):
    @extend_schema(request=None, responses={201: PlanOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Draft the Integrationsplan after the client first declined it."""
        case = _case_for(request, case_id, "api:plan-draft", CONTENT_READERS)
        plan = services.plan_redraft_after_decline(
            case=case, actor=request.user, now=timezone.now()
        )
        return Response(PlanOut(plan).data, status=status.HTTP_201_CREATED)


class PlanAgreeView(APIView):
    @extend_schema(request=PlanAgreeIn, responses={200: PlanOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Record the client's agreement to the pending change of the agreed
        plan, or to the plan drafted after a decline."""
        case = _case_for(request, case_id, "api:plan-agree", CONTENT_READERS)
        data = _valid(PlanAgreeIn, request)
        plan = services.plan_version_agree(
            case=case, actor=request.user, now=timezone.now(), **data
        )
        return Response(PlanOut(plan).data)


class PlanChangeView(APIView):
    @extend_schema(responses={200: PlanOut, **CASE_ERRORS})
    def get(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """The drafted change of the agreed plan awaiting agreement."""
        case = _case_for(request, case_id, "api:plan-change", CONTENT_READERS)
        change = services.plan_change_pending(case)
        if change is None:
            raise NotFound(_("No change of the plan is waiting for agreement."))
        return Response(PlanOut(change).data)

    @extend_schema(responses={200: PlanOut, **CASE_ERRORS})
    def delete(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Discard the drafted change; the agreed version stays."""
        case = _case_for(request, case_id, "api:plan-change", CONTENT_READERS)
        change = services.plan_change_discard(case=case, actor=request.user, now=timezone.now())
        return Response(PlanOut(change).data)


class AnonymousModeView(APIView):
    @extend_schema(request=None, responses={200: CaseFlagsOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Switch a registered case to anonymous counselling (no identity,
        counted by its case token, form and topic)."""
        case = _case_for(request, case_id, "api:anonymous-mode", frozenset({OWNER}))
        case = services.case_anonymous_mode_set(case=case, actor=request.user, now=timezone.now())
        return Response(CaseFlagsOut(case).data)


class LegalHoldView(APIView):
    @extend_schema(request=LegalHoldIn, responses={200: CaseFlagsOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Set (`legal_hold`: true, with a reason) or lift the legal hold
        (data protection officer only): it stops retention and erasure."""
        case = _case_for(request, case_id, "api:legal-hold", frozenset({DPO}))
        data = _valid(LegalHoldIn, request)
        case = services.case_legal_hold_set(
            case=case,
            actor=request.user,
            now=timezone.now(),
            hold=data["legal_hold"],
            reason=data.get("reason", ""),
        )
        return Response(CaseFlagsOut(case).data)


class ErasureView(APIView):
    @extend_schema(request=None, responses={200: CaseFlagsOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Erase a case whose processing consent was withdrawn and which
        rested on consent only (e.g. after its legal hold was lifted)."""
        case = _case_for(request, case_id, "api:erasure", frozenset({DPO}))
        case = services.case_erase_after_withdrawal(
            case=case, actor=request.user, now=timezone.now()
        )
        return Response(CaseFlagsOut(case).data)
