"""Every fact the case flow's gateways ask about a case, in one statement.

A flow restart (every case change outside a guided task) asks all of them.
The statement is plain SQL written once, as the restart's other statements
(workflows.engine): the ORM's compilation of four EXISTS subqueries cost
more than running them, and its join from the task through viewflow's
process table to the case's processes read every process row once the
planner's statistics lagged. Here the case's processes are found by their
`case_id` index and their tasks by `process_id`. `flows.CaseFacts` reads the
same facts one by one through the ORM on guided steps;
tests/workflows/test_facts.py checks that both agree.
"""

from __future__ import annotations

import functools

from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import ExtensionRequest, ExtensionStatus, IntegrationPlan
from workflows.models import CaseProcess

NAMES = ("agreed_plan", "request_waiting", "request_approved", "extension_checked")


@functools.cache
def _statement() -> tuple[str, tuple[object, ...]]:
    """The SQL (one %s per case id) and the constant parameters around it."""
    from workflows.flows import CaseFlow

    plan, request = IntegrationPlan._meta.db_table, ExtensionRequest._meta.db_table
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {plan} WHERE case_id = %s AND status = %s),"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {request} WHERE case_id = %s AND status = %s),"
        f" EXISTS (SELECT 1 FROM {request} WHERE case_id = %s AND status = %s),"
        f" EXISTS (SELECT 1 FROM {CaseProcess._meta.db_table} cp"
        f" JOIN {Task._meta.db_table} t ON t.process_id = cp.process_ptr_id"
        " WHERE cp.case_id = %s AND t.flow_task = %s AND t.status = %s)"
    )
    constants = (
        IntegrationPlan.Status.AGREED.value,
        ExtensionStatus.SUBMITTED.value,
        ExtensionStatus.APPROVED.value,
        Task._meta.get_field("flow_task").get_prep_value(CaseFlow.extension_check),
        STATUS.DONE.value,
    )
    return sql, constants


def all_facts(case_id: int) -> dict[str, bool]:
    """Return every gateway fact of the case (see `flows._fact_rows`)."""
    sql, (agreed, submitted, approved, check, done) = _statement()
    params = [case_id, agreed, case_id, submitted, case_id, approved, case_id, check, done]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return {name: bool(value) for name, value in zip(NAMES, row, strict=True)}
