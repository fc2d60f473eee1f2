"""The system check of workflows/checks.py (RELIABILITY.md W3, ARCHITECTURE.md traps).

The check walks every `Flow` subclass outside viewflow (`__subclasses__`), so
each test defines its throwaway flow inside a builder function, runs the
check, and drops the class again: `check_errors_of` deletes it, collects it
and asserts that the check no longer sees it, so no other test (and no later
`manage.py check` in the same process) ever meets it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from django.core.checks import Error, run_checks
from django.core.management import call_command
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import no_lock

from workflows import views
from workflows.checks import _lotse_flows, check_flows
from workflows.flows import DECIDE, WORK, CaseFlow
from workflows.lock import case_lock
from workflows.models import CaseProcess
from workflows.nodes import SUPERVISOR, CaseTask, End, StartHandle

TASK_VIEW = views.ExtensionCheckView.as_view()


def _nobody(activation: Any) -> None:
    return None


def _flow(name: str, task: Any, *, lock: Any = case_lock) -> type:
    """A minimal flow: start, one task, end (CaseProcess, so that viewflow
    adds no permission to another model's meta)."""

    def start_process(self: Any, activation: Any) -> Any:
        return activation.process

    attributes = {
        "__module__": __name__,
        "__doc__": f"{name}\n\nA throwaway flow of tests/workflows/test_checks.py.",
        "process_class": CaseProcess,
        "lock_impl": lock,
        "start": StartHandle(this.start_process).Next(this.task),
        "task": task.Next(this.end),
        "end": End(),
        "start_process": start_process,
    }
    return type(flow.Flow)(name, (flow.Flow,), attributes)


def check_errors_of(build: Callable[[], type]) -> list[tuple[str, str]]:
    """Define a flow with `build`, return (id, message) of the check's errors
    about it (through the registered check as well), then remove the flow."""
    flow_class = build()
    name = flow_class.__name__
    try:
        assert flow_class in _lotse_flows()
        direct = [(e.id, e.msg) for e in check_flows(None) if e.msg.startswith(f"{name}")]
        registered = [
            (e.id, e.msg)
            for e in run_checks()
            if isinstance(e, Error) and (e.id or "").startswith("workflows.")
        ]
        assert sorted(direct) == sorted(
            error for error in registered if error[1].startswith(name)
        ), "check_flows is not the registered check"
    finally:
        del flow_class
        gc.collect()
    assert name not in {f.__name__ for f in _lotse_flows()}, f"{name} is still alive"
    return direct


def ids(errors: list[tuple[str, str]]) -> list[str]:
    return sorted(error_id for error_id, _message in errors)


def test_the_real_flows_pass_the_check() -> None:
    assert CaseFlow in _lotse_flows()
    assert check_flows(None) == []  # nor any flow another test left behind
    call_command("check")  # raises SystemCheckError on any error


def test_a_correct_throwaway_flow_passes() -> None:
    errors = check_errors_of(
        lambda: _flow("FineFlow", CaseTask(TASK_VIEW).Permission(WORK).Assign(_nobody))
    )
    assert errors == []


def test_a_flow_with_the_default_lock_is_an_error() -> None:
    errors = check_errors_of(
        lambda: _flow(
            "UnlockedFlow", CaseTask(TASK_VIEW).Permission(WORK).Assign(_nobody), lock=no_lock
        )
    )
    assert ids(errors) == ["workflows.E001"]
    assert "UnlockedFlow has no real lock" in errors[0][1]


def test_a_flow_that_inherits_no_lock_is_an_error() -> None:
    def build() -> type:
        flow_class = _flow(
            "InheritedLockFlow", CaseTask(TASK_VIEW).Permission(WORK).Assign(_nobody)
        )
        del flow_class.lock_impl  # back to viewflow's default no_lock
        return flow_class

    assert ids(check_errors_of(build)) == ["workflows.E001"]


def test_a_human_task_without_a_permission_floor_is_an_error() -> None:
    errors = check_errors_of(lambda: _flow("NoFloorFlow", CaseTask(TASK_VIEW).Assign(_nobody)))
    assert errors == [("workflows.E003", "NoFloorFlow.task has no permission floor.")]


def test_a_human_task_without_an_assignee_is_an_error() -> None:
    errors = check_errors_of(lambda: _flow("NoAssigneeFlow", CaseTask(TASK_VIEW).Permission(WORK)))
    assert errors == [("workflows.E004", "NoAssigneeFlow.task has no assignee.")]


def test_a_supervisor_task_needs_no_assignee_but_a_floor() -> None:
    assert (
        check_errors_of(
            lambda: _flow("QueueFlow", CaseTask(TASK_VIEW, who=SUPERVISOR).Permission(DECIDE))
        )
        == []
    )
    errors = check_errors_of(lambda: _flow("BareQueueFlow", CaseTask(TASK_VIEW, who=SUPERVISOR)))
    assert ids(errors) == ["workflows.E003"]


def test_a_task_with_an_undo_route_is_an_error() -> None:
    class UndoableTask(CaseTask):
        undo_view_class = views.TaskDetailView  # any view: the route exists again
        undo_path = flow.View.undo_path

    errors = check_errors_of(
        lambda: _flow("UndoFlow", UndoableTask(TASK_VIEW).Permission(WORK).Assign(_nobody))
    )
    assert errors == [("workflows.E002", "UndoFlow.task offers the route undo_path.")]


def test_viewflows_own_human_node_offers_undo_revive_and_cancel() -> None:
    errors = check_errors_of(
        lambda: _flow("PlainFlow", flow.View(TASK_VIEW).Permission(WORK).Assign(_nobody))
    )
    assert sorted(message for _id, message in errors) == [
        "PlainFlow.task offers the route cancel_path.",
        "PlainFlow.task offers the route revive_path.",
        "PlainFlow.task offers the route undo_path.",
    ]
    assert set(ids(errors)) == {"workflows.E002"}


def test_viewflows_own_start_and_end_nodes_offer_undo_and_revive() -> None:
    def build() -> type:
        def start_process(self: Any, activation: Any) -> Any:
            return activation.process

        return type(flow.Flow)(
            "PlainEndsFlow",
            (flow.Flow,),
            {
                "__module__": __name__,
                "process_class": CaseProcess,
                "lock_impl": case_lock,
                "start": flow.StartHandle(this.start_process).Next(this.task),
                "task": CaseTask(TASK_VIEW).Permission(WORK).Assign(_nobody).Next(this.end),
                "end": flow.End(),
                "start_process": start_process,
            },
        )

    messages = sorted(message for _id, message in check_errors_of(build))
    assert messages == [
        "PlainEndsFlow.end offers the route revive_path.",
        "PlainEndsFlow.end offers the route undo_path.",
        "PlainEndsFlow.start offers the route undo_path.",
    ]


def test_every_flow_problem_is_reported_at_once() -> None:
    errors = check_errors_of(
        lambda: _flow("EverythingWrongFlow", flow.View(TASK_VIEW), lock=no_lock)
    )
    assert ids(errors) == [
        "workflows.E001",
        "workflows.E002",
        "workflows.E002",
        "workflows.E002",
        "workflows.E003",
        "workflows.E004",
    ]


def test_the_stored_node_names_the_reads_filter_on_are_the_flows_own(monkeypatch: Any) -> None:
    from viewflow.workflow.fields import get_task_ref

    from workflows import models

    assert get_task_ref(CaseFlow.approve_extension) == models.APPROVE_EXTENSION_REF
    assert get_task_ref(CaseFlow.extension_check) == models.EXTENSION_CHECK_REF
    assert [e.id for e in check_flows(None) if e.id == "workflows.E005"] == []

    monkeypatch.setattr(models, "APPROVE_EXTENSION_REF", "workflows/flows.CaseFlow.renamed")

    assert [(e.id, e.msg) for e in check_flows(None) if e.id == "workflows.E005"] == [
        (
            "workflows.E005",
            "'workflows/flows.CaseFlow.renamed' is not the stored name of "
            "CaseFlow.approve_extension ('workflows/flows.CaseFlow.approve_extension').",
        )
    ]
