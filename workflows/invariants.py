"""Which work may be open in which case state (the table in flows.py).

`open_work_problems` compares a case's open tasks with the table; the test
suite checks it after every step and `manage.py verify_workflows` checks
every case of an installation.
"""

from __future__ import annotations

from typing import Any

from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from cases.models import CLOCK_STATES, Case, CaseStatus, ExtensionRequest, ExtensionStatus
from cases.person_clock import person_extension
from workflows.models import CaseProcess
from workflows.selectors import OPEN_TASK_STATES

S = CaseStatus
MAIN: dict[str, list[frozenset[str]]] = {
    S.REGISTERED: [frozenset({"accept_handover"}), frozenset({"first_consultation"})],
    S.INITIAL_COUNSELLING: [frozenset({"needs_assessment"})],
    S.PLANNING: [frozenset({"integration_plan"})],
    S.ACTIVE: [frozenset({"review_timer"}), frozenset({"review_plan"}), frozenset()],
    S.DORMANT: [frozenset({"resume"})],
    S.CLOSING: [frozenset({"final_referral"})],
    S.CLOSED: [frozenset()],
    S.REJECTED: [frozenset()],
    S.DELETED: [frozenset()],
}
EXTENSION: list[frozenset[str]] = [
    frozenset(),
    frozenset({"approve_extension"}),
    frozenset({"extension_timer"}),
    frozenset({"extension_check"}),
]
EXTENSION_CHECK = frozenset({"extension_timer", "extension_check"})
NODE_KINDS = ("HUMAN", "TIMER")


def open_work(case: Case | int) -> list[str]:
    """Names of the open human tasks and timers of the case, sorted."""
    case_id = case.pk if isinstance(case, Case) else case
    tasks = Task.objects.filter(
        process__caseprocess__case_id=case_id,
        status__in=OPEN_TASK_STATES,
        flow_task_type__in=NODE_KINDS,
    )
    return sorted(task.flow_task.name for task in tasks)


def open_work_problems(case: Case) -> list[str]:
    """What is wrong with the open work of `case` (empty: nothing)."""
    problems = []
    names = open_work(case)
    if len(names) != len(set(names)):
        problems.append(f"a task is open twice: {names}")
    open_set = frozenset(names)
    extension_options = EXTENSION if case.status in CLOCK_STATES else [frozenset()]
    if not any(
        open_set == main | extension
        for main in MAIN[case.status]
        for extension in extension_options
    ):
        problems.append(f"{case.status} with open work {names}")
    if open_set & EXTENSION_CHECK and person_extension(case.person_id) is not None:
        # One extension per person: used (in another case, or known from
        # elsewhere), there is nothing left to check (flows._extension_check_open).
        problems.append(f"the person's extension is used but open work {names}")
    waiting = ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.SUBMITTED).exists()
    if case.status in CLOCK_STATES and waiting != ("approve_extension" in open_set):
        problems.append(f"request waiting={waiting} but open work {names}")
    open_processes = (
        CaseProcess.objects.filter(case=case)
        .exclude(status__in=[PROCESS.DONE, PROCESS.CANCELED])
        .count()
    )
    if open_processes > 1:
        problems.append(f"{open_processes} open processes")
    return problems


def cases_with_problems(cases: Any) -> dict[int, list[str]]:
    return {case.pk: p for case in cases.iterator() if (p := open_work_problems(case))}
