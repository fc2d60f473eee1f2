"""The restart writes what viewflow's own start writes, in few statements.

`engine.case_flow_restart` does not run `CaseFlow.start.run()`: it plans
the rows with the flow's gateways (`engine.flow_plan`) and writes them
itself. For every branch of the flow these tests start the flow both ways
on the same case, at the same frozen moment, and compare the process, every
task row (node, type, status, owner, permission, timer, timestamps, token,
`previous` links) and the audit events, with only the new pks told apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from audit.models import AuditEvent
from cases import services
from cases.models import Case, CaseStatus
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, journey_to, manager_in, new_case, supervisor_of
from workflows import engine
from workflows.flows import CaseFlow
from workflows.invariants import open_work, open_work_problems
from workflows.models import CaseProcess

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(days=40)


# --- cases at every branch of the flow -----------------------------------------


def handover_to_accept() -> Case:
    return new_case()


def handover_accepted() -> Case:
    owner = manager_in(TeamFactory())
    return new_case(owner=owner, handover_accepted_at=T0)


def plan_declined() -> Case:
    case = journey_to(CaseStatus.PLANNING)
    return services.case_transition(
        case=case, name="decline_plan", actor=case.owner, now=T0, reason="Kein Plan gewünscht"
    )


def request_waiting(case: Case | None = None) -> Case:
    case = case or journey_to(CaseStatus.ACTIVE)
    services.extension_request_submit(
        case=case,
        actor=case.owner,
        now=T0 + timedelta(days=30),
        reason="multiple_problems",
        months=6,
        justification="Mehrere Problemlagen.",
    )
    case.refresh_from_db()
    return case


def extension_approved(case: Case | None = None) -> Case:
    case = request_waiting(case)
    request = case.extension_requests.get()
    services.extension_request_approve(
        request=request, actor=supervisor_of(case.owner.team), now=T0 + timedelta(days=31)
    )
    case.refresh_from_db()
    return case


def every_branch_ended() -> Case:
    """Plan declined and the one extension approved: nothing stays open."""
    return extension_approved(plan_declined())


BRANCHES: dict[str, tuple[Callable[[], Case], list[str]]] = {
    "accept_handover": (handover_to_accept, ["accept_handover"]),
    "first_consultation": (handover_accepted, ["first_consultation"]),
    "needs_assessment": (
        lambda: journey_to(CaseStatus.INITIAL_COUNSELLING),
        ["extension_timer", "needs_assessment"],
    ),
    "integration_plan": (
        lambda: journey_to(CaseStatus.PLANNING),
        ["extension_timer", "integration_plan"],
    ),
    "review_timer": (lambda: journey_to(CaseStatus.ACTIVE), ["extension_timer", "review_timer"]),
    "phase_end": (plan_declined, ["extension_timer"]),
    "approve_extension": (request_waiting, ["approve_extension", "review_timer"]),
    "extension_end": (extension_approved, ["review_timer"]),
    "end_of_both_branches": (every_branch_ended, []),
    "resume": (lambda: journey_to(CaseStatus.DORMANT), ["extension_timer", "resume"]),
    "final_referral": (lambda: journey_to(CaseStatus.CLOSING), ["final_referral"]),
}


# --- the two ways to start ------------------------------------------------------


def start_by_engine(case: Case) -> int:
    """What the restart did before: viewflow's start machinery."""
    with (
        engine.acting(actor=None, now=LATER, case_id=case.pk),
        transaction.atomic(),
    ):
        engine.remember(case)
        return CaseFlow.start.run(case=case).pk


def start_directly(case: Case) -> int:
    process = CaseProcess(flow_class=CaseFlow, case=case)
    process._lotse_case = case
    with (
        engine.acting(actor=None, now=LATER, case_id=case.pk),
        transaction.atomic(),
    ):
        engine._write(
            process, engine.flow_plan(process, clock=timezone.now()), clock=timezone.now()
        )
    return process.pk


def written(process_pk: int) -> dict[str, Any]:
    """The rows a start wrote, in node name order, each pk replaced by its
    row's number in that order (a start reaches each node once; the order
    in which the engine writes the rows of one step follows its pks' hash
    order, so it is no part of what a start means)."""
    process = CaseProcess.objects.get(pk=process_pk)
    tasks = sorted(Task.objects.filter(process_id=process_pk), key=lambda t: t.flow_task.name)
    number = {task.pk: index for index, task in enumerate(tasks)}

    def token(value: Any) -> str:
        return re.sub(r"/(\d+)_", lambda m: f"/#{number[int(m.group(1))]}_", str(value))

    events = AuditEvent.objects.filter(
        event_type__startswith="workflows.task.", data__process_id=process_pk
    ).order_by("seq")
    return {
        "process": (
            process.flow_class,
            process.status,
            process.case_id,
            process.created,
            process.finished,
            process.data,
            process.parent_task_id,
            process.seed_object_id,
            process.artifact_object_id,
        ),
        "tasks": [
            (
                task.flow_task,
                task.flow_task_type,
                task.status,
                task.owner_id,
                task.owner_permission,
                task.owner_permission_content_type_id,
                task.owner_permission_obj_pk,
                task.created,
                task.assigned,
                task.started,
                task.finished,
                task.scheduled,
                token(task.token),
                task.external_task_id,
                task.data,
                task.seed_object_id,
                task.artifact_object_id,
                sorted(number[previous.pk] for previous in task.previous.all()),
            )
            for task in tasks
        ],
        "events": [
            (
                event.event_type,
                event.actor_id,
                event.object_type,
                number[int(event.object_id)],
                event.reason,
                event.data["task"],
                event.data["owner_id"],
            )
            for event in events
        ],
    }


