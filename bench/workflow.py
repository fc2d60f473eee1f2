"""Guided task steps per second: Lotse's flow beside a bare viewflow flow.

One Lotse step is what the task view does when an integration manager
resumes a dormant case: under the case flow lock (case row, then process
row), complete the `resume` task, fire the `resume` transition with its
audit event, route on the case status and schedule the review timer, in
one transaction. The floor is `bench.flows.BareFlow`: complete a human task,
route through a gateway, schedule a timer, under viewflow's own lock, with
no case, service or audit. Both sides get their tasks prepared untimed in
batches; only the completions are timed, in interleaved slices.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction

BATCH = 25
ROUNDS = 10
SECONDS = 6.0
TARGET_COST = 1.2  # Lotse's step may cost at most this many bare steps


class Batches:
    """Time `run(item)` over items that `prepare(n)` made ready untimed."""

    def __init__(self, prepare: Callable[[int], list[Any]], run: Callable[[Any], None]) -> None:
        self.prepare, self.run = prepare, run
        for item in self.prepare(BATCH):  # warm-up
            self.run(item)

    def rate(self, seconds: float) -> float:
        done, spent = 0, 0.0
        while spent < seconds:
            items = self.prepare(BATCH)
            start = time.perf_counter()
            for item in items:
                self.run(item)
            spent += time.perf_counter() - start
            done += len(items)
        return done / spent


def bare(owner: Any) -> Batches:
    from viewflow.workflow.models import Task

    from bench.flows import BareFlow

    def prepare(n: int) -> list[Any]:
        processes = [BareFlow.start.run(owner=owner) for _ in range(n)]
        return list(Task.objects.filter(process__in=processes, flow_task=BareFlow.task))

    def run(task: Any) -> None:
        # What viewflow's task view wrapper does on POST: lock, then atomic.
        with BareFlow.lock(task.process_id), transaction.atomic():
            task.refresh_from_db()
            activation = BareFlow.task.activation_class(task)
            activation.start(None)
            activation.execute()

    return Batches(prepare, run)


def lotse(owner: Any, case_ids: list[int], now: datetime) -> Batches:
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from cases.atomic import all_or_nothing
    from cases.services import case_transition
    from workflows import engine
    from workflows.flows import CaseFlow
    from workflows.models import CaseProcess

    cursor = {"next": 0}

    def prepare(n: int) -> list[Any]:
        ids = [case_ids[(cursor["next"] + i) % len(case_ids)] for i in range(n)]
        cursor["next"] += n
        for case_id in ids:  # the manager paused the case (restarts its flow)
            case_transition(case=case_id, name="pause", actor=owner, now=now, reason="OTHER")
        tasks = Task.objects.filter(
            process__caseprocess__case_id__in=ids, flow_task=CaseFlow.resume, status=STATUS.ASSIGNED
        )
        processes = CaseProcess.objects.in_bulk([task.process_id for task in tasks])
        for task in tasks:  # as workflows.selectors.task_get_for_user reads them
            task.process = processes[task.process_id]
        return list(tasks)

    def run(task: Any) -> None:
        # What the resume task view does on POST (workflows.nodes.guarded and
        # workflows.views.TaskView), without HTTP, form and template.
        process = task.process
        case_id = process.case_id
        with (
            engine.acting(actor=owner, now=now, case_id=case_id),
            CaseFlow.lock(task.process_id),
            all_or_nothing(),
        ):
            task.refresh_from_db()
            task.process = process
            activation = CaseFlow.resume.activation_class(task)
            activation.start(None)
            case_transition(case=case_id, name="resume", actor=owner, now=now)
            activation.execute()

    return Batches(prepare, run)


def interleaved(floor: Batches, measured: Batches) -> tuple[float, float, float]:
    floors, measures, costs = [], [], []
    for round_no in range(ROUNDS):
        pair = (floor, measured) if round_no % 2 == 0 else (measured, floor)
        rates = {id(b): b.rate(SECONDS / ROUNDS) for b in pair}
        floors.append(rates[id(floor)])
        measures.append(rates[id(measured)])
        costs.append(floors[-1] / measures[-1])
    return statistics.median(floors), statistics.median(measures), statistics.median(costs)


def run(owner: Any, case_ids: list[int], now: datetime) -> bool:
    from bench.__main__ import statements

    floor, measured = bare(owner), lotse(owner, case_ids, now)
    counts = []
    for batches in (floor, measured):
        item = batches.prepare(1)[0]
        counts.append(statements(lambda batches=batches, item=item: batches.run(item)))
    floor_rate, lotse_rate, cost = interleaved(floor, measured)
    print(f"workflow steps ({ROUNDS} interleaved slices of {SECONDS / ROUNDS:.1f} s; medians)")
    print(
        f"  bare viewflow step (task, gateway, timer; {counts[0]} statements):"
        f"          {floor_rate:8.1f}/s"
    )
    print(
        f"  Lotse step (task + resume transition + audit; {counts[1]} statements):"
        f" {lotse_rate:8.1f}/s  cost {cost:.2f}x the bare step (goal <= {TARGET_COST})"
    )
    return cost <= TARGET_COST
