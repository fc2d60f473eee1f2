"""The caseload import in API v1: `POST /api/v1/caseload-imports/` (multipart
`file`, `?dry_run=true`) and `GET /api/v1/caseload-imports/{id}/`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import AuthenticatedRequest
from caseload import services
from caseload.models import CaseloadImport
from caseload.selectors import caseload_import_get_for_user
from config.api import error_responses
from config.errors import InvalidInput


class CaseloadImportIn(serializers.Serializer):
    file = serializers.FileField()


class CaseloadImportOut(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    dry_run = serializers.BooleanField()
    filename = serializers.CharField()
    rows_done = serializers.IntegerField(help_text="rows checked so far")
    rows_total = serializers.IntegerField()
    report = serializers.DictField(
        help_text="rows, persons, households, states, cases (line, external_reference, "
        "status, case_id), skipped, errors (line, field, message)"
    )


def _out(run: CaseloadImport) -> dict[str, Any]:
    return {
        "id": str(run.pk),
        "status": run.status.lower(),
        "dry_run": run.dry_run,
        "filename": run.filename,
        "rows_done": run.rows_done,
        "rows_total": run.rows_total,
        "report": run.report,
    }


class CaseloadImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": CaseloadImportIn},
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="only check, save nothing")
        ],
        responses={
            202: CaseloadImportOut,
            201: CaseloadImportOut,
            200: CaseloadImportOut,
            **error_responses(400, 401, 403, 404, 409, 415),
        },
        description="Import the existing caseload of the supervisor's team from a CSV "
        "(UTF-8, UTF-8 with BOM or Windows-1252; ; or ,) or XLSX file, in the worker: 202 "
        "while it runs (poll the run), 201 (200 for a dry run) when done, 400 with the "
        "row-by-row `errors` when any row is bad (nothing is saved). Rows whose "
        "`external_reference` was imported before are skipped.",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
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
        dry_run = raw in ("true", "1")
        run = services.caseload_import_submit(
            actor=request.user,
            now=timezone.now(),
            content=upload.read(settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES + 1),
            filename=upload.name or "",
            dry_run=dry_run,
        )
        return _answer(run, dry_run=dry_run)


def _answer(run: CaseloadImport, *, dry_run: bool) -> Response:
    # The worker may already have finished (a small file, an eager worker):
    # the run is read after the request's commit hooks ran.
    run.refresh_from_db()
    if run.status == CaseloadImport.Status.FAILED:
        error = services.ImportInvalid(
            _("The file was not imported: %(n)d problems. Nothing was saved.")
            % {"n": len(run.report.get("errors", []))},
            report=services.ImportReport(dry_run=dry_run),
        )
        return Response(
            {**error.as_dict(), **run.report, "id": str(run.pk)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if run.status == CaseloadImport.Status.DONE:
        return Response(
            _out(run), status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
        )
    return Response(_out(run), status=status.HTTP_202_ACCEPTED)


class CaseloadImportDetailView(APIView):
    @extend_schema(responses={200: CaseloadImportOut, **error_responses(400, 401, 404)})
    def get(self, request: AuthenticatedRequest, run_id: str) -> Response:
        """One caseload import: its progress and, once done, its report."""
        return Response(_out(caseload_import_get_for_user(user=request.user, run_id=run_id)))
