"""REST API v1 of handovers (shared/docs/API.md).

Views read through `handover.selectors` (404 for what the caller may not
see) or make one service call. Input serializers check shape only; the
rules (consent, Gemeinde, duplicates) live in `handover.services`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.types import AuthenticatedRequest
from cases.api import StrictBooleanField, StrictCharField, StrictIntegerField
from cases.models import Consent, HouseholdMembership, Person
from cases.selectors import MAX_PK, parse_pk
from config.api import error_responses, reject_empty_parameters
from config.api_enums import ContractModelSerializer, EnumField, EnumFilter
from config.errors import InvalidInput
from handover import services
from handover.models import Handover, HandoverMember, HandoverStatus, ImportJob, ReturnReason
from handover.selectors import (
    handover_get_for_user,
    handover_list_for_user,
    import_job_get_for_user,
    member_candidates,
)

# --- output ------------------------------------------------------------------


class MemberOut(ContractModelSerializer):
    class Meta:
        model = HandoverMember
        fields = [
            "id",
            "position",
            "relation",
            "family_name",
            "given_names",
            "date_of_birth",
            "sex",
            "nationality",
            "languages",
            "authority_reference",
            "person",
        ]


class CandidateOut(serializers.Serializer):
    person_id = serializers.IntegerField()
    family_name = serializers.CharField()
    given_names = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    nationality = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class HandoverOut(ContractModelSerializer):
    gemeinde_ags = serializers.CharField(source="gemeinde.ags")
    members = serializers.SerializerMethodField()
    duplicate_candidates = serializers.SerializerMethodField()

    class Meta:
        model = Handover
        fields = [
            "id",
            "status",
            "source",
            "external_reference",
            "gemeinde_ags",
            "au_allocation_date",
            "consent_given",
            "consent_form",
            "consent_language",
            "consent_interpreter",
            "consent_given_on",
            "known_needs",
            "open_matters",
            "notes",
            "phone",
            "address",
            "gu_facility",
            "gu_contact_name",
            "gu_contact_phone",
            "gu_contact_email",
            "submitted_at",
            "decided_at",
            "assignee",
            "case",
            "return_reason",
            "return_note",
            "members",
            "duplicate_candidates",
        ]

    @extend_schema_field(MemberOut(many=True))
    def get_members(self, handover: Handover) -> list[dict[str, Any]]:
        members = sorted(handover.members.all(), key=lambda m: m.position)
        return MemberOut(members, many=True).data

    @extend_schema_field(serializers.DictField(child=CandidateOut(many=True), allow_null=True))
    def get_duplicate_candidates(
        self, handover: Handover
    ) -> dict[str, list[dict[str, Any]]] | None:
        user = self.context.get("user")
        if (
            not self.context.get("with_candidates")
            or user is None
            or user.role not in (Role.INTEGRATION_MANAGER, Role.SUPERVISOR)
            or handover.status != HandoverStatus.SUBMITTED
        ):
            return None
        found = member_candidates(handover=handover, traeger_id=user.traeger_id)
        return {
            str(member_id): [
                {
                    "person_id": c.person.pk,
                    "family_name": c.person.family_name,
                    "given_names": c.person.given_names,
                    "date_of_birth": c.person.date_of_birth,
                    "nationality": c.person.nationality,
                    "reasons": list(c.reasons),
                }
                for c in candidates
            ]
            for member_id, candidates in found.items()
        }


# --- input (shape only) ----------------------------------------------------------


class MemberIn(serializers.Serializer):
    relation = EnumField(HouseholdMembership.Relation, required=False)
    family_name = StrictCharField(max_length=200)
    given_names = StrictCharField(max_length=200, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = EnumField(Person.Sex, required=False)
    nationality = StrictCharField(max_length=100, required=False, allow_blank=True)
    languages = StrictCharField(max_length=200, required=False, allow_blank=True)
    authority_reference = StrictCharField(max_length=100, required=False, allow_blank=True)


class HandoverIn(serializers.Serializer):
    external_reference = StrictCharField(max_length=100, required=False, allow_blank=True)
    gemeinde_ags = StrictCharField(max_length=8)
    au_allocation_date = serializers.DateField()
    consent_given = StrictBooleanField(
        help_text="Einwilligung in die Datenübermittlung; ohne sie nur Name, Haushalt, "
        "Gemeinde und Zuweisungsdatum"
    )
    consent_form = EnumField(Consent.Form, required=False)
    consent_language = StrictCharField(max_length=50, required=False, allow_blank=True)
    consent_interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)
    consent_given_on = serializers.DateField(required=False, allow_null=True)
    known_needs = StrictCharField(max_length=5000, required=False, allow_blank=True)
    open_matters = StrictCharField(max_length=5000, required=False, allow_blank=True)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)
    phone = StrictCharField(max_length=50, required=False, allow_blank=True)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    gu_facility = StrictCharField(max_length=200, required=False, allow_blank=True)
    gu_contact_name = StrictCharField(max_length=200)
    gu_contact_phone = StrictCharField(max_length=50, required=False, allow_blank=True)
    gu_contact_email = StrictCharField(max_length=254, required=False, allow_blank=True)
    members = MemberIn(many=True, allow_empty=False, max_length=services.MAX_MEMBERS)


class AcceptIn(serializers.Serializer):
    assignee = StrictIntegerField(
        min_value=1,
        max_value=MAX_PK,
        required=False,
        allow_null=True,
        help_text="Integrationsmanager*in, die den Fall übernimmt (Standard: wer annimmt)",
    )
    persons = serializers.DictField(
        child=StrictIntegerField(min_value=1, max_value=MAX_PK, allow_null=True),
        required=False,
        help_text="je übergebener Person (id): bestehende Person verknüpfen (id) oder neu (null)",
    )
    member_cases = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_PK),
        required=False,
        max_length=20,
        help_text="weitere erwachsene übergebene Personen (id), die einen eigenen Fall bekommen",
    )


class ReturnIn(serializers.Serializer):
    reason = EnumField(ReturnReason)
    note = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")


class ImportIn(serializers.Serializer):
    file = serializers.FileField()


class ImportOut(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    handovers = serializers.ListField(child=serializers.DictField())
    errors = serializers.ListField(child=serializers.DictField())


class ImportJobOut(ContractModelSerializer):
    """A large file's import in the worker; `report` once it has ended."""

    report = ImportOut(allow_null=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "phase",
            "rows_done",
            "rows_total",
            "dry_run",
            "filename",
            "created_at",
            "started_at",
            "finished_at",
            "message",
            "report",
        ]


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views -----------------------------------------------------------------------

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 415)
LIST_ERRORS = error_responses(400, 401, 403, 404)


