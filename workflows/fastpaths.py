"""The restart's fast path: the rows of a process start, planned and
written without viewflow's start machinery (docs/FASTPATHS.md).

Every case change outside a guided task replaces the case's open process
(`workflows.services.case_flow_restart`). viewflow's `start.run()` costs
about 45 statements for it (a savepoint, an UPDATE and a signal per node, a
row lock per step). `flow_plan` walks the flow the way the engine would,
with the flow's own gateway conditions, timer delays and permissions, and
returns the task rows a start would write; `process_write` writes them,
cancels the open ones and appends the task events in one statement on
PostgreSQL (a few INSERTs elsewhere); `open_rows_and_facts` reads the open
tasks and the gateway facts in one. tests/workflows/test_engine.py compares
the two writers row by row for every branch of the flow.

What this module relies on beyond the libraries' public API, reviewed for
the versions in `REVIEWED_PINS` (the system check `lotse.E001` fails when
an installed version differs, until this list is reviewed and the pins
updated):

viewflow (django-viewflow):
- node internals read by `flow_plan`: `Node._next`, `Switch._branches`
  (pairs of target and condition, first true wins, None is the default),
  `Split._branches` (triples of target, condition, data source),
  `Timer._delay` (a timedelta, a datetime or a callable of the
  activation), `Node._boundary_events`, `type(node).activation_class`;
- what a start writes, reproduced by `process_write`: the start, switch,
  split and end rows done at once, human tasks NEW or ASSIGNED with
  `owner_permission`, timers SCHEDULED; a task behind a split carries the
  token `<token of the split>/<split pk>_<branch number>` (`Token`), and
  `previous` links in `Task.previous.through` (`from_task`, `to_task`);
- the stored forms of `Process.flow_class` and `Task.flow_task`
  (`FlowReferenceField`, `TaskReferenceField`: `get_db_prep_save` turns the
  class and node into their `<app label>/<module>.<Flow>[.<node>]` strings)
  and `import_task_by_ref` for reading them back in `open_rows`;
- the status values `STATUS` and `PROCESS`, and `Task.flow_task_type`
  values `HUMAN`, `TIMER`, `START`, `END`;
- `CaseTaskActivation.cancel` audits exactly the NEW and ASSIGNED human
  tasks viewflow's cancel transition takes (`open_work_cancel` mirrors it).

- that the pk columns of viewflow's process and task tables are identity
  columns (`pg_get_serial_sequence` names their sequences; explicit ids are
  accepted): `_write_in_one` draws the new pks before inserting the rows;

Django:
- `connection.ops.get_db_converters(column)` and
  `Field.get_db_converters(connection)` applied by hand to the
  `scheduled` column read with plain SQL (`open_rows`);
- `Field.get_db_prep_save`, `connection.ops.adapt_datetimefield_value`
  and `connection.ops.quote_name` for the plain INSERTs and UPDATEs.
"""

from __future__ import annotations

import functools
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from viewflow.workflow.fields import import_task_by_ref
from viewflow.workflow.models import Process, Task
from viewflow.workflow.nodes import EndActivation, SplitActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

from audit import services as audit_services
from workflows import context, facts
from workflows.models import CaseProcess
from workflows.nodes import CaseTask, CaseTaskActivation, SwitchActivation, TimerActivation
from workflows.selectors import OPEN_TASK_STATES

# The versions this module (and docs/FASTPATHS.md) was last reviewed for.
REVIEWED_PINS = {"Django": "5.2.19", "django-viewflow": "2.4.0", "django-fsm-2": "4.2.4"}


# --- what a process start writes -------------------------------------------


@dataclass(eq=False)
class PlannedTask:
    """One task row that starting the flow writes."""

    node: Any
    status: str
    previous: PlannedTask | None = None
    # A task behind a parallel split carries the split's pk in its token
    # ("start/<split pk>_<branch>"), known once the split row is written.
    split: PlannedTask | None = None
    branch: int = 0
    owner_id: int | None = None
    owner_permission: str | None = None
    scheduled: datetime | None = None
    pk: int | None = None  # once written

    def written_pk(self) -> int:
        if self.pk is None:
            raise ValueError(f"{self.node.name}: not written yet")
        return self.pk

    @property
    def is_open(self) -> bool:
        return self.status not in (STATUS.DONE, STATUS.CANCELED)

    @property
    def depth(self) -> int:
        """How many splits lie behind this row (rows are written in this order)."""
        if self.split is not None:
            return self.split.depth + 1
        return 0 if self.previous is None else self.previous.depth

    def token(self) -> str:
        if self.split is not None:
            return f"{self.split.token()}/{self.split.pk}_{self.branch}"
        return "start" if self.previous is None else self.previous.token()

    def key(self) -> tuple[Any, ...]:
        """What makes two open tasks the same work (see `same_work`)."""
        return (self.node.name, self.status, self.owner_id, self.owner_permission, self.scheduled)


