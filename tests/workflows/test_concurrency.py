"""Guided tasks under concurrency (PostgreSQL, one connection per thread).

A task POST runs under `CaseFlow.lock` (workflows.lock.CaseLock): the case
row, then the process row, waited for at most LOTSE_LOCK_TIMEOUT_MS. These
tests submit one task twice at once, submit through URLs that name another
process (viewflow locks the URL's process without checking that the task
belongs to it), hold the case row past the lock timeout, and race a task
against a case service. The races need real commits (`transaction=True`)
and PostgreSQL's row locks; SQLite would serialise them at BEGIN. To make
sure the racers really overlap, a third connection holds the row lock
until every racer waits for it (seen in pg_stat_activity).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from audit.models import AuditEvent
from cases import services
from cases.models import Assessment, Case, CaseStatus, IntegrationPlan
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, journey_to, manager_in, new_case
from workflows import engine
from workflows.flows import CaseFlow, review_due
from workflows.invariants import open_work, open_work_problems
from workflows.models import CaseProcess
from workflows.tasks import fire_due_timers_task

LATER = T0 + timedelta(days=1)
BUSY = "Someone else is working on this case right now. Please try again in a moment."
DONE_ALREADY = "This task has already been completed or is no longer open."
ACCEPT = {"action": "accept"}
ASSESS = {
    "action": "assess",
    "assessed_on": timezone.localdate(LATER).isoformat(),
    "need_language": "HIGH",
}


# --- racing machinery ----------------------------------------------------------


def on_postgres_with_commits(test: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test as a real multi-connection race (PostgreSQL only)."""
    test = pytest.mark.django_db(transaction=True)(test)
    return pytest.mark.postgres(test)


class Worker(threading.Thread):
    """Run `call` in a thread of its own (and so a connection of its own)."""

    def __init__(self, call: Callable[[], Any], barrier: threading.Barrier | None = None):
        super().__init__(daemon=True)
        self.call, self.barrier = call, barrier
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if self.barrier is not None:
                self.barrier.wait()
            self.result = self.call()
        except BaseException as error:  # noqa: BLE001 - re-raised by outcome()
            self.error = error
        finally:
            connection.close()

    def outcome(self) -> Any:
        self.join(timeout=30)
        assert not self.is_alive(), "a racing call hung"
        if self.error is not None:
            raise self.error
        return self.result


def backends_waiting_for_a_lock() -> int:
    """Other connections of this database waiting for a lock right now."""
    with connection.cursor() as cursor:
        # pg_stat_activity is a snapshot per transaction: take a fresh one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


@contextmanager
def rows_held(table: str, *pks: int) -> Iterator[None]:
    """Hold `SELECT ... FOR UPDATE` on rows of `table` in a connection of
    its own, in an open transaction, until the block ends."""
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    assert holder.settings_dict["NAME"] == connection.settings_dict["NAME"]
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {table} WHERE id = ANY(%s) FOR UPDATE",  # noqa: S608 - constant
                [list(pks)],
            )
        yield
    finally:
        holder.rollback()
        holder.close()


@contextmanager
def waits_bounded(milliseconds: int) -> Iterator[None]:
    """Fail this thread's statements and lock waits that last longer, so a
    regression fails the test instead of hanging it."""
    with connection.cursor() as cursor:
        for name in ("statement_timeout", "lock_timeout"):
            cursor.execute("SELECT set_config(%s, %s, false)", [name, f"{milliseconds}ms"])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
            cursor.execute("RESET lock_timeout")


def race(
    calls: list[Callable[[], Any]],
    *,
    hold: tuple[int, ...],
    until: Callable[[list[Worker]], bool] | None = None,
    until_what: str = "every racer waits for the lock",
    one_by_one: bool = False,
) -> list[Any]:
    """Run `calls` in threads while the case rows `hold` are locked; release
    them once `until` holds (default: every call waits for a lock).

    Together (a barrier), or `one_by_one`: each call is started once the
    one before waits for the lock, so they queue in list order.
    """
    barrier = None if one_by_one else threading.Barrier(len(calls), timeout=30)
    workers = [Worker(call, barrier) for call in calls]
    until = until or (lambda _workers: backends_waiting_for_a_lock() >= len(calls))
    with rows_held("cases_case", *hold):
        for number, worker in enumerate(workers, start=1):
            worker.start()
            if one_by_one:
                wait_until(lambda n=number: backends_waiting_for_a_lock() >= n, f"{number} wait")
        wait_until(lambda: until(workers), until_what)
    return [worker.outcome() for worker in workers]


