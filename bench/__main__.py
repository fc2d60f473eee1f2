"""`make bench`: every measured figure of Lotse, each against a floor
measured in the same run.

- core: case transitions outside a guided task (`case_transition`, pause and
  resume round-robin: access check, row lock, guards, save, hash-chained
  audit event, flow restart, commit) against raw psycopg transactions of one
  UPDATE and one INSERT. The run fails below TARGET_RATIO of the floor.
- workflow: guided task steps beside a bare viewflow flow (bench/workflow.py).
- audit: the access report for one case over 10 million read-access rows
  (bench/audit.py).
- sweeps: deadline sweeps and the reminder pass over 200,000 open cases
  (bench/sweeps.py).
- handover: import of 10,000 handover rows, time and peak memory
  (bench/handover.py).
- caseload: migration import of 5,000 persons (cases in their states,
  flows, clocks) against a psycopg COPY floor (bench/caseload.py).
- reports: the Kennzahlen K1-K9 for the largest Kreis and the Land at state
  scale (bench/reports.py).
- workspace: the manager's case list (150 own cases among 200,000) and the
  supervisor's team list (10,000 open cases), server time and queries per
  page against the bare SQL of such a page (bench/workspace.py).

- load: a Kreis's day under Locust against two gunicorn nodes
  (bench/load.py).

`python -m bench` (make bench) runs every part; `python -m bench sweeps
audit` (PARTS="sweeps audit" make bench) only those. Each part runs in a
process of its own against a database of its own, named after the bench
database (BENCH_DATABASE_URL, default `lotse_bench`) and the part:
`lotse_bench_core`, `lotse_bench_sweeps`, ... (created when missing,
migrated, reused across runs; synthetic data only). So a figure never
depends on which parts ran before. Every part prints its floors beside its
figures and the machine's load average, and fails the run (exit 1) when it
misses its goal.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

if TYPE_CHECKING:
    from accounts.models import User

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/lotse_bench"
# A case transition made outside a guided task (API, sweeps, case actions)
# also cancels the case's open process and starts the next one at the new
# state. Through viewflow's start machinery that took about 45 statements
# more than the transition itself; workflows.engine writes the new
# process's rows itself (pause: 53 -> 15 statements in all, resume: 57 ->
# 16). Issue 23 took them to 6 and 7, BEGIN and COMMIT included: the row
# lock, (resume) the consultation guard, the UPDATE sent with its audit
# event, the open tasks read with the gateway facts, and one write of the
# cancel, the new process and its task rows with the task events
# (cancelled, assigned). The goal is measured against what an ORM
# application with a state machine and an audit trail writes (bench.models:
# select_for_update, django-fsm-2 transition, save, one audit row), in the
# same run; the raw psycopg floor (one UPDATE, one INSERT) is printed
# beside it. Since then (README, bench section): the transition's UPDATE and
# event ride in the restart's write (held events, 6 statements), the reads
# keep one generic plan and touch only the case's rows (literals, partial
# indexes), viewflow's indexes on empty columns are partial, and the part
# measures after a Kreis's earlier work (`history`).
TARGET_ORM_RATIO = 0.5
SECONDS = 6.0  # per measurement, split into ROUNDS slices
ROUNDS = 12
CASES = 50  # the round-robin set; one untimed round warms up

SCRATCH_TABLES = """
DROP TABLE IF EXISTS bench_floor_event, bench_floor_case;
CREATE TABLE bench_floor_case (
    id integer PRIMARY KEY, status varchar(20) NOT NULL, changed_at timestamptz NOT NULL
);
CREATE TABLE bench_floor_event (
    id bigserial PRIMARY KEY, case_id integer NOT NULL, occurred_at timestamptz NOT NULL,
    to_state varchar(30) NOT NULL, data jsonb NOT NULL
);
"""


def database_url() -> str:
    """Return the bench's own database (BENCH_DATABASE_URL), never the
    developer's DATABASE_URL: the bench writes rows that cannot be deleted
    (audit events)."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"bench: BENCH_DATABASE_URL must point to PostgreSQL, not {url.split(':')[0]}")
    os.environ["DATABASE_URL"] = url
    return url


