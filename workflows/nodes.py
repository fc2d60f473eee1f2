"""viewflow nodes as Lotse uses them.

Every route a node offers is either guarded here or removed:

- human tasks (`CaseTask`) keep only `execute`, `detail`, `assign` and
  `unassign`, each wrapped by `guarded`: the task must belong to the
  process named in the URL and to this node (404 otherwise; viewflow locks
  the URL's process without checking), the case must be visible to the user
  through the case access selector (404), the user must be allowed to work
  on the task (403), and a POST runs under the flow lock (case row, then
  process row) in one transaction;
- undo, revive and cancel routes do not exist: they would change tasks
  without touching `Case.status`; corrections are case services;
- gateways, timers, start and end nodes have no routes at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.utils import is_owner
from viewflow.workflow import flow, nodes
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context as viewflow_context
from viewflow.workflow.exceptions import FlowLockFailed, FlowRuntimeError
from viewflow.workflow.models import Task
from viewflow.workflow.nodes.view import ViewActivation

from accounts.models import Role
from accounts.selectors import deputy_principal_ids
from cases.atomic import all_or_nothing
from workflows import context
from workflows.facts import case_of, forget_case
from workflows.selectors import task_get_for_user, waiting_extension_request
from workflows.views import Refused, TaskAssignView, TaskDetailView, TaskRequest, TaskUnassignView

# Who works on a human task.
OWNER = "owner"  # the case's integration manager (or a deputy right now)
SUPERVISOR = "supervisor"  # a supervisor of the case's team, never the requester


class CaseTaskActivation(ViewActivation):
    """A human task whose assignment, completion and cancellation are
    audit events of the case."""

    @classmethod
    def create(cls, flow_task: Any, prev_activation: Any, token: Any, data=None, seed=None):
        activation = super().create(flow_task, prev_activation, token, data=data, seed=seed)
        if activation.task.owner_id is not None:
            context.task_event(activation.task, "assigned")
        return activation

    @Activation.status.super()
    def assign(self, user: Any) -> None:
        super().assign.original(user)
        context.task_event(self.task, "assigned")

    @Activation.status.super()
    def reassign(self, user: Any = None) -> None:
        super().reassign.original(user)
        context.task_event(self.task, "assigned")

    @Activation.status.super()
    def complete(self) -> None:
        super().complete.original()
        forget_case(self.process)  # route on the case as the task left it
        context.task_event(self.task, "completed")

    @Activation.status.super()
    def cancel(self) -> None:
        super().cancel.original()
        context.task_event(self.task, "cancelled")


def _busy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workflows/conflict.html",
        {
            "message": _(
                "Someone else is working on this case right now. Please try again in a moment."
            )
        },
        status=409,
    )


def guarded(
    node: CaseTask, origin_view: Callable[..., HttpResponseBase], permission: Callable[..., bool]
) -> Callable[..., HttpResponseBase]:
    """Wrap a task view with the checks described in the module docstring."""

    def view(
        request: HttpRequest, process_pk: int, task_pk: int, **kwargs: Any
    ) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        guarded_request = cast("TaskRequest", request)  # signed in; gets the three below
        now = timezone.now()
        task, case = task_get_for_user(
            user=request.user, process_pk=process_pk, task_pk=task_pk, node=node, now=now
        )

        def call() -> HttpResponseBase:
            if not permission(request.user, task):
                raise PermissionDenied(_("This task is not yours to work on."))
            guarded_request.activation = node.activation_class(task)
            guarded_request.case = case
            guarded_request.now = now
            return origin_view(request, process_pk=process_pk, task_pk=task_pk, **kwargs)

        if request.method != "POST":
            return call()
        try:
            with (
                context.acting(actor=request.user, now=now, case_id=case.pk),
                node.flow_class.lock(process_pk),
                all_or_nothing(),  # every error below rolls back the whole request
            ):
                # Decide on the row as it is now that nobody else can change it.
                process = task.process
                task.refresh_from_db()
                task.process = process  # the CaseProcess read above; its id cannot change
                return call()
        except FlowLockFailed:
            return _busy(request)
        except Refused as refused:
            return refused.respond()

    view.__name__ = getattr(origin_view, "__name__", "task_view")
    view.__doc__ = origin_view.__doc__
    return view


class CaseTask(flow.View):
    """A human task of the case flow."""

    activation_class = CaseTaskActivation

    # No engine-level corrections: they bypass Case.status.
    cancel_view_class = None
    undo_view_class = None
    revive_view_class = None
    index_path = None
    cancel_path = None
    undo_path = None
    revive_path = None
    reassign_path = None

    def __init__(self, view: Any, *, who: str = OWNER, **kwargs: Any) -> None:
        super().__init__(view, **kwargs)
        self.who = who
        self._due: Callable[[Any], date | None] | None = None
        self.list_title = ""

    def Due(self, due: Callable[[Any], date | None]) -> CaseTask:
        """When the task is due, computed from the case (never stored)."""
        self._due = due
        return self

    def due(self, case: Any) -> date | None:
        return self._due(case) if self._due is not None else None

    def owner_id_for(self, activation: Any) -> int | None:
        """The id of the user `.Assign()` gives the task (the case's owner),
        read from the case row without loading the user; None for a
        supervisor's task, which waits unassigned in the team's queue."""
        return case_of(activation).owner_id if self.who == OWNER else None

    # --- who may work on it ------------------------------------------------

    def _permitted(self, user: Any, task: Task) -> bool:
        return (
            user.is_authenticated
            and user.is_active
            and bool(task.owner_permission)
            and user.has_perm(task.owner_permission)
        )

    def _case(self, task: Task) -> Any:
        return task.process.coerced.case

    def can_execute(self, user: Any, task: Task) -> bool:
        if not self._permitted(user, task):
            return False
        if self.who == SUPERVISOR:
            return self._supervisor_may_decide(user, task) and (
                task.owner_id is None or is_owner(task.owner, user) or self.owner_gone(task)
            )
        if is_owner(task.owner, user):
            return True
        return (
            task.owner_id is not None
            and user.role == Role.INTEGRATION_MANAGER
            and task.owner_id in deputy_principal_ids(user=user, now=context.current().now)
        )

    def can_assign(self, user: Any, task: Task) -> bool:
        return (
            self.who == SUPERVISOR
            and task.owner_id is None
            and self._permitted(user, task)
            and self._supervisor_may_decide(user, task)
        )

    def can_unassign(self, user: Any, task: Task) -> bool:
        return self.who == SUPERVISOR and task.owner_id is not None and is_owner(task.owner, user)

    def owner_gone(self, task: Task) -> bool:
        """A supervisor took the approval and can no longer decide it
        (deactivated, moved to another team or role): any supervisor of the
        team may take it over instead of it being stuck."""
        owner = task.owner
        if self.who != SUPERVISOR or owner is None:
            return False
        return (
            not owner.is_active
            or owner.role != Role.SUPERVISOR
            or owner.team_id != self._case(task).owner.team_id
        )

    def _supervisor_may_decide(self, user: Any, task: Task) -> bool:
        case = self._case(task)
        if user.role != Role.SUPERVISOR or user.team_id is None:
            return False
        if case.owner.team_id != user.team_id:
            return False
        request = waiting_extension_request(case)
        return request is None or request.requested_by_id != user.pk  # four-eyes

    # --- routes --------------------------------------------------------------

    @property
    def view_path(self) -> Any:
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/execute/",
            guarded(self, self.view, self._may_open),
            name="execute",
        )

    @property
    def detail_path(self) -> Any:
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/detail/",
            guarded(self, TaskDetailView.as_view(), lambda user, task: True),
            name="detail",
        )

    @property
    def assign_path(self) -> Any:
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/assign/",
            guarded(self, TaskAssignView.as_view(), lambda user, task: True),
            name="assign",
        )

    @property
    def unassign_path(self) -> Any:
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/unassign/",
            guarded(self, TaskUnassignView.as_view(), lambda user, task: True),
            name="unassign",
        )

    def _may_open(self, user: Any, task: Task) -> bool:
        """Open the task form: the one who may execute it, or (for an open
        approval) a supervisor who may take it."""
        return self.can_execute(user, task) or self.can_assign(user, task)


def _node_atomic() -> transaction.Atomic:
    """The transaction of a gateway's or timer's activation.

    viewflow sets a savepoint there so that a failed node can be marked
    ERROR while the rest of the step goes on. That happens only where
    exceptions do not propagate: the timer dispatcher
    (`Context(propagate_exception=False)`), which keeps its savepoint. On a
    guided step the exception propagates and the whole request rolls back,
    so the savepoint (two statements per node) protects nothing.
    """
    return transaction.atomic(savepoint=not viewflow_context.propagate_exception)


class SwitchActivation(nodes.SwitchActivation):
    """viewflow's switch, with a savepoint only where it can matter."""

    @Activation.status.super()
    def activate(self) -> None:
        with self.exception_guard(), _node_atomic():
            for node, condition in self.flow_task._branches:  # as viewflow's
                if condition:
                    if condition(self):
                        self.next_task = node
                        break
                else:
                    self.next_task = node
            if not self.next_task:
                raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class TimerActivation(nodes.TimerActivation):
    """viewflow's database timer, with a savepoint only where it can matter."""

    @Activation.status.super()
    def activate(self) -> None:
        with self.exception_guard(), _node_atomic():
            delay = self.flow_task._delay  # as viewflow's
            if callable(delay):
                delay = delay(self)
            if isinstance(delay, timedelta):
                delay = timezone.now() + delay
            if not isinstance(delay, datetime):
                raise ValueError(f"Timer delay must be a timedelta or datetime, got {delay!r}")
            self.task.scheduled = delay
            self.task.save()


class _NoRoutes:
    index_path = None
    detail_path = None
    cancel_path = None
    undo_path = None
    revive_path = None
    execute_path = None


class StartHandle(_NoRoutes, flow.StartHandle):
    pass


class Switch(_NoRoutes, flow.Switch):
    activation_class = SwitchActivation


class Split(_NoRoutes, flow.Split):
    pass


class Timer(_NoRoutes, flow.Timer):
    activation_class = TimerActivation


class End(_NoRoutes, flow.End):
    pass
