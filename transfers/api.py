"""API of case transfers (under /api/v1/, keys snake_case, errors as
`{"code", "detail", "fields"}`; see docs/API.md of the project).

- `POST /api/v1/cases/{id}/transfer/` hands one case to another manager;
- `POST /api/v1/cases/reassign/` reassigns the cases of a leaving manager;
- `POST /api/v1/cases/{id}/transfer-package/` exports the signed package;
- `POST /api/v1/transfer-packages/import/` takes a package over.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from accounts.types import AuthenticatedRequest
from cases import services as case_services
from cases.api_fields import StrictCharField, StrictIntegerField
from cases.selectors import case_not_found, cases_visible_to, parse_pk
from config.api import error_responses
from transfers import services
from transfers.package import MESSAGES

ERRORS = error_responses(400, 401, 403, 404, 409, 415)
# The reasons of a transfer as the contract spells them (snake_case).
TRANSFER_REASONS = [code.lower() for code in case_services.TransferReason.values]


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _visible_case(request: AuthenticatedRequest, case_id: Any) -> int:
    """The case's id if the caller sees the case, else 404 (before the body
    is looked at, so that a refusal tells nothing; nothing is read yet)."""
    pk = parse_pk(case_id)
    if (
        pk is None
        or not cases_visible_to(user=request.user, now=timezone.now()).filter(pk=pk).exists()
    ):
        raise case_not_found()
    return pk


def _manager(value: Any, field: str) -> User:
    """An active integration manager by id, or 400 at `field`."""
    pk = parse_pk(value)
    user = (
        User.objects.filter(pk=pk, role=Role.INTEGRATION_MANAGER).first()
        if pk is not None
        else None
    )
    if user is None:
        raise case_services.InvalidArguments(
            _("Choose an integration manager."),
            fields={field: [_("There is no integration manager with this id.")]},
        )
    return user


class CaseTransferIn(serializers.Serializer):
    owner_id = StrictIntegerField(min_value=1, help_text="Die neue Integrationsmanagerin.")
    reason = serializers.ChoiceField(
        TRANSFER_REASONS,
        required=False,
        default="other",
        help_text="Grund: leaving, absence, person_moved, caseload, other.",
    )


TransferOut = inline_serializer(
    "CaseTransfer",
    {
        "case_id": serializers.IntegerField(),
        "owner_id": serializers.IntegerField(),
        "kind": serializers.ChoiceField(["same_team", "other_team", "other_traeger"]),
    },
)


class CaseTransferView(APIView):
    @extend_schema(request=CaseTransferIn, responses={200: TransferOut, **ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: str) -> Response:
        """Hand a case to another integration manager of the team, of another
        team or of another Träger (then only with the person's transfer
        consent: 409 `transfer_consent_missing`); supervisors of the case."""
        case_pk = _visible_case(request, case_id)
        data = _valid(CaseTransferIn, request)
        owner = _manager(data["owner_id"], "owner_id")
        now = timezone.now()
        moved = case_services.case_transfer(
            case=case_pk, actor=request.user, now=now, owner=owner, reason=data["reason"].upper()
        )
        return Response(
            {"case_id": moved.case.pk, "owner_id": owner.pk, "kind": moved.kind.lower()}
        )


class CasesReassignIn(serializers.Serializer):
    from_owner_id = StrictIntegerField(min_value=1, help_text="Die ausscheidende Person.")
    owner_id = StrictIntegerField(min_value=1, help_text="Die neue Integrationsmanagerin.")
    case_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        required=False,
        allow_null=True,
        max_length=10000,
        help_text="Nur diese Fälle; ohne: alle Fälle der ausscheidenden Person.",
    )
    reason = serializers.ChoiceField(
        TRANSFER_REASONS,
        required=False,
        default="leaving",
        help_text="Grund: leaving (Standard), absence, person_moved, caseload, other.",
    )


ReassignOut = inline_serializer(
    "Reassignment",
    {
        "case_ids": serializers.ListField(child=serializers.IntegerField()),
        "count": serializers.IntegerField(),
    },
)


class ReassignView(APIView):
    @extend_schema(request=CasesReassignIn, responses={200: ReassignOut, **ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        """Reassign all (or the named) cases of a leaving manager to another
        manager, one audited transfer per case, all or none (supervisors)."""
        data = _valid(CasesReassignIn, request)
        result = case_services.cases_reassign(
            actor=request.user,
            now=timezone.now(),
            from_owner=_manager(data["from_owner_id"], "from_owner_id"),
            owner=_manager(data["owner_id"], "owner_id"),
            case_ids=data.get("case_ids"),
            reason=data["reason"].upper(),
        )
        return Response({"case_ids": result.case_ids, "count": len(result.case_ids)})


class TransferPackageExportIn(serializers.Serializer):
    target_installation = StrictCharField(
        max_length=200, help_text="Die empfangende Lotse-Installation (ihr Name)."
    )


class PackageExportView(APIView):
    @extend_schema(
        request=TransferPackageExportIn,
        responses={
            201: OpenApiResponse(OpenApiTypes.BINARY, description="Das signierte Paket (JSON)."),
            **ERRORS,
        },
    )
    def post(self, request: AuthenticatedRequest, case_id: str) -> HttpResponse:
        """Export the case file as a package signed by this installation for
        the named installation; the case's manager, with the person's
        transfer consent (409 `transfer_consent_missing`)."""
        case_pk = _visible_case(request, case_id)
        data = _valid(TransferPackageExportIn, request)
        exported = services.transfer_package_export(
            case_id=case_pk,
            actor=request.user,
            now=timezone.now(),
            target=data["target_installation"],
        )
        response = HttpResponse(
            exported.content, content_type="application/json", status=status.HTTP_201_CREATED
        )
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        return response


class TransferPackageImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="Das Übergabepaket (.json).")
    owner_id = StrictIntegerField(
        min_value=1, required=False, help_text="Für Teamleitungen: wer den Fall übernimmt."
    )
    known_person_id = StrictIntegerField(
        min_value=1,
        required=False,
        help_text="Antwort auf die Dublettenwarnung: es ist diese bekannte Person "
        "(eine der `candidates` mit `kind` person).",
    )
    not_known = serializers.BooleanField(
        required=False,
        help_text="Antwort auf die Dublettenwarnung: es ist keine der vorgeschlagenen Personen "
        "(true oder false).",
    )


ImportOut = inline_serializer(
    "PackageImported",
    {
        "case_id": serializers.IntegerField(),
        "person_id": serializers.IntegerField(),
        "package_id": serializers.UUIDField(),
        "source_installation": serializers.CharField(),
        "key_id": serializers.CharField(),
    },
)


def _known_person(value: Any) -> int | None:
    if value in (None, ""):
        return None
    pk = parse_pk(value)
    if pk is None:
        raise case_services.InvalidArguments(
            _("Some values are not valid."),
            fields={"known_person_id": [_("Not one of the proposed persons.")]},
        )
    return pk


def _flag(value: Any, field: str) -> bool:
    raw = str(value if value is not None else "false").strip().lower()
    if raw not in ("true", "false", "1", "0", ""):
        raise case_services.InvalidArguments(
            _("Some values are not valid."), fields={field: [_("true or false.")]}
        )
    return raw in ("true", "1")


class PackageImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": TransferPackageImportIn},
        responses={201: ImportOut, **ERRORS},
        description=(
            "Take over a package from another installation (multipart: `file`, for "
            "supervisors `owner_id`). The person of the package goes through the intake's "
            "duplicate check: persons already known or waiting in a handover give 409 "
            "`possible_duplicate` with `candidates` under `person` (as `POST /api/v1/cases/` "
            "gives them per person) and nothing is taken over; send the file again with "
            "`known_person_id` (it is that known person: the case is theirs, their clock "
            "continues) or `not_known=true` (it is someone else: a new person)."
        ),
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """Take over a package from another installation: its signature is
        checked (400 `package_tampered`, `package_foreign_key`,
        `package_unreadable`, `package_not_for_us`); a package taken over
        before is 409 `package_already_imported`; a person who may already
        be known is 409 `possible_duplicate` (see the description)."""
        body: Any = request.data
        upload = body.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise case_services.InvalidArguments(
                MESSAGES["package_unreadable"], fields={"file": [_("This field is required.")]}
            )
        owner_id = body.get("owner_id")
        owner = _manager(owner_id, "owner_id") if owner_id not in (None, "") else None
        known_person_id = _known_person(body.get("known_person_id"))
        not_known = _flag(body.get("not_known"), "not_known")
        # One byte over the limit is enough for the service to refuse it.
        content = upload.read(settings.LOTSE_TRANSFER_MAX_BYTES + 1)
        record = services.transfer_package_import(
            content=content,
            actor=request.user,
            now=timezone.now(),
            owner=owner,
            known_person_id=known_person_id,
            not_known=not_known,
        )
        return Response(
            {
                "case_id": record.case_id,
                "person_id": record.case.person_id,
                "package_id": str(record.package_id),
                "source_installation": record.source_installation,
                "key_id": record.key_id,
            },
            status=status.HTTP_201_CREATED,
        )