def ensure_database(url: str) -> None:
    """Create the bench database unless it exists."""
    params = conninfo_to_dict(url)
    name = params["dbname"]
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Counter:
    """Feed op(0), op(1), ... across timed slices; measure each slice."""

    def __init__(self, op: Callable[[int], None]) -> None:
        self.op, self.next = op, 0
        for _ in range(CASES):  # one untimed round warms caches and plans
            self.step()

    def step(self) -> None:
        self.op(self.next)
        self.next += 1

    def rate(self, seconds: float) -> float:
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            self.step()
            done += 1
        return done / elapsed


def interleaved(floor_op: Counter, service_op: Counter) -> tuple[float, float, float]:
    """Return the median floor rate, service rate and paired ratio.

    Floor and service alternate in short slices (order swapped every
    round), so that load from anything else on the machine hits both alike.
    """
    (floor_rate, service_rate), (_, ratio) = interleaved_many([floor_op, service_op])
    return floor_rate, service_rate, ratio


def interleaved_many(ops: list[Counter]) -> tuple[list[float], list[float]]:
    """Return the median rate of each op and the median paired ratio of the
    last op to each (rates measured in short slices, the order rotated every
    round, so that load from elsewhere hits all alike)."""
    rates: list[list[float]] = [[] for _ in ops]
    ratios: list[list[float]] = [[] for _ in ops]
    for round_no in range(ROUNDS):
        order = list(range(len(ops)))
        order = order[round_no % len(ops) :] + order[: round_no % len(ops)]
        if round_no % 2:
            order.reverse()
        measured = {index: ops[index].rate(SECONDS / ROUNDS) for index in order}
        for index in range(len(ops)):
            rates[index].append(measured[index])
            ratios[index].append(measured[len(ops) - 1] / measured[index])
    return [statistics.median(r) for r in rates], [statistics.median(r) for r in ratios]