def _plain(node: Any, activation_class: type) -> bool:
    """The node settles at start exactly as `activation_class` does."""
    return type(node).activation_class is activation_class and not node._boundary_events


def flow_plan(process: CaseProcess, *, clock: datetime) -> list[PlannedTask]:
    """Return the task rows that `start.run()` of the process's flow would
    write for the process's case, in the order the engine writes them.

    Gateways decide with the flow's own conditions and timers take the
    flow's own delays, reading the case as `flows.case_of` does (through
    the process). Raises ValueError on a node whose start behaviour this
    walk does not reproduce; the flow then needs the walk extended.
    """
    activation = SimpleNamespace(process=process)
    start_node = process.flow_class.start
    if not _plain(start_node, StartHandleActivation):
        raise ValueError(f"{start_node.name}: not a plain StartHandle")
    planned = [PlannedTask(node=start_node, status=STATUS.DONE)]
    queue: deque[tuple[Any, PlannedTask, PlannedTask | None, int]] = deque(
        [(start_node._next, planned[0], None, 0)]
    )
    while queue:
        node, previous, split, branch = queue.popleft()
        row = PlannedTask(
            node=node, status=STATUS.DONE, previous=previous, split=split, branch=branch
        )
        planned.append(row)
        if _plain(node, SwitchActivation):
            chosen = None
            for target, condition in node._branches:  # as SwitchActivation.activate
                if condition is None:
                    chosen = target
                elif condition(activation):
                    chosen = target
                    break
            if chosen is None:
                raise ValueError(f"{node.name}: no next task available")
            queue.append((chosen, row, None, 0))
        elif _plain(node, SplitActivation):
            if any(data_source is not None for _target, _cond, data_source in node._branches):
                raise ValueError(f"{node.name}: split branches with data are not planned")
            targets = [
                target
                for target, condition, _data in node._branches
                if not condition or condition(activation)
            ]
            if not targets:
                raise ValueError(f"{node.name}: no next task available")
            queue.extend((target, row, row, n) for n, target in enumerate(targets, start=1))
        elif isinstance(node, CaseTask) and _plain(node, CaseTaskActivation):
            row.owner_id = node.owner_id_for(activation)
            row.owner_permission = node.calc_owner_permission(activation)
            row.status = STATUS.ASSIGNED if row.owner_id else STATUS.NEW  # viewflow row, not a case
        elif _plain(node, TimerActivation):
            delay = node._delay(activation) if callable(node._delay) else node._delay
            row.scheduled = clock + delay if isinstance(delay, timedelta) else delay
            row.status = STATUS.SCHEDULED  # viewflow row, not a case
        elif not _plain(node, EndActivation):
            raise ValueError(f"{node.name}: {type(node).__name__} is not planned")
    return planned


# --- plain SQL on the restart path -----------------------------------------
# Every case change outside a guided task runs the restart. The ORM's
# compilation of its few statements costs more than the statements
# themselves (see `make bench`), as for the case row lock in
# cases.services; the values still go through the model fields' own
# adaptation (`get_db_prep_save`) and the backend's converters.


@dataclass(frozen=True)
class TaskRow:
    """What the restart reads and writes of a task row."""

    pk: int
    flow_task: Any  # the node
    flow_task_type: str
    status: str
    owner_id: int | None
    owner_permission: str | None
    scheduled: datetime | None
    process_id: int