@pytest.mark.parametrize("branch", list(BRANCHES))
def test_the_direct_start_writes_what_viewflows_start_writes(branch: str) -> None:
    build, expected_work = BRANCHES[branch]
    case = build()
    case = Case.objects.get(pk=case.pk)

    with time_machine.travel(LATER, tick=False):
        by_engine = written(start_by_engine(case))
        directly = written(start_directly(case))

    assert directly == by_engine
    open_names = sorted(
        row[0].name for row in directly["tasks"] if row[2] not in (STATUS.DONE, STATUS.CANCELED)
    )
    open_names = [name for name in open_names if name not in ("phase_end", "extension_end")]
    assert open_names == expected_work
    assert (directly["process"][1] == PROCESS.DONE) == (expected_work == [])


# --- the restart ------------------------------------------------------------------


def restart(case: Case, **kwargs: Any) -> int | None:
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        return engine.case_flow_restart(case=locked, actor=None, now=LATER, **kwargs)


def test_a_restart_that_changes_no_open_work_writes_nothing() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    process = engine.open_process(case)
    tasks = list(Task.objects.filter(process__caseprocess__case=case).values())
    events = AuditEvent.objects.filter(case_id=case.pk).count()

    with CaptureQueriesContext(connection) as queries:
        assert restart(case) == process.pk

    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert list(Task.objects.filter(process__caseprocess__case=case).values()) == tasks
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events


def test_a_case_whose_branches_all_ended_gets_no_further_finished_process() -> None:
    case = every_branch_ended()
    processes = CaseProcess.objects.filter(case=case).count()

    assert restart(case) is None

    assert CaseProcess.objects.filter(case=case).count() == processes
    assert engine.open_process(case) is None
    assert open_work_problems(case) == []


def test_a_forced_restart_replaces_the_process_with_the_same_work() -> None:
    case = journey_to(CaseStatus.DORMANT)
    old = engine.open_process(case)
    [resume] = [t for t in engine.open_tasks(case) if t.flow_task == CaseFlow.resume]

    new_pk = restart(case, force=True)

    old.refresh_from_db()
    resume.refresh_from_db()
    assert (old.status, old.finished) == (PROCESS.CANCELED, LATER)
    assert (resume.status, resume.finished) == (STATUS.CANCELED, LATER)
    assert engine.open_process(case).pk == new_pk != old.pk
    assert open_work(case) == ["extension_timer", "resume"]
    assert open_work_problems(case) == []
    assert list(
        AuditEvent.objects.filter(case_id=case.pk, seq__gt=0)
        .order_by("-seq")
        .values_list("event_type", "reason")[:2]
    ) == [("workflows.task.assigned", "resume"), ("workflows.task.cancelled", "resume")]


def test_a_restart_of_a_closed_case_cancels_its_work_and_starts_nothing() -> None:
    case = journey_to(CaseStatus.CLOSING)
    old = engine.open_process(case)
    services.referral_record(
        case=case,
        actor=case.owner,
        now=T0,
        referred_on=T0.date(),
        target_service="mbe",
        mode="APPOINTMENT_ARRANGED",
        is_final=True,
        outcome="TAKEN_UP",
    )
    with transaction.atomic(), engine.acting(actor=case.owner, now=T0, case_id=case.pk):
        # As if the closure had not reached the flow (a driving task that failed to end).
        services.case_transition(
            case=case, name="close", actor=case.owner, now=T0, closure_reason="goals_achieved"
        )
    assert open_work(case) == ["final_referral"]

    assert restart(case) is None

    old.refresh_from_db()
    assert old.status == PROCESS.CANCELED
    assert engine.open_process(case) is None
    assert open_work(case) == []


def test_a_restart_takes_a_fixed_number_of_statements() -> None:
    """Set-based: cancelling and writing cost the same few statements
    whatever the flow's shape (no statement per node or per task)."""
    case = journey_to(CaseStatus.ACTIVE)
    services.case_transition(case=case, name="pause", actor=case.owner, now=T0, reason="OTHER")
    # DORMANT: resume and extension_timer open; a resume goes back to ACTIVE.
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        with CaptureQueriesContext(connection) as queries:
            engine.case_flow_restart(case=locked, actor=case.owner, now=LATER, force=True)

    # open tasks, gateway facts, cancel tasks, cancel processes, the
    # process and its case process, task rows (one INSERT per split depth:
    # 2), previous links; besides, one audit append per task event.
    if connection.vendor == "postgresql":
        # Issue 23 (was 7 and one per event): the open tasks with the facts;
        # the cancels, the process, its case process, every task row, the
        # links and the task events (cancelled, then assigned) in one write
        # (workflows.fastpaths._write_in_one).
        statements = [q["sql"] for q in queries]
        assert len(statements) == 2, "\n".join(sql[:120] for sql in statements)
    else:
        flow = [q["sql"] for q in queries if "audit_auditevent" not in q["sql"]]
        assert len(flow) == 9, "\n".join(sql[:120] for sql in flow)
    assert list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("-seq")
        .values_list("event_type", "reason")[:2]
    ) == [("workflows.task.assigned", "resume"), ("workflows.task.cancelled", "resume")]