# --- reading the outcome ---------------------------------------------------------


def login(user: Any) -> Client:
    web = Client()
    web.force_login(user)
    return web


def open_task(case: Case, name: str) -> Task:
    [task] = [t for t in engine.open_tasks(case) if t.flow_task.name == name]
    return task


def url_of(task: Task, kind: str = "execute", *, process_pk: int | None = None) -> str:
    process_pk = task.process_id if process_pk is None else process_pk
    return task.flow_task.reverse(kind, args=[process_pk, task.pk])


def events(case: Case, event_type: str) -> int:
    return AuditEvent.objects.filter(case_id=case.pk, event_type=event_type).count()


def flow_state(case: Case) -> tuple[Any, ...]:
    """The case row, every task of the case and its audit chain length."""
    case = Case.objects.get(pk=case.pk)
    tasks = Task.objects.filter(process__caseprocess__case=case).order_by("pk")
    return (
        (case.status, case.handover_accepted_at, case.next_review_at),
        [(t.pk, t.flow_task.name, t.status, t.owner_id) for t in tasks],
        AuditEvent.objects.filter(case_id=case.pk).count(),
        Assessment.objects.filter(case=case).count(),
    )


def open_processes(case: Case) -> int:
    return (
        CaseProcess.objects.filter(case=case)
        .exclude(status__in=[PROCESS.DONE, PROCESS.CANCELED])
        .count()
    )


def in_german(message: str) -> str:
    with translation.override("de"):
        return escape(gettext(message))