_T, _P, _CP = Task._meta.db_table, Process._meta.db_table, CaseProcess._meta.db_table
# States as literals, the case id as the only parameter, the case's
# processes found by `facts.case_processes` (one generic plan that reads
# only the case's rows, see `facts.sql_literal`).
_OPEN_ROWS_SQL = (
    f"SELECT t.id, t.flow_task, t.flow_task_type, t.status, t.owner_id, t.owner_permission,"  # noqa: S608 - constant
    f" t.scheduled, t.process_id FROM {_T} t WHERE t.process_id {facts.case_processes()}"
    f" AND t.status IN ({', '.join(facts.sql_literal(state.value) for state in OPEN_TASK_STATES)})"
    " ORDER BY t.id"
)
# Parameters: the CANCELED state, the time, the case id.
_CANCEL_PROCESSES_SQL = (
    f"UPDATE {_P} SET status = %s, finished = %s WHERE id {facts.case_processes()}"  # noqa: S608 - constant
    f" AND status NOT IN ({facts.sql_literal(PROCESS.DONE.value)},"
    f" {facts.sql_literal(PROCESS.CANCELED.value)})"
)


@functools.cache
def _scheduled_converters() -> tuple[Any, list[Any]]:
    field = Task._meta.get_field("scheduled")
    column = field.get_col(_T)
    return column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)


def open_rows(case_id: int) -> list[TaskRow]:
    """The open tasks of the case's processes, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_ROWS_SQL, [case_id])
        return _task_rows(cursor.fetchall())


def _task_rows(rows: list[tuple[Any, ...]]) -> list[TaskRow]:
    column, converters = _scheduled_converters()
    result = []
    for pk, ref, kind, status, owner_id, permission, scheduled, process_id in rows:
        for converter in converters:
            scheduled = converter(scheduled, column, connection)
        node = import_task_by_ref(ref)
        result.append(TaskRow(pk, node, kind, status, owner_id, permission, scheduled, process_id))
    return result


@functools.cache
def _rows_and_facts_sql() -> str:
    """`_OPEN_ROWS_SQL` beside the gateway facts (`facts.all_facts`): one row
    per open task, the facts repeated on each; a single row of NULL task
    columns when none is open."""
    facts_sql = facts.statement()
    return (
        f"SELECT f.*, o.* FROM ({facts_sql}) f LEFT JOIN ({_OPEN_ROWS_SQL}) o ON true"  # noqa: S608
        " ORDER BY o.id"
    )


def open_rows_and_facts(
    case_id: int, *, with_facts: bool
) -> tuple[list[TaskRow], dict[str, bool] | None]:
    """`open_rows` and, if `with_facts`, `facts.all_facts` of the case: in
    one statement on PostgreSQL (both are read by every restart of a case
    whose clock runs)."""
    if not with_facts or connection.vendor != "postgresql":
        return open_rows(case_id), (facts.all_facts(case_id) if with_facts else None)
    with connection.cursor() as cursor:
        cursor.execute(_rows_and_facts_sql(), [*facts.statement_params(case_id), case_id])
        rows = cursor.fetchall()
    width = len(facts.NAMES)
    known = {name: bool(value) for name, value in zip(facts.NAMES, rows[0][:width], strict=True)}
    return _task_rows([row[width:] for row in rows if row[width] is not None]), known


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...], rows: int, returning: str) -> str:
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    suffix = f" RETURNING {connection.ops.quote_name(returning)}" if returning else ""
    return f"INSERT INTO {table} ({names}) VALUES {values}{suffix}"  # noqa: S608 - names of fields


def _insert(
    model: Any, names: tuple[str, ...], rows: list[tuple[Any, ...]], *, returning: bool = True
) -> list[int]:
    """Insert `rows` (values of the fields `names`) into `model`'s table in
    one statement; return the new pks in row order when `returning`."""
    fields = [model._meta.get_field(name) for name in names]
    sql = _insert_sql(
        model._meta.db_table,
        tuple(field.column for field in fields),
        len(rows),
        model._meta.pk.column if returning else "",
    )
    params = [
        field.get_db_prep_save(value, connection)
        for row in rows
        for field, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()] if returning else []


_TASK_FIELDS = (
    "process",
    "flow_task",
    "flow_task_type",
    "status",
    "created",
    "started",
    "finished",
    "scheduled",
    "token",
    "owner",
    "owner_permission",
    "data",
)


_PROCESS_FIELDS = ("flow_class", "status", "created", "finished", "data")


def _insert_case_process(process: CaseProcess, row: tuple[Any, ...]) -> int:
    """Insert the process row (values of _PROCESS_FIELDS) and its case link;
    return the process pk. One statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        [pk] = _insert(Process, _PROCESS_FIELDS, [row])
        _insert(CaseProcess, ("process_ptr", "case"), [(pk, process.case_id)], returning=False)
        return pk
    fields = [Process._meta.get_field(name) for name in _PROCESS_FIELDS]
    insert = _insert_sql(_P, tuple(field.column for field in fields), 1, Process._meta.pk.column)
    sql = (
        f"WITH p AS ({insert}) INSERT INTO {_CP} (process_ptr_id, case_id)"  # noqa: S608
        " SELECT id, %s FROM p RETURNING process_ptr_id"
    )
    params = [
        field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, process.case_id])
        return cursor.fetchone()[0]


