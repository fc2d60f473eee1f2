"""Shared machinery of the REST API v1 (shared/docs/API.md).

Every error leaves the API as `{"code", "detail", "fields"?}`: domain
errors (`ApplicationError`) with their own code and status, DRF's
validation, authentication and routing errors mapped into the same shape,
and anything unexpected as a logged 500 with no internals shown.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError
from config.parsers import RequestTooLarge

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    RequestTooLarge: "request_too_large",
}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Translate any exception into the API's error body."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, RequestDataTooBig):
            return Response(
                {"code": "request_too_large", "detail": str(_("The request is too large."))},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        # A bug: logged with its traceback, answered in the contract's shape.
        logger.exception("Unexpected error in an API view", exc_info=exc)
        return Response(
            {
                "code": "server_error",
                "detail": str(
                    _("An unexpected error occurred. It has been logged; please try again.")
                ),
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        response.data = {
            "code": "invalid",
            "detail": str(_("Some values are not valid.")),
            "fields": fields,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"code": code, "detail": str(detail)}
    return response


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param, "1")
        if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:
            raise exceptions.NotFound(_("This page does not exist."))
        return int(raw)

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("A whole number from 1 to 200.")]}
            )
        return int(raw)


ERROR_BODY = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(),
        "detail": serializers.CharField(),
        "fields": serializers.DictField(required=False),
    },
)


def reject_empty_parameters(request: Request, names: list[str]) -> None:
    """Refuse filters given without a value (`?status=`) instead of ignoring them."""
    empty = [name for name in names if request.query_params.get(name, None) == ""]
    if empty:
        raise exceptions.ValidationError(
            {name: [_("This value may not be empty.")] for name in empty}
        )


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Document the error body for the given status codes."""
    return {code: OpenApiResponse(ERROR_BODY) for code in codes}