def target_status(i: int) -> str:
    """The state the i-th operation moves its case to (even rounds pause)."""
    return "DORMANT" if (i // CASES) % 2 == 0 else "ACTIVE"


@contextmanager
def floor(url: str) -> Iterator[Counter]:
    """Yield the floor: raw psycopg, one UPDATE and one INSERT per commit."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCRATCH_TABLES)
        conn.execute(
            "INSERT INTO bench_floor_case SELECT g, 'ACTIVE', now() FROM generate_series(1, %s) g",
            [CASES],
        )

        def op(i: int) -> None:
            case_id, status = i % CASES + 1, target_status(i)
            with conn.transaction():
                conn.execute(
                    "UPDATE bench_floor_case SET status = %s, changed_at = now() WHERE id = %s",
                    [status, case_id],
                )
                conn.execute(
                    "INSERT INTO bench_floor_event (case_id, occurred_at, to_state, data) "
                    "VALUES (%s, now(), %s, '{}')",
                    [case_id, status],
                )

        try:
            yield Counter(op)
        finally:
            conn.execute("DROP TABLE bench_floor_event, bench_floor_case")


@contextmanager
def orm_floor(now: datetime) -> Iterator[Counter]:
    """Yield the ORM floor: per transition, in one transaction, the row
    locked and loaded (`select_for_update`), a django-fsm-2 transition,
    `save()`, one audit row created (bench.models)."""
    from django.db import connection, transaction

    from bench.models import FloorCase, FloorEvent

    with connection.schema_editor() as editor:
        for model in (FloorEvent, FloorCase):
            editor.execute(f"DROP TABLE IF EXISTS {model._meta.db_table}")
        editor.create_model(FloorCase)
        editor.create_model(FloorEvent)
    FloorCase.objects.bulk_create(FloorCase(changed_at=now) for _ in range(CASES))
    ids = list(FloorCase.objects.order_by("pk").values_list("pk", flat=True))

    def op(i: int) -> None:
        with transaction.atomic():
            case = FloorCase.objects.select_for_update().get(pk=ids[i % CASES])
            from_state = case.status
            name = "pause" if target_status(i) == "DORMANT" else "resume"
            getattr(case, name)(at=now)
            case.save()
            FloorEvent.objects.create(
                case=case,
                occurred_at=now,
                transition=name,
                from_state=from_state,
                to_state=case.status,
                data={"reason": "OTHER"} if name == "pause" else {},
            )

    try:
        yield Counter(op)
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(FloorEvent)
            editor.delete_model(FloorCase)


def statements(op: Callable[[], None]) -> int:
    """The statements `op` sends (BEGIN, SAVEPOINT and COMMIT included)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        op()
    return len(captured)


def machine_load() -> str:
    """The load average beside every figure: the machine may be shared."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (5 min {five:.2f}) on {os.cpu_count()} cores"


def vacuum_analyze(*tables: str) -> None:
    """What autovacuum does on a live database, done now: statistics and the
    visibility map for tables the bench just filled (a fresh bench database
    has none, and plans made without them measure the planner, not Lotse)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def active_cases(now: datetime) -> tuple[User, list[int]]:
    """Return the bench manager and CASES new active cases, after the
    earlier work of a Kreis (`history`).

    The bench's clock stands still at `now`: the cases are driven to ACTIVE
    an hour before, and each gets a consultation recorded a minute after,
    so that every `resume` finds one recorded after its `pause`.
    """
    owner = _bench_manager()
    history(owner, now)
    return owner, _new_active_cases(owner, now, CASES)


def _bench_manager() -> User:
    from accounts.models import Kreis, Role, Team, Traeger, User

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    traeger, _ = Traeger.objects.get_or_create(
        name="Bench-Träger",
        defaults={"kind": "DISTRICT", "data_protection_regime": "DSGVO_LDSG_BW", "kreis": kreis},
    )
    team, _ = Team.objects.get_or_create(traeger=traeger, name="Bench-Team")
    owner, _ = User.objects.get_or_create(
        username="bench-manager",
        defaults={"role": Role.INTEGRATION_MANAGER, "team": team, "traeger": traeger},
    )
    return owner


def _new_active_cases(owner: User, now: datetime, count: int) -> list[int]:
    from cases import services
    from cases.demo import case_drive_to, consult
    from cases.models import Case, CaseStatus, Person

    ids = []
    for n in range(count):
        person = Person.objects.create(traeger=owner.traeger, family_name=f"Bench {n}")
        case = services.case_create(
            person=person,
            owner=owner,
            actor=owner,
            now=now - timedelta(hours=1),
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
        )
        case = case_drive_to(case=case, state=CaseStatus.ACTIVE, now=now - timedelta(hours=1))
        consult(case, now=now + timedelta(minutes=1))
        ids.append(case.pk)
    return ids


# A Kreis's database holds the work of the months before: processes, task
# rows and audit events by the ten thousand. On a new bench database the
# tables the transitions write are nearly empty when PostgreSQL first plans
# the statements (the prepared ones and the foreign-key checks it runs at
# commit) and their plans scan those tables whole, while the measurement
# adds thousands of rows to them: the figure then measured a new
# installation's first minutes, and depended on how often the part had run
# on the database before (0.23 of the ORM floor on a new database, 0.39 on
# one used before, same code). So the part first writes earlier work,
# HISTORY_CASES cases moved HISTORY_MOVES times each, and brings the
# statistics up to date (as autovacuum keeps them on a live database).
HISTORY_CASES = 200
HISTORY_MOVES = 10


def history(owner: User, now: datetime) -> None:
    """Write earlier work (see above), then the statistics."""
    from cases.services import case_transition

    ids = _new_active_cases(owner, now, HISTORY_CASES)
    for move in range(HISTORY_MOVES):
        name, args = ("pause", {"reason": "OTHER"}) if move % 2 == 0 else ("resume", {})
        for case_id in ids:
            case_transition(case=case_id, name=name, actor=owner, now=now, **args)
    vacuum_analyze(
        "cases_case",
        "cases_person",
        "cases_consultation",
        "cases_integrationplan",
        "cases_extensionrequest",
        "viewflow_process",
        "viewflow_task",
        "viewflow_task_previous",
        "workflows_caseprocess",
        "audit_auditevent",
    )


def service(owner: User, case_ids: list[int], now: datetime) -> Counter:
    """Return the service measurement: case_transition, pause and resume."""
    from cases.services import case_transition

    def op(i: int) -> None:
        case = case_ids[i % CASES]
        if target_status(i) == "DORMANT":
            case_transition(case=case, name="pause", actor=owner, now=now, reason="OTHER")
        else:
            case_transition(case=case, name="resume", actor=owner, now=now)

    return Counter(op)


def core(url: str, now: datetime) -> bool:
    """Case transitions outside a guided task against the ORM floor (and,
    printed beside it, the raw-SQL floor)."""
    owner, case_ids = active_cases(now)
    lotse = service(owner, case_ids, now)
    with floor(url) as raw_op, orm_floor(now) as orm_op:
        counts = [statements(orm_op.step), statements(lotse.step)]
        (raw_rate, orm_rate, service_rate), (raw_ratio, orm_ratio, _) = interleaved_many(
            [raw_op, orm_op, lotse]
        )
    print(
        f"bench core on {conninfo_to_dict(url)['dbname']}: {CASES} cases, {ROUNDS} slices of "
        f"{SECONDS / ROUNDS:.1f} s each, the order rotated; medians"
    )
    print(f"  floor raw psycopg (1 UPDATE + 1 INSERT per txn, 4 statements): {raw_rate:8.1f}/s")
    print(
        f"  floor ORM + django-fsm-2 + audit row ({counts[0]} statements):        "
        f"{orm_rate:8.1f}/s  ({orm_rate / raw_rate:.2f} of raw)"
    )
    print(
        f"  Lotse case_transition pause/resume ({counts[1]} statements):"
        f"       {service_rate:8.1f}/s  {orm_ratio:.2f} of the ORM floor "
        f"(goal >= {TARGET_ORM_RATIO}), {raw_ratio:.3f} of raw"
    )
    return orm_ratio >= TARGET_ORM_RATIO


def workflow_part(url: str, now: datetime) -> bool:
    from bench import workflow

    owner, case_ids = active_cases(now)
    return workflow.run(owner, case_ids, now)


def audit_part(url: str, now: datetime) -> bool:
    from bench import audit

    return audit.run(url)


def sweeps_part(url: str, now: datetime) -> bool:
    from bench import sweeps

    return sweeps.run(url, now)


def handover_part(url: str, now: datetime) -> bool:
    from bench import handover

    return handover.run(url, now)


def caseload_part(url: str, now: datetime) -> bool:
    from bench import caseload

    return caseload.run(url, now)


def reports_part(url: str, now: datetime) -> bool:
    from bench import reports

    return reports.run(url)


def workspace_part(url: str, now: datetime) -> bool:
    from bench import workspace

    return workspace.run(url, now)


def load_part(url: str, now: datetime) -> bool:
    from bench import load

    return load.run(url, now)


# `python -m bench` runs every part; `python -m bench sweeps audit` only those.
PARTS: dict[str, Callable[[str, datetime], bool]] = {
    "core": core,
    "workflow": workflow_part,
    "audit": audit_part,
    "sweeps": sweeps_part,
    "handover": handover_part,
    "caseload": caseload_part,
    "reports": reports_part,
    "workspace": workspace_part,
    "load": load_part,
}


def part_url(base: str, part: str) -> str:
    """The database of one part: the bench database's name and the part's."""
    pieces = urlsplit(base)
    return urlunsplit(pieces._replace(path=f"{pieces.path.rstrip('/')}_{part}"))


def run_part(name: str) -> int:
    """Run one part in this process against BENCH_DATABASE_URL (the part's
    own database, set by `main`)."""
    # Production settings: DEBUG=false matters, since DEBUG records every
    # query and would measure the debug wrapper instead of Lotse.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    url = database_url()
    ensure_database(url)

    import django
    from django.core.management import call_command
    from django.utils import timezone

    django.setup()
    call_command("migrate", verbosity=0)
    print(f"== bench {name} on {conninfo_to_dict(url)['dbname']}; {machine_load()}", flush=True)
    began = time.perf_counter()
    ok = PARTS[name](url, timezone.now())
    print(
        f"== bench {name}: {'goal met' if ok else 'goal MISSED'} in "
        f"{time.perf_counter() - began:.0f} s; {machine_load()}",
        flush=True,
    )
    return 0 if ok else 1


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--part"]:
        return run_part(args[1])
    names = args or list(PARTS)
    unknown = [name for name in names if name not in PARTS]
    if unknown:
        sys.exit(f"bench: unknown part {', '.join(unknown)}; parts: {', '.join(PARTS)}")
    base = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    failed = []
    for name in names:
        env = {**os.environ, "BENCH_DATABASE_URL": part_url(base, name)}
        command = [sys.executable, "-m", "bench", "--part", name]  # parts named above
        done = subprocess.run(command, env=env, check=False)  # noqa: S603
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"bench: goal missed in {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
