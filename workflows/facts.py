"""Reading the case at a gateway: the case row and the facts around it.

The flow's gateways, its human tasks (who gets the task) and the restart's
planner ask about the case through these functions, each read at most once
per routing pass. The module sits below nodes and flows (it names the one
node it reads by its stored reference, `EXTENSION_CHECK_REF`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import Case, ExtensionRequest, ExtensionStatus, IntegrationPlan, PersonClockFact
from workflows import context
from workflows.models import EXTENSION_CHECK_REF, CaseProcess


def case_of(activation: Any) -> Case:
    """The case as it is in this transaction.

    Read once per routing pass: the activations a completed task creates
    share one process object, and nothing changes the case while the engine
    routes. `forget_case` drops the copy when a task completes (the task's
    services have just changed the case).
    """
    process = activation.process
    cached = getattr(process, "_lotse_case", None)
    if cached is None:
        cached = context.remembered(process.case_id)
    if cached is None:
        cached = Case.objects.select_related("owner").get(pk=process.case_id)
    process._lotse_case = cached
    return cached


def _person_extension_used(case_ref: Any) -> QuerySet[Any]:
    # The person's one extension is used (`cases.person_clock.
    # person_extension`): approved in any of their cases, or known from
    # elsewhere (a clock fact of a migration, a transfer, another Träger).
    return Case.objects.filter(pk=case_ref).filter(
        Exists(
            ExtensionRequest.objects.filter(
                case__person_id=OuterRef("person_id"), status=ExtensionStatus.APPROVED
            )
        )
        | Exists(
            PersonClockFact.objects.filter(
                person_id=OuterRef("person_id"), extension_months__isnull=False
            )
        )
    )


# The rows behind each fact the gateways ask about a case, as ORM queries:
# the definition that `all_facts`' plain statement (which every read uses)
# is checked against (tests/workflows/test_facts.py).
_FACT_ROWS: dict[str, Callable[[Any], QuerySet[Any]]] = {
    "agreed_plan": lambda case_ref: IntegrationPlan.objects.filter(
        case_id=case_ref, status=IntegrationPlan.Status.AGREED
    ),
    "request_waiting": lambda case_ref: ExtensionRequest.objects.filter(
        case_id=case_ref, status=ExtensionStatus.SUBMITTED
    ),
    "request_approved": lambda case_ref: ExtensionRequest.objects.filter(
        case_id=case_ref, status=ExtensionStatus.APPROVED
    ),
    "extension_checked": lambda case_ref: Task.objects.filter(
        process__caseprocess__case_id=case_ref,
        flow_task=EXTENSION_CHECK_REF,
        status=STATUS.DONE,
    ),
    "person_extension_used": _person_extension_used,
}


def _fact_rows(case_ref: Any) -> dict[str, Any]:
    """The rows behind each fact the gateways ask about a case."""
    return {name: rows(case_ref) for name, rows in _FACT_ROWS.items()}


class CaseFacts:
    """What the gateways ask about the rows around a case (an agreed plan,
    a waiting or approved extension request, the extension check done, the
    person's extension used),
    each read at most once per routing pass."""

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        self.known: dict[str, bool] = {}

    def __getitem__(self, name: str) -> bool:
        if name not in self.known:
            # All of them in one plain statement (`all_facts`): cheaper than
            # building even one ORM query, and the pass may ask another.
            self.read_all()
        return self.known[name]

    def read_all(self, known: dict[str, bool] | None = None) -> None:
        """Read every fact in one statement (a restart asks them all), or
        take them as `known` (read by the restart with its open tasks)."""
        self.known.update(all_facts(self.case_id) if known is None else known)


def case_facts(activation: Any) -> CaseFacts:
    """The facts of the case, kept with the case for the routing pass and
    dropped with it by `forget_case`."""
    process = activation.process
    facts = getattr(process, "_lotse_facts", None)
    if facts is None:
        facts = process._lotse_facts = CaseFacts(case_of(activation).pk)
    return facts


def forget_case(process: Any) -> None:
    process.__dict__.pop("_lotse_case", None)
    process.__dict__.pop("_lotse_facts", None)


# --- every fact in one statement (the restart and the guided steps) ----------
# A flow restart (every case change outside a guided task) asks all of them;
# a guided step's gateway asks one, and reads them all the same way.
# The statement is plain SQL written once, as the restart's other statements
# (workflows.fastpaths): the ORM's compilation of its EXISTS subqueries cost
# more than running them, and its join from the task through viewflow's
# process table to the case's processes read every process row once the
# planner's statistics lagged. Here the case's processes are found by their
# `case_id` index and their tasks by `process_id`. `_fact_rows` writes the
# same facts as ORM queries; tests/workflows/test_facts.py checks that both
# agree on every branch of the flow.

NAMES = (
    "agreed_plan",
    "request_waiting",
    "request_approved",
    "extension_checked",
    "person_extension_used",
)


# Code constants (states, the node's reference) go into the text as
# literals, the case id as the only parameter, and that one behind a
# sub-select (`CASE_ID`): PostgreSQL then cannot plan a case better than
# any other and keeps one generic plan for the prepared statement, instead
# of planning it anew for each case, which cost several times its
# execution (see `make bench`). The index scans take the value all the same.
CASE_ID = "(SELECT CAST(%s AS bigint))"


def case_processes() -> str:
    """`<a process id> <this>` holds for the processes of the case whose id
    is the next parameter. On PostgreSQL the case's process ids are
    gathered first (by the `case_id` index) and each is then looked up by
    its key: a plan that no table statistics can turn into a scan of every
    process of every case (a generic plan did that, see `make bench`)."""
    ids = f"SELECT process_ptr_id FROM {CaseProcess._meta.db_table} WHERE case_id = {CASE_ID}"  # noqa: S608
    if connection.vendor == "postgresql":
        return f"= ANY(ARRAY({ids}))"
    return f"IN ({ids})"


def sql_literal(value: str) -> str:
    """A constant of the code (a state, a node reference) as an SQL string
    literal; refuses anything but letters, digits and `_ . / -`."""
    if not _LITERAL.fullmatch(value):
        raise ValueError(f"not a code constant: {value!r}")
    return f"'{value}'"


_LITERAL = re.compile(r"[A-Za-z0-9_./-]+")


@functools.cache
def _statement() -> str:
    """The SQL, one %s per case id (`statement_params`)."""
    plan, request = IntegrationPlan._meta.db_table, ExtensionRequest._meta.db_table
    case, fact = Case._meta.db_table, PersonClockFact._meta.db_table
    agreed = sql_literal(IntegrationPlan.Status.AGREED.value)
    submitted = sql_literal(ExtensionStatus.SUBMITTED.value)
    approved = sql_literal(ExtensionStatus.APPROVED.value)
    check, done = sql_literal(EXTENSION_CHECK_REF), sql_literal(STATUS.DONE.value)
    case_is = f"case_id = {CASE_ID}"
    return (
        f"SELECT EXISTS (SELECT 1 FROM {plan} WHERE {case_is} AND status = {agreed}) AS f1,"  # noqa: S608
        f" EXISTS (SELECT 1 FROM {request} WHERE {case_is} AND status = {submitted}) AS f2,"
        f" EXISTS (SELECT 1 FROM {request} WHERE {case_is} AND status = {approved}) AS f3,"
        f" EXISTS (SELECT 1 FROM {Task._meta.db_table} t WHERE t.process_id {case_processes()}"
        f" AND t.flow_task = {check} AND t.status = {done}) AS f4,"
        f" EXISTS (SELECT 1 FROM {case} c WHERE c.id = {CASE_ID} AND ("
        f"EXISTS (SELECT 1 FROM {request} r JOIN {case} o ON o.id = r.case_id"
        f" WHERE o.person_id = c.person_id AND r.status = {approved})"
        f" OR EXISTS (SELECT 1 FROM {fact} f"
        " WHERE f.person_id = c.person_id AND f.extension_months IS NOT NULL))) AS f5"
    )


def statement() -> str:
    """The SQL of `all_facts` (one column per name in NAMES); its
    parameters are `statement_params`."""
    return _statement()


def statement_params(case_id: int) -> list[Any]:
    return [case_id] * 5


def all_facts(case_id: int) -> dict[str, bool]:
    """Return every gateway fact of the case (see `_fact_rows`)."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(), statement_params(case_id))
        row = cursor.fetchone()
    return {name: bool(value) for name, value in zip(NAMES, row, strict=True)}
