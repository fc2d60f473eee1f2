"""Keeping the open work of a case in step with the case.

The case row says where the case is; a `CaseProcess` of `CaseFlow` holds
the work that is open. Two ways move a case:

- a guided task of the flow: the task view calls the case service and
  completes the task in the same transaction
  (`context.acting(..., case_id=...)`); the flow's gateways then route on
  `case.status`;
- anything else (API, sweeps, case actions): the case service reports the
  change inside its transaction, and `case_flow_sync` replaces the open
  process by one started at the case's new state (`case_flow_restart`),
  under the case row lock the service already holds.

The restart writes the rows of the new process itself instead of running
viewflow's start machinery: see `workflows.fastpaths`. When the open tasks
are already exactly the planned ones, nothing is written.

Task events (assigned, completed, cancelled; never "started", which viewflow
fires on a GET) go into the case's audit chain with the actor and `now` of
the change that caused them (`context.task_event`).
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import User
from audit import services as audit_services
from cases.effects import CaseChange, ChangeKind
from cases.models import CLOCK_STATES, OPEN_STATES, Case
from workflows import context, fastpaths
from workflows.facts import case_facts
from workflows.flows import CaseFlow, review_due
from workflows.models import CaseProcess


def case_flow_restart(
    *, case: Case, actor: User | None, now: datetime, force: bool = False
) -> int | None:
    """Replace the open work of `case` by a process started at its current
    state (none once the case is closed, rejected or deleted); return the
    pk of the case's open process afterwards (None: no open process).

    The caller holds the case row lock (a case service, or the flow lock).
    Every writer of a case's process and task rows takes that lock first
    (`workflows.lock.CaseLock`, the case services), so no further lock is
    needed. Unless `force`, a case whose open tasks are already exactly the
    planned ones keeps its process and nothing is written.
    """
    with context.acting(actor=actor, now=now, case_id=case.pk), transaction.atomic(savepoint=False):
        context.remember(case)  # the caller's locked row, as its change left it
        # Both branches of a case whose clock runs ask every gateway fact:
        # read with the open tasks, in one statement.
        with_facts = case.status in OPEN_STATES and case.status in CLOCK_STATES
        # This read touches no row the change's held UPDATE and event write
        # (audit.services.held_events): they may wait for the write below.
        with audit_services.held_kept():
            tasks, facts = fastpaths.open_rows_and_facts(case.pk, with_facts=with_facts)
        process, planned, clock = None, [], timezone.now()
        if case.status in OPEN_STATES:
            process = CaseProcess(flow_class=CaseFlow, case=case)
            process._lotse_case = case  # what the gateways read (facts.case_of)
            if facts is not None:
                case_facts(SimpleNamespace(process=process)).read_all(facts)
            planned = fastpaths.flow_plan(process, clock=clock)
            if not force and fastpaths.same_work(tasks, planned):
                return tasks[0].process_id if tasks else None
        if process is None:
            fastpaths.open_work_cancel(tasks, case_id=case.pk, now=now)
            return None
        # The open work cancelled and the new process written together.
        fastpaths.process_write(process, planned, clock=clock, cancel=tasks, now=now)
        return None if process.status == PROCESS.DONE else process.pk


def review_timer_reschedule(*, case: Case, actor: User | None, now: datetime) -> int:
    """Move the open review timer of `case` to its new `next_review_at`
    (the caller holds the case row lock); return how many timers moved."""
    return Task.objects.filter(
        process__caseprocess__case_id=case.pk,
        flow_task=CaseFlow.review_timer,
        status=STATUS.SCHEDULED,
    ).update(scheduled=review_due(case))


def case_flow_sync(change: CaseChange) -> None:
    """Bring the open work of the case in step after `change` (see module
    doc); a handler of `cases.effects`."""
    case, actor, now = change.case, change.actor, change.now
    if context.is_driving(case.pk):
        context.remember(case)
        return
    if change.kind is ChangeKind.REVIEW_DATE:
        review_timer_reschedule(case=case, actor=actor, now=now)
        return
    case_flow_restart(case=case, actor=actor, now=now)


def case_flow_repair(*, case_id: int, now: datetime) -> int | None:
    """Restart the flow of one case at its state (operations: cases whose
    open work does not fit, for example cases created before the workflows
    existed). Locks the case row first, like every case service."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        return case_flow_restart(case=case, actor=None, now=now, force=True)
