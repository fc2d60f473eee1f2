"""`GET /api/v1/reports/kennzahlen/` (shared/docs/API.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_responses, reject_empty_parameters
from config.api_enums import spell_codes
from reports.models import UnitKind
from reports.selectors import Period, kennzahlen_for_user, report_default_unit, report_unit_get
from reports.sheet import kennzahlen_csv, kennzahlen_xlsx

PARAMETERS = ("year", "from", "to", "unit", "unit_id", "format")
MAX_DAYS = 5 * 366
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class KennzahlenQuery(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    from_ = serializers.DateField(required=False)
    to = serializers.DateField(required=False)
    unit = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    unit_id = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    format = serializers.ChoiceField(choices=["json", "csv", "xlsx"], default="json")

    def to_internal_value(self, data: Any) -> Any:
        data = {("from_" if key == "from" else key): value for key, value in data.items()}
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_range = "from_" in attrs or "to" in attrs
        if "year" in attrs and has_range:
            raise serializers.ValidationError({"year": [_("Give either year or from/to.")]})
        if has_range:
            if "from_" not in attrs or "to" not in attrs:
                raise serializers.ValidationError({"from": [_("Give both from and to.")]})
            if attrs["from_"] > attrs["to"]:
                raise serializers.ValidationError({"to": [_("The end lies before the start.")]})
            if (attrs["to"] - attrs["from_"]).days > MAX_DAYS:
                raise serializers.ValidationError({"to": [_("At most five years at once.")]})
            if attrs["from_"].year < 2000 or attrs["to"].year > 2100:
                raise serializers.ValidationError({"from": [_("A period between 2000 and 2100.")]})
        if "unit_id" in attrs and "unit" not in attrs:
            raise serializers.ValidationError({"unit": [_("Name the kind of unit.")]})
        return attrs


class _NoFormatOverride(DefaultContentNegotiation):
    """`format` is this endpoint's own parameter, not DRF's renderer switch:
    errors stay JSON whatever file format was asked for."""

    class settings:
        URL_FORMAT_OVERRIDE = None


class KennzahlenView(APIView):
    content_negotiation_class = _NoFormatOverride

    @extend_schema(
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="Kalenderjahr (2000-2100)"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Beginn des Zeitraums"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Ende des Zeitraums"),
            OpenApiParameter(
                "unit",
                OpenApiTypes.STR,
                enum=UnitKind.values,
                description="Organisationseinheit (Standard: die eigene)",
            ),
            OpenApiParameter("unit_id", OpenApiTypes.INT, description="Id der Einheit"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"]),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX): OpenApiTypes.BINARY,
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        """Kennzahlen K1-K9 of a unit the caller may see, for a year or a
        period: JSON, or the official sheet as CSV or XLSX."""
        unknown = sorted(set(request.query_params) - set(PARAMETERS))
        if unknown:
            raise exceptions.ValidationError({name: [_("Unknown parameter.")] for name in unknown})
        reject_empty_parameters(request, list(PARAMETERS))
        query = KennzahlenQuery(data=request.query_params.dict())
        if not query.is_valid():
            raise exceptions.ValidationError(
                {("from" if key == "from_" else key): value for key, value in query.errors.items()}
            )
        q = query.validated_data
        if "from_" in q:
            period = Period(q["from_"], q["to"])
        else:
            period = Period.year(q.get("year", timezone.localdate().year))
        default = report_default_unit(user=request.user)
        kind = q.get("unit", default[0] if default else UnitKind.MANAGER)
        pk = q.get("unit_id", default[1] if default and default[0] == kind else None)
        unit = report_unit_get(user=request.user, kind=kind, pk=pk)
        figures = kennzahlen_for_user(
            user=request.user,
            unit=unit,
            period=period,
            view=f"api.kennzahlen.{q['format']}",
            now=timezone.now(),
        )
        if q["format"] == "json":
            return Response(spell_codes(figures))
        name = _file_name(unit.kind, unit.pk, period.start, period.end)
        if q["format"] == "csv":
            body, content_type = kennzahlen_csv(figures), "text/csv; charset=utf-8"
        else:
            body, content_type = kennzahlen_xlsx(figures), XLSX
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}.{q["format"]}"'
        return response


def _file_name(kind: str, pk: int, start: date, end: date) -> str:
    return f"kennzahlen_{kind}_{pk}_{start.isoformat()}_{end.isoformat()}"