def process_write(
    process: CaseProcess,
    planned: list[PlannedTask],
    *,
    clock: datetime,
    cancel: list[TaskRow] | None = None,
    now: datetime | None = None,
) -> None:
    """Write the process and its planned rows as the engine's start would:
    the process, the task rows, their `previous` links, and an `assigned`
    event per assigned human task.

    With `cancel` (the case's open tasks, `open_rows`), first cancel them
    and every open process of the case at `now`, as `open_work_cancel`
    does, and audit the cancelled tasks before the assigned ones. On
    PostgreSQL all rows are written in one statement (`_write_in_one`);
    elsewhere one INSERT per split depth, since tokens name the split's pk.
    """
    process.created = clock
    if not any(row.is_open for row in planned):  # every branch reached an End
        process.status = PROCESS.DONE  # viewflow row, not a case
        process.finished = clock
    process_row: tuple[Any, ...] = (process.flow_class, process.status, clock, process.finished, {})
    ordered = sorted(planned, key=lambda row: row.depth)  # stable: the engine's order
    if connection.vendor == "postgresql" and _write_in_one(
        process, process_row, planned, ordered, clock=clock, cancel=cancel, now=now
    ):
        return  # the events too
    if connection.vendor != "postgresql":
        if cancel is not None:
            open_work_cancel(cancel, case_id=process.case_id, now=now or clock)
        _write_by_depth(process, process_row, ordered, clock=clock)
    elif cancel is not None:
        _cancelled_events(cancel, case_id=process.case_id)
    for row in _assigned(planned):
        task = _assigned_row(row, row.written_pk(), process.pk)
        context.task_event(task, "assigned", case_id=process.case_id)


def _assigned(planned: list[PlannedTask]) -> list[PlannedTask]:
    """The rows a start audits as `assigned`, in the engine's order."""
    return [row for row in planned if isinstance(row.node, CaseTask) and row.owner_id is not None]


def _assigned_row(row: PlannedTask, pk: int, process_pk: int) -> TaskRow:
    return TaskRow(
        pk,
        row.node,
        row.node.task_type,
        row.status,
        row.owner_id,
        row.owner_permission,
        row.scheduled,
        process_pk,
    )


def _task_values(process_pk: Any, row: PlannedTask, *, clock: datetime, token: Any) -> tuple:
    """The values of _TASK_FIELDS for one planned row."""
    return (
        process_pk,
        row.node,
        row.node.task_type,
        row.status,
        clock,
        clock if row.node.task_type in ("START", "END") else None,
        None if row.is_open else clock,
        row.scheduled,
        token,
        row.owner_id,
        row.owner_permission,
        {},
    )


@functools.cache
def _constants_sql(node: Any, status: str, permission: str | None) -> tuple[str, str]:
    """A task row's values that depend only on its node, state and
    permission, adapted by their fields as `_task_values` and
    `get_db_prep_save` do, as SQL literals: (flow_task, flow_task_type,
    status) and (owner_permission, data), the cells before and after the
    row's times, token and owner. The restart's write sends them as part of
    its text, which psycopg and PostgreSQL keep prepared, not as
    parameters on every run. Each is a code constant (`facts.sql_literal`
    refuses anything else)."""
    db = connections[DEFAULT_DB_ALIAS]
    adapted = [
        Task._meta.get_field(name).get_db_prep_save(value, db)
        for name, value in (
            ("flow_task", node),
            ("flow_task_type", node.task_type),
            ("status", status),
        )
    ]
    head = ", ".join(facts.sql_literal(value) for value in adapted)
    if permission is None:
        return head, "NULL, '{}'::jsonb"
    adapted_permission = Task._meta.get_field("owner_permission").get_db_prep_save(permission, db)
    return head, f"{facts.sql_literal(adapted_permission)}, '{{}}'::jsonb"


