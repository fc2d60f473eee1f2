"""Keeping the open work of a case in step with the case.

The case row says where the case is; a `CaseProcess` of `CaseFlow` holds
the work that is open. Two ways move a case:

- a guided task of the flow: the task view calls the case service and
  completes the task in the same transaction (`acting(..., driving=True)`);
  the flow's gateways then route on `case.status`;
- anything else (API, sweeps, case actions): the case service sends
  `cases.signals.case_changed` inside its transaction, and
  `case_flow_sync` cancels the open process and starts the next one at the
  case's new state, under the case row lock the service already holds.

Task events (assigned, completed, cancelled; never "started", which viewflow
fires on a GET) go into the case's audit chain with the actor and `now` of
the change that caused them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import User
from audit.services import SYSTEM_ROLE, audit_event_record
from cases.models import OPEN_STATES, Case
from workflows.models import CaseProcess

OPEN_TASK_STATES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.SCHEDULED, STATUS.ERROR)


@dataclass
class Acting:
    actor: User | None
    now: datetime
    driving_case_id: int | None = None
    # The driven case as the last case service left it (see `remember`).
    case: Case | None = None


_acting: ContextVar[Acting | None] = ContextVar("lotse_workflow_acting", default=None)


@contextmanager
def acting(*, actor: User | None, now: datetime, case_id: int | None = None) -> Iterator[Acting]:
    """Run flow work on behalf of `actor` at `now`.

    With `case_id`, the flow itself drives that case: the case services it
    calls must not restart its process.
    """
    token = _acting.set(Acting(actor=actor, now=now, driving_case_id=case_id))
    try:
        yield _acting.get()
    finally:
        _acting.reset(token)


def current() -> Acting:
    """The actor and time of the flow work under way (the system, now, if none)."""
    return _acting.get() or Acting(actor=None, now=timezone.now())


def is_driving(case_id: int) -> bool:
    state = _acting.get()
    return state is not None and state.driving_case_id == case_id


def remember(case: Case) -> None:
    """Keep the row a case service just wrote for the flow's gateways.

    Case services send `case_changed` with the locked row as they left it;
    while a task drives the case, routing after the task reads that row
    instead of selecting it again.
    """
    state = _acting.get()
    if state is not None and state.driving_case_id == case.pk:
        state.case = case


def remembered(case_id: int) -> Case | None:
    state = _acting.get()
    if state is not None and state.case is not None and state.case.pk == case_id:
        return state.case
    return None


def task_event(task: Any, kind: str) -> None:
    """Append `workflows.task.<kind>` to the case's audit chain.

    Runs inside the flow lock or a case service, both of which hold the
    case row lock that serialises the chain.
    """
    state = current()
    process = task.process.coerced if not isinstance(task.process, CaseProcess) else task.process
    audit_event_record(
        event_type=f"workflows.task.{kind}",
        actor=state.actor,
        actor_role=SYSTEM_ROLE if state.actor is None else state.actor.role,
        now=state.now,
        object_type="task",
        object_id=task.pk,
        case_id=process.case_id,
        reason=task.flow_task.name,
        data={"task": task.flow_task.name, "process_id": process.pk, "owner_id": task.owner_id},
        chain_locked=True,
    )


def open_process(case: Case | int) -> CaseProcess | None:
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


def case_flow_start(*, case: Case, actor: User | None, now: datetime) -> CaseProcess | None:
    """Start the case flow at the case's current state.

    The caller holds the case row lock (a case service, or the flow lock).
    Returns None for a case that is no longer open.
    """
    from workflows.flows import CaseFlow

    if case.status not in OPEN_STATES:
        return None
    with acting(actor=actor, now=now, case_id=case.pk), transaction.atomic():
        remember(case)  # the caller's locked row, as its change left it
        # StartHandle.run() calls the start function outside the engine's
        # transaction; this atomic block keeps start and first tasks together.
        return CaseFlow.start.run(case=case)


def process_cancel(process: CaseProcess, *, actor: User | None, now: datetime) -> None:
    """Cancel every open task of `process` and the process itself."""
    with (
        acting(actor=actor, now=now, case_id=process.case_id),
        process.flow_class.lock(process.pk),
    ):
        open_tasks = Task.objects.filter(process=process, status__in=OPEN_TASK_STATES)
        for task in open_tasks.order_by("pk"):
            task.process = process  # already the CaseProcess: no re-read per task
            activation = task.flow_task.activation_class(task)
            cancel = getattr(activation, "cancel", None)
            if cancel is not None and cancel.can_proceed():
                cancel()
            else:  # a started or failed task: no engine path cancels it
                task.status = STATUS.CANCELED  # viewflow row, not a case
                task.finished = now
                task.save(update_fields=["status", "finished"])
        process.status = PROCESS.CANCELED  # viewflow row, not a case
        process.finished = now
        process.save(update_fields=["status", "finished"])


def case_flow_restart(*, case: Case, actor: User | None, now: datetime) -> CaseProcess | None:
    """Cancel the open process of `case` and start the next one at its
    current state (none once the case is closed, rejected or deleted)."""
    current_process = open_process(case)
    if current_process is not None:
        process_cancel(current_process, actor=actor, now=now)
    return case_flow_start(case=case, actor=actor, now=now)


def review_timer_reschedule(*, case: Case, actor: User | None, now: datetime) -> int:
    """Move the open review timer of `case` to its new `next_review_at`."""
    from workflows.flows import CaseFlow, review_due

    process = open_process(case)
    if process is None:
        return 0
    moved = 0
    with acting(actor=actor, now=now, case_id=case.pk), CaseFlow.lock(process.pk):
        for task in Task.objects.filter(
            process=process, flow_task=CaseFlow.review_timer, status=STATUS.SCHEDULED
        ):
            task.scheduled = review_due(case)
            task.save(update_fields=["scheduled"])
            moved += 1
    return moved


def case_flow_sync(*, case: Case, change: str, actor: User | None, now: datetime) -> None:
    """Bring the open work of `case` in step after `change` (see module doc)."""
    if is_driving(case.pk):
        remember(case)
        return
    if change == "review_date":
        review_timer_reschedule(case=case, actor=actor, now=now)
        return
    case_flow_restart(case=case, actor=actor, now=now)


def case_flow_repair(*, case_id: int, now: datetime) -> CaseProcess | None:
    """Restart the flow of one case at its state (operations: cases whose
    open work does not fit, for example cases created before the workflows
    existed). Locks the case row first, like every case service."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        return case_flow_restart(case=case, actor=None, now=now)
