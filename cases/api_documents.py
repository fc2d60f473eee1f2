"""REST API v1: a case's client documents and CV (mounted in
`cases.api_urls`). Like `cases.api`: the case through the access
chokepoint (read logged, 404 for a foreign case, 403 for metadata
readers), one service call per write, enum values in snake_case."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import AuthenticatedRequest
from cases import services
from cases.api import CASE_ERRORS, CONTENT_READERS, LIST_ERRORS, READ_ERRORS, _case_for, _valid
from cases.api_fields import StrictBooleanField, StrictCharField
from cases.documents import cv as cv_document
from cases.models import CvEntry, Document
from cases.services.documents import DOCUMENT_TYPES
from config.api_enums import ContractModelSerializer, EnumField


class DocumentOut(ContractModelSerializer):
    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "sensitivity",
            "title",
            "original_name",
            "content_type",
            "size",
            "language",
            "retain_until",
            "uploaded_by",
            "uploaded_at",
        ]


class DocumentIn(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG oder TIFF (geprüft wird der Inhalt).")
    # consent_form and plan_pdf are the system's own kinds: a 400 from the service.
    kind = EnumField(Document.Kind)
    sensitivity = EnumField(Document.Sensitivity, required=False)
    title = StrictCharField(max_length=200, required=False, allow_blank=True)
    retain_until = serializers.DateField(required=False, allow_null=True)


class CvEntryOut(ContractModelSerializer):
    class Meta:
        model = CvEntry
        fields = [
            "id",
            "kind",
            "title",
            "organisation",
            "place",
            "started_on",
            "ended_on",
            "level",
            "recognised",
            "note",
            "recorded_at",
        ]


class CvEntryIn(serializers.Serializer):
    kind = EnumField(CvEntry.Kind)
    title = StrictCharField(max_length=200)
    organisation = StrictCharField(max_length=200, required=False, allow_blank=True)
    place = StrictCharField(max_length=100, required=False, allow_blank=True)
    started_on = serializers.DateField(required=False, allow_null=True)
    ended_on = serializers.DateField(required=False, allow_null=True)
    level = EnumField(CvEntry.Level, required=False, allow_blank=True)
    recognised = StrictBooleanField(required=False)
    note = StrictCharField(max_length=300, required=False, allow_blank=True)


class DocumentListView(GenericAPIView):
    parser_classes = [MultiPartParser]
    serializer_class = DocumentOut

    @extend_schema(responses={200: DocumentOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The case's documents (files deleted at the end of their retention
        are not listed), newest first."""
        case = _case_for(request, case_id, "api:documents", CONTENT_READERS)
        rows = Document.objects.filter(case_id=case.pk).exclude(file="")
        page = self.paginate_queryset(rows.order_by("-uploaded_at", "-pk"))
        return self.get_paginated_response(DocumentOut(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DocumentIn}, responses={201: DocumentOut, **CASE_ERRORS}
    )
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Upload a client document (multipart field `file`). Refused with 400
        `file_type_not_allowed` when its content is no PDF, PNG, JPEG or TIFF,
        `file_too_large` over the limit; 409 `art9_consent_missing` for
        Art. 9 content without the person's Art. 9 consent."""
        case = _case_for(request, case_id, "api:documents", CONTENT_READERS)
        body = request.data if isinstance(request.data, dict) else {}
        upload = body.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise services.InvalidArguments(
                _("The file is missing."), fields={"file": [_("This field is required.")]}
            )
        too_large = upload.size > settings.LOTSE_DOCUMENT_MAX_BYTES
        data = _valid(DocumentIn, request)
        document = services.document_upload(
            case=case,
            actor=request.user,
            now=timezone.now(),
            content=b"" if too_large else upload.read(),
            too_large=too_large,
            file_name=upload.name,
            kind=data["kind"],
            title=data.get("title", ""),
            sensitivity=data.get("sensitivity") or Document.Sensitivity.NORMAL,
            retain_until=data.get("retain_until"),
        )
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailView(APIView):
    @extend_schema(
        responses={
            **{(200, kind.content_type): OpenApiTypes.BINARY for _magic, kind in DOCUMENT_TYPES},
            **READ_ERRORS,
        }
    )
    def get(self, request: AuthenticatedRequest, case_id: int, document_id: int) -> HttpResponse:
        """The document's file; the download is an audit event."""
        case = _case_for(request, case_id, "api:document-download", CONTENT_READERS)
        document, content = services.document_download(
            case=case, document_id=document_id, actor=request.user, now=timezone.now()
        )
        response = HttpResponse(content, content_type=document.content_type)
        response["Content-Disposition"] = f'attachment; filename="dokument-{document.pk}"'
        return response

    @extend_schema(responses={200: DocumentOut, **CASE_ERRORS})
    def delete(self, request: AuthenticatedRequest, case_id: int, document_id: int) -> Response:
        """Delete the document's file (the row stays for the history)."""
        case = _case_for(request, case_id, "api:documents", CONTENT_READERS)
        document = services.document_delete(
            case=case, document_id=document_id, actor=request.user, now=timezone.now()
        )
        return Response(DocumentOut(document).data)


class CvEntryListView(APIView):
    @extend_schema(responses={200: CvEntryOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The client's CV entries."""
        case = _case_for(request, case_id, "api:cv", CONTENT_READERS)
        return Response(CvEntryOut(cv_document.cv_entries(case=case), many=True).data)

    @extend_schema(request=CvEntryIn, responses={201: CvEntryOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Add an entry to the client's CV (a language needs its `level`)."""
        case = _case_for(request, case_id, "api:cv", CONTENT_READERS)
        data: dict[str, Any] = _valid(CvEntryIn, request)
        entry = services.cv_entry_add(case=case, actor=request.user, now=timezone.now(), **data)
        return Response(CvEntryOut(entry).data, status=status.HTTP_201_CREATED)


class CvEntryDetailView(APIView):
    @extend_schema(responses={204: None, **CASE_ERRORS})
    def delete(self, request: AuthenticatedRequest, case_id: int, entry_id: int) -> Response:
        """Remove an entry from the client's CV."""
        case = _case_for(request, case_id, "api:cv", CONTENT_READERS)
        services.cv_entry_remove(
            case=case, entry_id=entry_id, actor=request.user, now=timezone.now()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
