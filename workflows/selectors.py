"""Reads of guided work, always through the case access selector.

What `cases_visible_to` does not return does not exist here either: a task,
process, queue entry or diagram of a foreign case is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.http import Http404
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import Role
from accounts.selectors import deputy_principal_ids
from cases.models import Case, ExtensionRequest, ExtensionStatus
from cases.selectors import case_is_visible_to, cases_visible_to, parse_pk
from workflows.models import APPROVE_EXTENSION_REF, CaseProcess

HUMAN_OPEN = (STATUS.NEW, STATUS.ASSIGNED)
OPEN_TASK_STATES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED, STATUS.ERROR)


def open_process(case: Case | int) -> CaseProcess | None:
    """The case's open process (None when its work has ended)."""
    case_id = case.pk if isinstance(case, Case) else case
    return (
        CaseProcess.objects.filter(case_id=case_id)
        .exclude(status__in=[PROCESS.DONE, PROCESS.CANCELED])
        .order_by("-pk")
        .first()
    )


def open_tasks(case: Case | int) -> list[Task]:
    """The unfinished tasks of the case's processes, oldest first."""
    case_id = case.pk if isinstance(case, Case) else case
    return list(
        Task.objects.filter(
            process__caseprocess__case_id=case_id, status__in=OPEN_TASK_STATES
        ).order_by("pk")
    )


def _not_found() -> Http404:
    return Http404("not found")


def task_get_for_user(
    *, user: Any, process_pk: Any, task_pk: Any, node: Any, now: datetime
) -> tuple[Task, Case]:
    """Return the task and its case, or 404 unless the task belongs to the
    process and node named in the URL and the case is visible to `user`."""
    process_id, task_id = parse_pk(process_pk), parse_pk(task_pk)
    if process_id is None or task_id is None:
        raise _not_found()
    task = (
        Task.objects.select_related("owner")
        .filter(pk=task_id, process_id=process_id, flow_task=node)
        .first()
    )
    if task is None:
        raise _not_found()
    process = process_get_for_user(user=user, process_pk=process_id, now=now)
    task.process = process
    return task, process.case


def process_get_for_user(*, user: Any, process_pk: Any, now: datetime) -> CaseProcess:
    number = parse_pk(process_pk)
    process = (
        CaseProcess.objects.select_related("case", "case__owner", "case__person")
        .filter(pk=number)
        .first()
        if number is not None
        else None
    )
    if process is None or not case_is_visible_to(user=user, case=process.case, now=now):
        raise _not_found()
    return process


def processes_of_case(case: Case) -> list[CaseProcess]:
    return list(CaseProcess.objects.filter(case=case).order_by("-pk"))


def process_tasks(process: CaseProcess) -> list[Task]:
    """The human tasks and timers of a process, oldest first."""
    return list(
        Task.objects.filter(process_id=process.pk, flow_task_type__in=["HUMAN", "TIMER"])
        .select_related("owner")
        .order_by("pk")
    )


def waiting_extension_request(case: Case | int) -> ExtensionRequest | None:
    case_id = case.pk if isinstance(case, Case) else case
    return (
        ExtensionRequest.objects.filter(case_id=case_id, status=ExtensionStatus.SUBMITTED)
        .select_related("reason", "requested_by")
        .first()
    )


@dataclass(frozen=True)
class TaskRow:
    task: Task
    case: Case
    due: date | None
    deputised: bool


def _rows(tasks: list[Task], *, user: Any) -> list[TaskRow]:
    rows = []
    for task in tasks:
        case = task.process.caseprocess.case
        rows.append(
            TaskRow(
                task=task,
                case=case,
                due=task.flow_task.due(case),
                deputised=task.owner_id is not None and task.owner_id != user.pk,
            )
        )
    rows.sort(key=lambda row: (row.due is None, row.due or date.max, row.task.pk))
    return rows


def _human_tasks_of(cases: Any) -> Any:
    return Task.objects.filter(
        flow_task_type="HUMAN",
        status__in=HUMAN_OPEN,
        process__caseprocess__case__in=cases,
    ).select_related(
        "owner",
        "process__caseprocess__case__person",
        "process__caseprocess__case__owner",
    )


def inbox_for(*, user: Any, now: datetime) -> list[TaskRow]:
    """'Meine Aufgaben': open tasks assigned to `user`, or to a manager
    `user` deputises for right now, soonest due first."""
    if user.role != Role.INTEGRATION_MANAGER:
        if user.role != Role.SUPERVISOR:
            return []
        tasks = _human_tasks_of(cases_visible_to(user=user, now=now)).filter(owner=user)
        return _rows(list(tasks), user=user)
    principals = [user.pk, *deputy_principal_ids(user=user, now=now)]
    tasks = (
        _human_tasks_of(cases_visible_to(user=user, now=now))
        .filter(owner_id__in=principals)
        .exclude(flow_task=APPROVE_EXTENSION_REF)
    )
    return _rows(list(tasks), user=user)


def approvals_for(*, user: Any, now: datetime) -> list[TaskRow]:
    """'Freigaben': extension approvals of the supervisor's team that
    `user` may decide (never their own request), unassigned or taken by
    `user`."""
    if user.role != Role.SUPERVISOR or user.team_id is None:
        return []
    tasks = (
        _human_tasks_of(cases_visible_to(user=user, now=now))
        .filter(flow_task=APPROVE_EXTENSION_REF)
        .filter(
            Q(owner__isnull=True)
            | Q(owner=user)
            # taken by a supervisor who can no longer decide it (see
            # CaseTask.owner_gone): open to the team again
            | Q(owner__is_active=False)
            | ~Q(owner__role=Role.SUPERVISOR)
            | ~Q(owner__team_id=user.team_id)
        )
        .exclude(  # four eyes: never the supervisor's own waiting request
            process__caseprocess__case__in=ExtensionRequest.objects.filter(
                status=ExtensionStatus.SUBMITTED, requested_by=user
            ).values("case_id")
        )
    )
    return _rows(list(tasks), user=user)


@dataclass(frozen=True)
class NextStep:
    """An open human task of a case, as the case page offers it."""

    task: Task
    title: str
    url: str
    due: date | None
    may_open: bool


def case_next_steps(*, case: Case, user: Any) -> list[NextStep]:
    """Return the open human tasks of `case` (a case visible to `user`),
    oldest first, with whether `user` may open each one now."""
    tasks = (
        Task.objects.filter(
            process__caseprocess__case_id=case.pk, flow_task_type="HUMAN", status__in=HUMAN_OPEN
        )
        .select_related("owner")
        .order_by("pk")
    )
    steps = []
    for task in tasks:
        node = task.flow_task
        steps.append(
            NextStep(
                task=task,
                title=str(node.task_title),
                url=node.reverse("execute", args=[task.process_id, task.pk]),
                due=node.due(case),
                may_open=node._may_open(user, task),
            )
        )
    return steps
