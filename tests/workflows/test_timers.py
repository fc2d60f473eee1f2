"""The flow's timers: plan review and extension check, fired by beat.

The waits of a case flow are viewflow timer tasks with their due moment in
the database; `workflows.tasks.fire_due_timers_task`, run by beat every
minute, fires the due ones under the flow lock. These tests run on SQLite
and PostgreSQL; the races at the end need PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import time as dtime
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from audit.services import SYSTEM_ROLE
from cases import services
from cases.models import Case, CaseStatus
from config.celery import app
from tests.cases.factories import T0, journey_to
from tests.workflows.test_concurrency import (
    Worker,
    backends_waiting_for_a_lock,
    login,
    on_postgres_with_commits,
    wait_until,
)
from workflows import engine, selectors
from workflows.flows import CaseFlow, extension_check_due, review_due
from workflows.invariants import open_work, open_work_problems
from workflows.tasks import fire_due_timers_task

MINUTE = timedelta(minutes=1)


# --- helpers -------------------------------------------------------------------


def tasks_of(case: Case, node: Any) -> list[Task]:
    """Every task of `node` in every process of `case`, whatever its status."""
    return list(Task.objects.filter(process__caseprocess__case=case, flow_task=node).order_by("pk"))


def the_open(case: Case, node: Any) -> Task:
    [task] = [t for t in engine.open_tasks(case) if t.flow_task == node]
    return task


def assigned_events(task: Task) -> Any:
    return AuditEvent.objects.filter(
        event_type="workflows.task.assigned", object_type="task", object_id=str(task.pk)
    )


def flow_state(case: Case) -> tuple[Any, ...]:
    """Everything the timer dispatcher could change for `case`."""
    tasks = Task.objects.filter(process__caseprocess__case=case).order_by("pk")
    return (
        [(t.pk, t.flow_task.name, t.status, t.owner_id, t.scheduled) for t in tasks],
        AuditEvent.objects.filter(case_id=case.pk).count(),
    )


# --- the review timer ------------------------------------------------------------


@pytest.mark.django_db
def test_a_due_review_timer_fired_by_beat_creates_the_review_task_for_the_manager() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    timer = the_open(case, CaseFlow.review_timer)
    due = review_due(case)
    assert timer.status == STATUS.SCHEDULED
    assert timer.scheduled == due
    # 08:00 Berlin time, the notice period before the review
    assert timezone.localdate(due) == case.next_review_at - timedelta(days=14)
    assert timezone.localtime(due).time() == dtime(8)
    before = flow_state(case)

    with time_machine.travel(due - MINUTE, tick=False):
        assert fire_due_timers_task() == 0
    assert flow_state(case) == before
    assert "review_plan" not in open_work(case)

    with time_machine.travel(due, tick=False):
        assert fire_due_timers_task() == 1

    timer.refresh_from_db()
    assert timer.status == STATUS.DONE
    review = the_open(case, CaseFlow.review_plan)
    assert review.owner_id == case.owner_id
    assert review.status == STATUS.ASSIGNED
    assert open_work(case) == ["extension_timer", "review_plan"]
    assert open_work_problems(case) == []
    [event] = assigned_events(review)
    assert (event.actor_id, event.actor_role) == (None, SYSTEM_ROLE)
    assert event.case_id == case.pk
    assert event.occurred_at == due
    assert event.data["owner_id"] == case.owner_id

    # The manager finds it in "Meine Aufgaben", due on the review date.
    with time_machine.travel(due + MINUTE, tick=False):
        [row] = selectors.inbox_for(user=case.owner, now=timezone.now())
        response = login(case.owner).get("/aufgaben/")
    assert row.task.pk == review.pk
    assert row.due == case.next_review_at
    assert response.status_code == 200
    page = response.content.decode()
    assert review.flow_task.reverse("execute", args=[review.process_id, review.pk]) in page
    assert case.next_review_at.strftime("%d.%m.%Y") in page


@pytest.mark.django_db
def test_a_beat_outage_only_delays_the_review_task_and_firing_twice_changes_nothing() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    due = review_due(case)

    # Beat was down for three weeks: the timer waited in the database.
    with time_machine.travel(due + timedelta(weeks=3), tick=False):
        assert fire_due_timers_task() == 1
        after_first = flow_state(case)
        assert fire_due_timers_task() == 0
        fire_due_timers_task.delay()  # as beat enqueues it (eager in tests)
    assert flow_state(case) == after_first

    [review] = tasks_of(case, CaseFlow.review_plan)
    assert review.status == STATUS.ASSIGNED
    assert review.owner_id == case.owner_id
    assert assigned_events(review).count() == 1
    [timer] = tasks_of(case, CaseFlow.review_timer)
    assert timer.status == STATUS.DONE
    assert open_work_problems(case) == []


# --- moving the review date --------------------------------------------------------


def new_review_date(case: Case) -> Any:
    moved = case.next_review_at + timedelta(days=30)
    assert moved <= case.effective_end
    return moved


@pytest.mark.django_db
def test_moving_the_review_date_on_the_case_page_reschedules_the_open_timer() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    process = engine.open_process(case)
    timer = the_open(case, CaseFlow.review_timer)
    old_due, moved = timer.scheduled, new_review_date(case)

    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        response = login(case.owner).post(
            f"/aufgaben/fall/{case.pk}/aktion/review_date/",
            {"next_review_at": moved.isoformat()},
        )
    assert response.status_code == 302, response.content.decode()[:2000]

    case.refresh_from_db()
    timer.refresh_from_db()
    assert case.next_review_at == moved
    assert timer.status == STATUS.SCHEDULED
    assert timer.scheduled == review_due(case) == old_due + timedelta(days=30)
    assert tasks_of(case, CaseFlow.review_timer) == [timer]  # moved, not replaced
    assert engine.open_process(case).pk == process.pk  # no restart
    assert open_work(case) == ["extension_timer", "review_timer"]
    assert open_work_problems(case) == []
    assert (
        AuditEvent.objects.filter(
            case_id=case.pk, event_type="cases.case.review_date_changed"
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_a_moved_review_timer_fires_at_the_new_date_only() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    old_due, moved = review_due(case), new_review_date(case)
    services.case_review_date_set(
        case=case, actor=case.owner, now=T0 + timedelta(days=10), next_review_at=moved
    )
    case.refresh_from_db()
    new_due = review_due(case)
    assert new_due > old_due

    with time_machine.travel(old_due + MINUTE, tick=False):
        assert fire_due_timers_task() == 0
    assert "review_plan" not in open_work(case)
    with time_machine.travel(new_due, tick=False):
        assert fire_due_timers_task() == 1
    [review] = tasks_of(case, CaseFlow.review_plan)
    assert review.owner_id == case.owner_id
    assert selectors.inbox_for(user=case.owner, now=new_due)[0].due == moved
    assert open_work_problems(case) == []


# --- the extension check ---------------------------------------------------------


@pytest.mark.django_db
def test_the_extension_timer_creates_the_extension_check_for_the_manager() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    timer = the_open(case, CaseFlow.extension_timer)
    due = extension_check_due(case)
    assert timer.scheduled == due

    with time_machine.travel(due - MINUTE, tick=False):
        fire_due_timers_task()  # the (earlier) review timer fires, not this one
    timer.refresh_from_db()
    assert timer.status == STATUS.SCHEDULED
    assert "extension_check" not in open_work(case)

    with time_machine.travel(due, tick=False):
        assert fire_due_timers_task() == 1
    timer.refresh_from_db()
    assert timer.status == STATUS.DONE
    check = the_open(case, CaseFlow.extension_check)
    assert check.owner_id == case.owner_id
    [event] = assigned_events(check)
    assert (event.actor_id, event.actor_role) == (None, SYSTEM_ROLE)
    assert open_work(case) == ["extension_check", "review_plan"]
    assert open_work_problems(case) == []
    assert CaseFlow.extension_check.due(case) == case.regular_end


# --- beat ------------------------------------------------------------------------


def test_beat_runs_the_timer_dispatcher_at_least_every_minute() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["workflow-timers"]
    assert app.conf.beat_schedule["workflow-timers"] == entry
    assert timedelta(0) < entry["schedule"] <= timedelta(minutes=1)
    app.loader.import_default_modules()  # what a worker does when it starts
    assert entry["task"] in app.tasks
    assert entry["task"] == fire_due_timers_task.name


# --- PostgreSQL: dispatchers racing ------------------------------------------------

N_CASES = 20


@on_postgres_with_commits
def test_two_dispatchers_at_once_fire_every_due_timer_once(settings) -> None:
    settings.LOTSE_LOCK_TIMEOUT_MS = 10_000
    cases = [journey_to(CaseStatus.ACTIVE) for _ in range(N_CASES)]
    due = max(review_due(case) for case in cases)
    case_ids = [case.pk for case in cases]

    with time_machine.travel(due + MINUTE):
        barrier = threading.Barrier(2, timeout=30)
        dispatchers = [Worker(fire_due_timers_task, barrier) for _ in range(2)]
        # This thread holds every case row until both dispatchers are inside
        # their sweep, waiting, so that neither fires anything alone.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_case WHERE id = ANY(%s) FOR UPDATE", [case_ids])
            for dispatcher in dispatchers:
                dispatcher.start()
            wait_until(lambda: backends_waiting_for_a_lock() >= 2, "both dispatchers wait")
        fired = [dispatcher.outcome() for dispatcher in dispatchers]

    assert sum(fired) == N_CASES
    for case in cases:
        [review] = tasks_of(case, CaseFlow.review_plan)
        assert review.owner_id == case.owner_id
        assert assigned_events(review).count() == 1
        [timer] = tasks_of(case, CaseFlow.review_timer)
        assert timer.status == STATUS.DONE
        assert open_work_problems(case) == []
    assert not Task.objects.filter(status=STATUS.ERROR).exists()


@on_postgres_with_commits
def test_a_timer_moved_while_the_dispatcher_waits_does_not_fire_early(settings) -> None:
    settings.LOTSE_LOCK_TIMEOUT_MS = 10_000
    case = journey_to(CaseStatus.ACTIVE)
    old_due, moved = review_due(case), new_review_date(case)
    moved_by_manager = threading.Event()
    commit = threading.Event()

    def move_review_date_and_hold_the_case() -> None:
        with transaction.atomic():
            services.case_review_date_set(
                case=case.pk, actor=case.owner, now=timezone.now(), next_review_at=moved
            )
            moved_by_manager.set()
            assert commit.wait(timeout=20)

    with time_machine.travel(old_due + MINUTE):
        manager = Worker(move_review_date_and_hold_the_case)
        manager.start()
        wait_until(moved_by_manager.is_set, "the manager moved the date (not committed)")
        # The dispatcher still sees the committed, due timer and waits for
        # the case lock the manager holds.
        dispatcher = Worker(fire_due_timers_task)
        dispatcher.start()
        wait_until(lambda: backends_waiting_for_a_lock() >= 1, "the dispatcher waits")
        commit.set()
        manager.outcome()
        fired = dispatcher.outcome()

    case.refresh_from_db()
    assert case.next_review_at == moved
    [timer] = tasks_of(case, CaseFlow.review_timer)
    assert timer.scheduled == review_due(case) > old_due + MINUTE
    assert (fired, timer.status) == (0, STATUS.SCHEDULED)
    assert tasks_of(case, CaseFlow.review_plan) == []