def _write_by_depth(
    process: CaseProcess,
    process_row: tuple[Any, ...],
    ordered: list[PlannedTask],
    *,
    clock: datetime,
) -> None:
    """The process, then one INSERT of task rows per split depth, then the links."""
    process.pk = _insert_case_process(process, process_row)
    for depth in sorted({row.depth for row in ordered}):
        rows = [row for row in ordered if row.depth == depth]
        pks = _insert(
            Task,
            _TASK_FIELDS,
            [_task_values(process.pk, row, clock=clock, token=Token(row.token())) for row in rows],
        )
        for row, pk in zip(rows, pks, strict=True):
            row.pk = pk
    _insert(
        Task.previous.through,
        ("from_task", "to_task"),
        [(row.pk, row.previous.pk) for row in ordered if row.previous is not None],
        returning=False,
    )


# PostgreSQL writes the whole restart in one statement: the pks of the new
# process and tasks are drawn from their identity sequences first (`pid`,
# `ids`, materialised once since `nextval` is volatile; the task pks sorted,
# so they ascend in the engine's row order as before), so that tokens and
# `previous` links can name them. Every data-modifying CTE runs to
# completion whether or not the final SELECT reads it; all of them see the
# snapshot taken before the statement, so the cancel of the case's open
# processes does not see the process this statement inserts.
@functools.cache
def _next_pks_sql() -> tuple[str, str]:
    """The `pid` and `ids` CTEs' SQL (`ids` takes the row count): each
    table's identity sequence looked up once per process and named as a
    literal, not looked up again for every drawn pk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id')", [_P, _T]
        )
        names = cursor.fetchone()
    try:
        process_seq, task_seq = (facts.sql_literal(name) for name in names)
    except ValueError:  # a quoted name: looked up in the statement, as before
        process_seq, task_seq = (f"pg_get_serial_sequence('{table}', 'id')" for table in (_P, _T))
    return (
        f"SELECT nextval({process_seq}::regclass) AS id",
        "SELECT array_agg(id ORDER BY id) AS a FROM"  # noqa: S608 - sequence names from the catalog
        f" (SELECT nextval({task_seq}::regclass) AS id FROM generate_series(1, %s)) s",
    )


def _token_sql(row: PlannedTask, index: dict[int, int], params: list[Any]) -> str:
    """The SQL expression of `row`'s token (see `PlannedTask.token`), the
    split pks read from `ids.a`; its literal parts appended to `params`."""
    if row.split is None:
        if row.previous is None:
            params.append("start")
            return "%s::text"
        return _token_sql(row.previous, index, params)
    prefix = _token_sql(row.split, index, params)
    params.append(f"_{row.branch}")
    split = index[id(row.split)]  # a row number, not data
    return f"{prefix} || '/' || (SELECT a[{split}] FROM ids)::text || %s::text"  # noqa: S608


# Stand-ins for the pks of the new process and of its n-th task row in the
# audit events appended with the rows (`append_statement` puts the drawn
# pks in their place inside the statement).
_PK_STAND_IN = 918273645546371000


def _write_in_one(
    process: CaseProcess,
    process_row: tuple[Any, ...],
    planned: list[PlannedTask],
    ordered: list[PlannedTask],
    *,
    clock: datetime,
    cancel: list[TaskRow] | None,
    now: datetime | None,
) -> bool:
    """Write as `process_write` says in one statement; return whether the
    task events went with it (else the caller appends them one by one)."""
    # The connection itself, not the proxy: about seventy field adaptations
    # per restart each read it.
    db = connections[DEFAULT_DB_ALIAS]
    index = {id(row): number for number, row in enumerate(ordered, start=1)}
    ctes: list[str] = []
    params: list[Any] = []
    # The change's own UPDATE and event, when held back for this statement
    # (audit.services.held_events), go first, the event before the task
    # events in the case's chain (`_events_appended`).
    held = audit_services.held_take(audit_services.chain_key_for(case_id=process.case_id))
    appended = _events_appended(process, planned, cancel, index, held)
    if appended is None and held:
        # The task events go one by one after this statement: the held ones now.
        audit_services.held_send(held)
        held = []
    counts: list[tuple[audit_services.Preceding, str]] = []
    for number, item in enumerate(held):
        if item.preceding is not None:
            ctes.append(f"hw{number} AS ({item.preceding.sql})")
            params += item.preceding.params
            counts.append((item.preceding, f"(SELECT count(*) FROM hw{number})"))  # noqa: S608
    if cancel is not None:
        finished = db.ops.adapt_datetimefield_value(now or clock)
        if cancel:
            marks = ", ".join(["%s"] * len(cancel))
            ctes.append(
                f"ct AS (UPDATE {_T} SET status = %s, finished = %s WHERE id IN ({marks}))"  # noqa: S608
            )
            params += [STATUS.CANCELED.value, finished, *(t.pk for t in cancel)]
        ctes.append(f"cp AS ({_CANCEL_PROCESSES_SQL})")
        params += [PROCESS.CANCELED.value, finished, process.case_id]
    next_process_pk, next_task_pks = _next_pks_sql()
    ctes.append(f"pid AS MATERIALIZED ({next_process_pk})")
    ctes.append(f"ids AS MATERIALIZED ({next_task_pks})")
    params.append(len(ordered))
    process_fields = [Process._meta.get_field(name) for name in _PROCESS_FIELDS]
    names = ", ".join(db.ops.quote_name(f.column) for f in process_fields)
    marks = ", ".join(["%s"] * len(process_fields))
    ctes.append(
        f"p AS (INSERT INTO {_P} (id, {names}) VALUES ((SELECT id FROM pid), {marks}))"  # noqa: S608
    )
    params += [
        field.get_db_prep_save(value, db)
        for field, value in zip(process_fields, process_row, strict=True)
    ]
    ctes.append(f"l AS (INSERT INTO {_CP} (process_ptr_id, case_id) SELECT id, %s FROM pid)")  # noqa: S608
    params.append(process.case_id)
    task_fields = [Task._meta.get_field(name) for name in _TASK_FIELDS]
    # Each value as its field adapts it (`_task_values`, `get_db_prep_save`);
    # what a node's row always holds once per process (`_constants_sql`),
    # the clock once per restart.
    adapt_time = task_fields[_TASK_FIELDS.index("created")].get_db_prep_save
    ctes.append("k AS (SELECT %s::timestamptz AS c)")  # the clock, once
    params.append(adapt_time(clock, db))
    rows_sql = []
    for row in ordered:
        number = index[id(row)]  # a row number, not data
        cells = [f"(SELECT a[{number}] FROM ids)", "(SELECT id FROM pid)"]  # noqa: S608
        before_times, after_owner = _constants_sql(row.node, row.status, row.owner_permission)
        cells += [
            before_times,  # flow_task, flow_task_type, status
            "(SELECT c FROM k)",  # created
            "(SELECT c FROM k)" if row.node.task_type in ("START", "END") else "NULL",  # started
            "NULL" if row.is_open else "(SELECT c FROM k)",  # finished
        ]
        if row.scheduled is None:
            cells.append("NULL")
        else:
            cells.append("%s")
            params.append(adapt_time(row.scheduled, db))
        cells.append(_token_sql(row, index, params))
        cells += ["%s", after_owner]  # owner, owner_permission and data
        params.append(row.owner_id)
        rows_sql.append("(" + ", ".join(cells) + ")")
    task_names = ", ".join(db.ops.quote_name(f.column) for f in task_fields)
    ctes.append(f"t AS (INSERT INTO {_T} (id, {task_names}) VALUES {', '.join(rows_sql)})")  # noqa: S608
    links = [(index[id(row)], index[id(row.previous)]) for row in ordered if row.previous]
    if links:
        pairs = ", ".join(f"({a}, {b})" for a, b in links)  # row numbers, not data
        ctes.append(
            f"pl AS (INSERT INTO {Task.previous.through._meta.db_table} (from_task_id, to_task_id)"  # noqa: S608
            f" SELECT ids.a[v.f], ids.a[v.t] FROM ids, (VALUES {pairs}) v(f, t))"
        )
    if appended is not None:
        ctes += appended[0]
        params += appended[1]
    counted = "".join(f", {count}" for _, count in counts)
    statement = f"WITH {', '.join(ctes)} SELECT (SELECT id FROM pid), (SELECT a FROM ids){counted}"  # noqa: S608
    with db.cursor() as cursor:
        cursor.execute(statement, params)
        process_pk, task_pks, *rows = cursor.fetchone()
    process.pk = process_pk
    for row, pk in zip(ordered, task_pks, strict=True):
        row.pk = pk
    for (preceding, _), count in zip(counts, rows, strict=True):
        preceding.rows = count
    for item in held:
        item.sent()
    return appended is not None


def _events_appended(
    process: CaseProcess,
    planned: list[PlannedTask],
    cancel: list[TaskRow] | None,
    index: dict[int, int],
    held: list[audit_services.Held],
) -> tuple[list[str], list[Any]] | None:
    """The CTEs and parameters that append the held events, then the task
    events (the cancelled tasks', then the assigned ones', whose pks stand
    in until the statement draws them), after every event this transaction
    wrote before; an empty append when there are none, None when they must
    go one by one (`audit.services.append_statement`)."""
    events = [item.event for item in held]
    events += [
        context.task_event_new(task, "cancelled", case_id=process.case_id)
        for task in _audited_on_cancel(cancel or [])
    ]
    stand_ins = {_PK_STAND_IN: "(SELECT id FROM pid)"}
    for row in _assigned(planned):
        number = index[id(row)]
        stand_ins[_PK_STAND_IN + number] = f"(SELECT a[{number}] FROM ids)"  # noqa: S608
        task = _assigned_row(row, _PK_STAND_IN + number, _PK_STAND_IN)
        events.append(context.task_event_new(task, "assigned", case_id=process.case_id))
    if not events:
        return [], []
    return audit_services.append_statement(events, prefix="ev", stand_ins=stand_ins)


def same_work(tasks: list[TaskRow], planned: list[PlannedTask]) -> bool:
    """The open tasks (all of one process) are exactly the planned open
    ones; or there are none and a start would open none (every branch of
    the case has ended: another finished process would only add rows)."""
    current = Counter(
        (t.flow_task.name, t.status, t.owner_id, t.owner_permission or None, t.scheduled)
        for t in tasks
    )
    wanted = Counter(row.key() for row in planned if row.is_open)
    return len({t.process_id for t in tasks}) <= 1 and current == wanted


def open_work_cancel(tasks: list[TaskRow], *, case_id: int, now: datetime) -> None:
    """Cancel `tasks` (the case's open tasks) and every open process of the
    case, one UPDATE each (in one statement on PostgreSQL), and audit the
    cancelled human tasks."""
    finished = connection.ops.adapt_datetimefield_value(now)
    processes = [PROCESS.CANCELED.value, finished, case_id]
    with connection.cursor() as cursor:
        if tasks:
            marks = ", ".join(["%s"] * len(tasks))
            update = f"UPDATE {_T} SET status = %s, finished = %s WHERE id IN ({marks})"  # noqa: S608
            params = [STATUS.CANCELED.value, finished, *(t.pk for t in tasks)]
            if connection.vendor == "postgresql":  # both in one round trip
                both = f"WITH tasks AS ({update}) {_CANCEL_PROCESSES_SQL}"
                cursor.execute(both, params + processes)
                processes = []
            else:
                cursor.execute(update, params)
        if processes:
            cursor.execute(_CANCEL_PROCESSES_SQL, processes)
    _cancelled_events(tasks, case_id=case_id)


def _audited_on_cancel(tasks: list[TaskRow]) -> list[TaskRow]:
    """The tasks viewflow's cancel transition takes (new or assigned human
    tasks) are audited, as `CaseTaskActivation.cancel` does; timers and a
    started or failed task go without an event."""
    return [
        task
        for task in tasks
        if task.flow_task_type == "HUMAN" and task.status in (STATUS.NEW, STATUS.ASSIGNED)
    ]


def _cancelled_events(tasks: list[TaskRow], *, case_id: int) -> None:
    for task in _audited_on_cancel(tasks):
        context.task_event(task, "cancelled", case_id=case_id)
