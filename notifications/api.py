"""`GET /api/v1/notifications/` and `POST .../{id}/read/` (API.md).

A caller sees only their own notifications; another user's is a 404. The
rows name a case by its number and carry no client content, so listing
them is no read of case data.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import AuthenticatedRequest
from config.api import error_responses, reject_empty_parameters
from config.api_enums import EnumField
from notifications import services
from notifications.models import NotificationKind
from notifications.selectors import notification_text, notifications_of, unread_count


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = EnumField(NotificationKind)
    text = serializers.SerializerMethodField(help_text="German text (ids and dates only)")
    case = serializers.IntegerField(source="case_id", allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField(help_text="where the notification leads")

    def get_text(self, notification: Any) -> str:
        return notification_text(notification)

    def get_url(self, notification: Any) -> str:
        return services.notification_link(notification)


class NotificationListView(GenericAPIView):
    """The caller's notifications, newest first; `unread_count` on top."""

    serializer_class = NotificationOut

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", OpenApiTypes.BOOL, description="only unread ones"),
        ],
        responses={200: NotificationOut(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        reject_empty_parameters(request, ["unread"])
        rows = notifications_of(user=request.user)
        unread = request.query_params.get("unread")
        if unread is not None:
            if unread not in ("true", "false"):
                raise exceptions.ValidationError({"unread": [_("Use true or false.")]})
            rows = rows.filter(read_at__isnull=unread == "true")
        page = self.paginate_queryset(rows)
        response = self.get_paginated_response(NotificationOut(page, many=True).data)
        response.data["unread_count"] = unread_count(user=request.user)
        return response


class NotificationReadView(APIView):
    @extend_schema(
        request=None,
        responses={200: NotificationOut, **error_responses(401, 404)},
        description="Mark one of the caller's notifications read (again: no change).",
    )
    def post(self, request: AuthenticatedRequest, notification_id: str) -> Response:
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id, now=timezone.now()
        )
        return Response(NotificationOut(notification).data)