class HandoverFilter(django_filters.FilterSet):
    status = EnumFilter(enum=HandoverStatus)

    class Meta:
        model = Handover
        fields = ["status"]


def _out(handover: Handover, request: Request, *, with_candidates: bool = False) -> Any:
    fresh = handover_get_for_user(user=request.user, handover_id=handover.pk)
    context = {"user": request.user, "with_candidates": with_candidates}
    return HandoverOut(fresh, context=context).data


class HandoverListView(GenericAPIView):
    serializer_class = HandoverOut
    filterset_class = HandoverFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> Any:
        return handover_list_for_user(user=self.request.user)

    @extend_schema(responses={200: HandoverOut(many=True), **LIST_ERRORS})
    def get(self, request: Request) -> Response:
        """The handovers the caller may see (filter: status)."""
        reject_empty_parameters(request, ["status"])
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            HandoverOut(page, many=True, context={"user": request.user}).data
        )

    @extend_schema(
        request=HandoverIn,
        responses={201: HandoverOut, 200: HandoverOut, **WRITE_ERRORS},
        description="Create and submit a handover. The same external_reference again "
        "returns the existing handover (200).",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """Create and submit a handover (refugee social work of the GU)."""
        if request.user.role != Role.GU_SOCIAL_WORKER:
            raise services.HandoverForbidden(services.MESSAGES["forbidden"])
        data = _valid(HandoverIn, request)
        members = data.pop("members")
        handover, created = services.handover_create(
            actor=request.user,
            now=timezone.now(),
            data=data,
            members=members,
            source=Handover.Source.API,
        )
        return Response(
            _out(handover, request),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class HandoverDetailView(APIView):
    @extend_schema(responses={200: HandoverOut, **error_responses(401, 404)})
    def get(self, request: Request, handover_id: str) -> Response:
        """A handover with its persons; for the receiving managers also the
        existing persons who may be the same (duplicate candidates)."""
        handover = handover_get_for_user(user=request.user, handover_id=handover_id)
        return Response(_out(handover, request, with_candidates=True))


def _persons(raw: dict[str, Any]) -> dict[int, int | None]:
    persons = {}
    for key, value in raw.items():
        number = parse_pk(key)
        if number is None:
            raise InvalidInput(
                _("Some values are not valid."),
                fields={"persons": [_("Keys are the ids of the handed-over persons.")]},
            )
        persons[number] = value
    return persons


class HandoverAcceptView(APIView):
    @extend_schema(
        request=AcceptIn,
        responses={
            201: inline_serializer("HandoverAccepted", {"case_id": serializers.IntegerField()}),
            **WRITE_ERRORS,
        },
        description="Accept: creates the case (registered) for the caller or `assignee`. "
        "A second accept is 409; possible duplicates of known persons are 409 "
        "`possible_duplicate` until `persons` decides each.",
    )
    def post(self, request: AuthenticatedRequest, handover_id: str) -> Response:
        data = _valid(AcceptIn, request)
        pk = parse_pk(handover_id)
        if pk is None:
            raise services.handover_not_found()
        handover = services.handover_accept(
            handover=pk,
            actor=request.user,
            now=timezone.now(),
            assignee=data.get("assignee"),
            persons=_persons(data.get("persons") or {}),
            member_cases=data.get("member_cases") or [],
        )
        return Response({"case_id": handover.case_id}, status=status.HTTP_201_CREATED)


class HandoverReturnView(APIView):
    @extend_schema(request=ReturnIn, responses={200: HandoverOut, **WRITE_ERRORS})
    def post(self, request: AuthenticatedRequest, handover_id: str) -> Response:
        """Return a submitted handover to the sender with a reason."""
        data = _valid(ReturnIn, request)
        pk = parse_pk(handover_id)
        if pk is None:
            raise services.handover_not_found()
        handover = services.handover_return(
            handover=pk, actor=request.user, now=timezone.now(), **data
        )
        return Response(_out(handover, request))


class HandoverImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportIn},
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="only check, save nothing")
        ],
        responses={201: ImportOut, 200: ImportOut, 202: ImportJobOut, **WRITE_ERRORS},
        description="CSV (UTF-8, UTF-8 with BOM or Windows-1252; ; or ,) or XLSX. All or "
        "nothing: 400 with `errors` (line, field, message) if any row is bad. A file larger "
        "than LOTSE_IMPORT_INLINE_MAX_BYTES is read by the worker: 202 with the job; follow "
        "it at `GET /api/v1/handovers/import/{id}/`.",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """Import handovers from a file; `?dry_run=true` checks only."""
        raw = request.query_params.get("dry_run", "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise InvalidInput(
                _("Some values are not valid."), fields={"dry_run": [_("true or false.")]}
            )
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(
                _("Some values are not valid."), fields={"file": [_("Upload a CSV or XLSX file.")]}
            )
        limit = settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES
        content = upload.read(limit + 1)
        dry_run = raw in ("true", "1")
        result = services.handover_import_submit(
            actor=request.user,
            now=timezone.now(),
            content=content,
            filename=upload.name or "",
            dry_run=dry_run,
        )
        if isinstance(result, ImportJob):  # a large file: the worker reads it
            return Response(ImportJobOut(result).data, status=status.HTTP_202_ACCEPTED)
        return Response(
            result.as_dict(), status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
        )


class HandoverImportJobView(APIView):
    @extend_schema(responses={200: ImportJobOut, **error_responses(404)})
    def get(self, request: AuthenticatedRequest, job_id: str) -> Response:
        """A large file's import: status, progress, and the report once ended
        (the report of a refused file has `errors`, as the 400 would)."""
        job = import_job_get_for_user(user=request.user, job_id=job_id)
        return Response(ImportJobOut(job).data)
