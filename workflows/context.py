"""Who and when the flow work under way acts for, and the row it drives.

Flow work runs on behalf of an actor at a time (`acting`). While a guided
task drives its case (`acting(..., case_id=...)`), the case services it
calls must not restart that case's process (`is_driving`), and the flow's
gateways route on the row the last case service left (`remember`,
`remembered`) instead of selecting it again.

This module sits at the bottom of the `workflows` app: it imports no other
module of the app except the models, so nodes, flows, views and services
can all use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from audit.services import SYSTEM_ROLE, audit_event_new, audit_event_record
from cases.models import Case
from workflows.models import CaseProcess


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
    state = Acting(actor=actor, now=now, driving_case_id=case_id)
    token = _acting.set(state)
    try:
        yield state
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

    Case services report their change with the locked row as they left it;
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


def _task_event_fields(task: Any, kind: str, case_id: int | None) -> dict[str, Any]:
    state = current()
    if case_id is None:
        process = task.process
        case_id = (process if isinstance(process, CaseProcess) else process.coerced).case_id
    return {
        "event_type": f"workflows.task.{kind}",
        "actor": state.actor,
        "actor_role": SYSTEM_ROLE if state.actor is None else state.actor.role,
        "now": state.now,
        "object_type": "task",
        "object_id": task.pk,
        "case_id": case_id,
        "reason": task.flow_task.name,
        "data": {
            "task": task.flow_task.name,
            "process_id": task.process_id,
            "owner_id": task.owner_id,
        },
    }


def task_event(task: Any, kind: str, *, case_id: int | None = None) -> None:
    """Append `workflows.task.<kind>` to the case's audit chain.

    Runs inside the flow lock or a case service, both of which hold the
    case row lock that serialises the chain. `case_id` spares reading the
    task's process when the caller knows the case.
    """
    audit_event_record(**_task_event_fields(task, kind, case_id), chain_locked=True)


def task_event_new(task: Any, kind: str, *, case_id: int) -> AuditEvent:
    """The event `task_event` appends, unsaved: for a writer that appends it
    within its own statement (`audit.services.append_statement`), under the
    same case row lock."""
    return audit_event_new(**_task_event_fields(task, kind, case_id))