def assert_chain_gap_free(case: Case) -> None:
    seqs = list(
        AuditEvent.objects.filter(chain_key=f"case:{case.pk}")
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


def assert_state_is_audited(case: Case) -> None:
    """The case's status is the `to_state` of its last transition event.

    (tests.cases.test_atomicity.audit_state_divergence counts every
    `cases.case.*` event as a transition, `handover_accepted` too.)
    """
    last = (
        AuditEvent.objects.filter(case_id=case.pk, event_type__startswith="cases.case.")
        .exclude(transition="")
        .latest("seq")
    )
    assert last.to_state == case.status


def assert_flow_in_step(case: Case) -> None:
    case.refresh_from_db()
    assert open_work_problems(case) == []
    assert open_processes(case) == 1
    assert_chain_gap_free(case)
    assert_state_is_audited(case)


# --- one task submitted twice at once ------------------------------------------------


@dataclass(frozen=True)
class Submit:
    """A task, the form that completes it and what completing it does."""

    task: str
    make_case: Callable[[], Case]
    data: dict[str, str]
    effects: Callable[[Case], dict[str, int]]
    follow_up: list[str]
    next_task: str


SUBMITS = [
    Submit(
        task="accept_handover",
        make_case=new_case,
        data=ACCEPT,
        effects=lambda case: {
            "handover_accepted": events(case, "cases.case.handover_accepted"),
        },
        follow_up=["first_consultation"],
        next_task="first_consultation",
    ),
    Submit(
        task="needs_assessment",
        make_case=lambda: journey_to(CaseStatus.INITIAL_COUNSELLING),
        data=ASSESS,
        effects=lambda case: {
            "assessments": Assessment.objects.filter(case=case).count(),
            "draft_plan": events(case, "cases.case.draft_plan"),
        },
        follow_up=["extension_timer", "integration_plan"],
        next_task="integration_plan",
    ),
]


@on_postgres_with_commits
@pytest.mark.parametrize("submit", SUBMITS, ids=[s.task for s in SUBMITS])
def test_one_task_submitted_twice_at_once_is_done_once(submit: Submit, settings) -> None:
    settings.LOTSE_LOCK_TIMEOUT_MS = 10_000
    case = submit.make_case()
    task = open_task(case, submit.task)
    webs = [login(case.owner), login(case.owner)]
    assert all(value == 0 for value in submit.effects(case).values())

    with time_machine.travel(LATER):
        responses = race(
            [lambda web=web: web.post(url_of(task), submit.data) for web in webs], hold=(case.pk,)
        )

    assert sorted(r.status_code for r in responses) == [302, 409]
    [winner] = [r for r in responses if r.status_code == 302]
    [loser] = [r for r in responses if r.status_code == 409]
    assert in_german(DONE_ALREADY) in loser.content.decode()
    assert winner["Location"] == url_of(open_task(case, submit.next_task))
    assert all(value == 1 for value in submit.effects(case).values()), submit.effects(case)
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    assert events(case, "workflows.task.completed") == 1
    assert open_work(case) == submit.follow_up
    assert (
        Task.objects.filter(
            process__caseprocess__case=case, flow_task=getattr(CaseFlow, submit.next_task)
        ).count()
        == 1
    )
    assert_flow_in_step(case)


# --- the URL names another process (or node) than the task's ---------------------------


def two_cases_of_one_manager() -> tuple[Case, Case]:
    manager = manager_in(TeamFactory())
    return (
        journey_to(CaseStatus.INITIAL_COUNSELLING, owner=manager),
        journey_to(CaseStatus.INITIAL_COUNSELLING, owner=manager),
    )


@pytest.mark.django_db
def test_a_task_behind_the_url_of_another_process_or_node_is_not_found() -> None:
    case_a, case_b = two_cases_of_one_manager()
    task_a, task_b = open_task(case_a, "needs_assessment"), open_task(case_b, "needs_assessment")
    web = login(case_a.owner)  # owns both: only the URL is wrong
    wrong_urls = [
        url_of(task_b, process_pk=task_a.process_id),
        url_of(task_b, "detail", process_pk=task_a.process_id),
        url_of(task_a, process_pk=task_b.process_id),
        CaseFlow.integration_plan.reverse("execute", args=[task_b.process_id, task_b.pk]),
        CaseFlow.accept_handover.reverse("detail", args=[task_b.process_id, task_b.pk]),
    ]
    before = flow_state(case_a), flow_state(case_b)

    with time_machine.travel(LATER):
        for url in wrong_urls:
            assert web.get(url).status_code == 404, url
            assert web.post(url, ASSESS).status_code == 404, url
        assert (flow_state(case_a), flow_state(case_b)) == before

        # The right URL still works, for its own case only.
        assert web.post(url_of(task_b), ASSESS).status_code == 302
    assert flow_state(case_a) == before[0]
    assert Assessment.objects.filter(case=case_b).count() == 1
    assert open_work(case_b) == ["extension_timer", "integration_plan"]
    for case in (case_a, case_b):
        assert_flow_in_step(case)


@on_postgres_with_commits
def test_a_right_and_a_mismatched_submit_at_once_complete_the_task_once(settings) -> None:
    settings.LOTSE_LOCK_TIMEOUT_MS = 10_000
    case_a, case_b = two_cases_of_one_manager()
    task_a, task_b = open_task(case_a, "needs_assessment"), open_task(case_b, "needs_assessment")
    right, wrong = login(case_b.owner), login(case_b.owner)
    before_a = flow_state(case_a)

    def settled(workers: list[Worker]) -> bool:
        # the right submit waits for case B; the mismatched one is long answered
        return not workers[1].is_alive() and backends_waiting_for_a_lock() >= 1

    with time_machine.travel(LATER):
        right_response, wrong_response = race(
            [
                lambda: right.post(url_of(task_b), ASSESS),
                lambda: wrong.post(url_of(task_b, process_pk=task_a.process_id), ASSESS),
            ],
            hold=(case_a.pk, case_b.pk),
            until=settled,
            until_what="the mismatched submit is answered and the right one waits",
        )

    assert (right_response.status_code, wrong_response.status_code) == (302, 404)
    assert Assessment.objects.filter(case=case_b).count() == 1
    assert events(case_b, "cases.case.draft_plan") == 1
    assert events(case_b, "workflows.task.completed") == 1
    assert open_work(case_b) == ["extension_timer", "integration_plan"]
    assert flow_state(case_a) == before_a
    for case in (case_a, case_b):
        assert_flow_in_step(case)


# --- waiting past the lock timeout ----------------------------------------------------


@on_postgres_with_commits
@pytest.mark.parametrize("held", ["case", "process"])
def test_a_task_post_waiting_past_the_lock_timeout_gets_409_and_changes_nothing(
    held: str, settings
) -> None:
    settings.LOTSE_LOCK_TIMEOUT_MS = 200
    case = journey_to(CaseStatus.INITIAL_COUNSELLING)
    task = open_task(case, "needs_assessment")
    table, row = (
        ("cases_case", case.pk) if held == "case" else ("viewflow_process", task.process_id)
    )
    web = login(case.owner)
    before = flow_state(case)

    with time_machine.travel(LATER):
        with rows_held(table, row), waits_bounded(5_000):
            started = time.monotonic()
            response = web.post(url_of(task), ASSESS)
            waited = time.monotonic() - started
        assert response.status_code == 409
        assert in_german(BUSY) in response.content.decode()
        assert 0.15 < waited < 3.0
        assert flow_state(case) == before

        # Released: the same submit goes through.
        response = web.post(url_of(task), ASSESS)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Assessment.objects.filter(case=case).count() == 1
    assert open_work(case) == ["extension_timer", "integration_plan"]
    assert_flow_in_step(case)


def test_the_busy_and_already_done_pages_speak_german() -> None:
    """The 409 pages above are compared with these texts in German."""
    with translation.override("de"):
        assert gettext(BUSY) != BUSY
        assert gettext(DONE_ALREADY) != DONE_ALREADY


# --- a case service from outside the flow racing a task ----------------------------------


def review_form(case: Case, day: Any) -> dict[str, str]:
    plan = IntegrationPlan.objects.get(case=case, status=IntegrationPlan.Status.AGREED)
    return {
        "action": "review",
        "reviewed_on": day.isoformat(),
        "notes": "",
        **{f"goal_{goal.pk}": goal.status for goal in plan.goals.all()},
    }


@on_postgres_with_commits
@pytest.mark.parametrize("first", ["task", "service"])
def test_a_case_service_racing_a_task_post_is_serialised_by_the_case_lock(
    first: str, settings
) -> None:
    settings.LOTSE_LOCK_TIMEOUT_MS = 10_000
    case = journey_to(CaseStatus.ACTIVE)
    with time_machine.travel(review_due(case), tick=False):
        assert fire_due_timers_task() == 1
    review = open_task(case, "review_plan")
    web = login(case.owner)
    at = review_due(case) + timedelta(days=1)
    data = review_form(case, timezone.localdate(at))

    def submit_review() -> Any:
        return web.post(url_of(review), data)

    def pause() -> Case:
        return services.case_transition(
            case=case.pk, name="pause", actor=case.owner, now=timezone.now(), reason="OTHER"
        )

    calls = [submit_review, pause] if first == "task" else [pause, submit_review]
    with time_machine.travel(at):
        results = race(calls, hold=(case.pk,), one_by_one=True)
    response = results[calls.index(submit_review)]

    review.refresh_from_db()
    if first == "task":  # reviewed, then paused: the new review timer is cancelled
        assert response.status_code == 302, response.content.decode()[:2000]
        assert review.status == STATUS.DONE
        assert events(case, "cases.case.review_plan") == 1
    else:  # paused first: the review task was cancelled under the lock
        assert response.status_code == 409
        assert in_german(DONE_ALREADY) in response.content.decode()
        assert review.status == STATUS.CANCELED
        assert events(case, "cases.case.review_plan") == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.DORMANT
    assert events(case, "cases.case.pause") == 1
    assert open_work(case) == ["extension_timer", "resume"]
    assert_flow_in_step(case)
