"""`GET /api/v1/tasks/`: the caller's open guided tasks (API.md).

The same rows as "Meine Aufgaben" and, for supervisors, "Freigaben", read
through the case access selector; each row names the task's screen.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from viewflow.workflow.status import STATUS

from audit.services import read_accesses_record
from cases.api import LIST_ERRORS
from config.api_enums import EnumField
from workflows.selectors import TaskRow, approvals_for, inbox_for


class TaskOut(serializers.Serializer):
    id = serializers.IntegerField(source="task.pk")
    case = serializers.IntegerField(source="case.pk")
    task = serializers.CharField(source="task.flow_task.name", help_text="node of the case flow")
    title = serializers.CharField(source="task.flow_task.task_title")
    status = EnumField(STATUS, source="task.status")
    due_on = serializers.DateField(source="due", allow_null=True)
    deputised = serializers.BooleanField(help_text="assigned to a manager the caller deputises")
    url = serializers.SerializerMethodField(help_text="the task's screen")

    def get_url(self, row: TaskRow) -> str:
        return row.task.flow_task.reverse("execute", args=[row.task.process_id, row.task.pk])


class TaskListView(GenericAPIView):
    """The caller's open tasks, soonest due first."""

    serializer_class = TaskOut

    @extend_schema(responses={200: TaskOut(many=True), **LIST_ERRORS})
    def get(self, request: Request) -> Response:
        from django.utils import timezone

        now = timezone.now()
        rows: list[Any] = inbox_for(user=request.user, now=now)
        seen = {row.task.pk for row in rows}
        rows += [
            row for row in approvals_for(user=request.user, now=now) if row.task.pk not in seen
        ]
        rows.sort(
            key=lambda row: (row.due is None, row.due or row.task.created.date(), row.task.pk)
        )
        page = self.paginate_queryset(rows)
        if page is None:  # REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS pages every list
            raise ImproperlyConfigured("The task list needs a paginator.")
        case_ids = sorted({row.case.pk for row in page})
        if case_ids:
            read_accesses_record(user=request.user, case_ids=case_ids, view="api.tasks", now=now)
        return self.get_paginated_response(TaskOut(page, many=True).data)
