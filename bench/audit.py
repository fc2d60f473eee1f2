"""The access report for one case over 10 million read-access rows.

RELIABILITY.md A5: "who accessed case X in period P" answers in under
2 s on 10M events. The rows are generated once in the bench database with
one `INSERT ... SELECT generate_series` (about a minute or more; reused
by later runs): 10,000,000 reads over about a year by 50 users, 1 % of
them of one busy case (100,000 reads), the rest spread over 20,000 cases.

Measured: what the report page asks of the database, through Lotse's
selectors (per-user summary, number of reads for the pager, first page
of 50 reads), over the busy case's whole year. Floor: the same three
queries as hand-written SQL through psycopg, in the same run.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from typing import Any

import psycopg

ROWS = 10_000_000
USERS = 50
BUSY_CASE = 2_000_000_000  # no real case: ReadAccess.case_id is no foreign key
OTHER_CASES = 20_000
START = "2025-01-01 00:00:00+00"
STEP_SECONDS = 3  # 10M reads, one every 3 s: about 347 days
PAGE = 50
REPEATS = 15
LIMIT_SECONDS = 2.0
VIEW = "bench.generated"

GENERATE = f"""
INSERT INTO audit_readaccess (user_id, user_role, case_id, view, accessed_at)
SELECT (%(users)s::bigint[])[1 + ((g / 100) %% {USERS})],
       'INTEGRATION_MANAGER',
       CASE WHEN g %% 100 = 0 THEN {BUSY_CASE}
            ELSE {BUSY_CASE} + 1 + (g %% {OTHER_CASES}) END,
       '{VIEW}',
       timestamptz '{START}' + g * interval '{STEP_SECONDS} seconds'
FROM generate_series(1, {ROWS}) AS g
"""


def bench_users() -> list[int]:
    from accounts.models import Kreis, Role, Team, Traeger, User

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    traeger, _ = Traeger.objects.get_or_create(
        name="Bench-Träger",
        defaults={"kind": "DISTRICT", "data_protection_regime": "DSGVO_LDSG_BW", "kreis": kreis},
    )
    team, _ = Team.objects.get_or_create(traeger=traeger, name="Bench-Team")
    ids = []
    for n in range(USERS):
        user, _ = User.objects.get_or_create(
            username=f"bench-reader-{n}",
            defaults={"role": Role.INTEGRATION_MANAGER, "team": team, "traeger": traeger},
        )
        ids.append(user.pk)
    return ids


def ensure_rows(url: str) -> None:
    """Generate the 10M rows unless an earlier run did (one transaction:
    the marker read of the busy case's last second exists only if all do)."""
    with psycopg.connect(url, autocommit=True) as conn:
        last = conn.execute(
            "SELECT 1 FROM audit_readaccess WHERE case_id = %s AND view = %s "
            "AND accessed_at = %s::timestamptz + %s * interval '1 second'",
            [BUSY_CASE, VIEW, START, ROWS * STEP_SECONDS],
        ).fetchone()
        if last:
            return
        users = bench_users()
        print(f"audit bench: generating {ROWS:,} read-access rows (once)...", flush=True)
        start = time.perf_counter()
        with conn.transaction():
            # The bench connects as the superuser that owns the bench
            # database: skip the per-row foreign-key checks of the bulk
            # load (the user ids were just created), as pg_restore does.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(GENERATE, {"users": users})
        conn.execute("VACUUM (ANALYZE) audit_readaccess")
        print(f"  generated in {time.perf_counter() - start:.0f} s", flush=True)


def period() -> tuple[datetime, datetime]:
    since = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
    return since, since + timedelta(days=366)


def lotse_report() -> tuple[int, int, int]:
    from audit.selectors import case_access_summary, case_accesses

    since, until = period()
    summary = case_access_summary(case_id=BUSY_CASE, since=since, until=until)
    reads = case_accesses(case_id=BUSY_CASE, since=since, until=until)
    total = reads.count()
    page = list(reads[:PAGE])
    return len(summary), total, len(page)


def floor_report(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    from audit.selectors import case_access_report_floor_sql

    since, until = period()
    summary_sql, page_sql = case_access_report_floor_sql()
    summary = conn.execute(summary_sql, [BUSY_CASE, since, until]).fetchall()
    total = conn.execute(
        "SELECT count(*) FROM audit_readaccess "
        "WHERE case_id = %s AND accessed_at >= %s AND accessed_at < %s",
        [BUSY_CASE, since, until],
    ).fetchone()[0]
    page = conn.execute(page_sql, [BUSY_CASE, since, until, PAGE]).fetchall()
    return len(summary), total, len(page)


def timed(op: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = op()
    return time.perf_counter() - start, result


def run(url: str) -> bool:
    ensure_rows(url)
    with psycopg.connect(url, autocommit=True) as conn:
        expected = floor_report(conn)  # warm both caches alike
        lotse_result = lotse_report()
        assert lotse_result == expected, (lotse_result, expected)
        floors, lotse, ratios = [], [], []
        for round_no in range(REPEATS):
            if round_no % 2 == 0:
                floor_s, _ = timed(lambda: floor_report(conn))
                lotse_s, _ = timed(lotse_report)
            else:
                lotse_s, _ = timed(lotse_report)
                floor_s, _ = timed(lambda: floor_report(conn))
            floors.append(floor_s)
            lotse.append(lotse_s)
            ratios.append(lotse_s / floor_s)
    worst = max(lotse)
    print(
        f"audit access report: case with {expected[1]:,} reads by {expected[0]} users "
        f"among {ROWS:,} rows, one year; {REPEATS} interleaved runs"
    )
    floor_ms = statistics.median(floors) * 1000
    print(f"  floor (hand-written SQL, 3 queries):   median {floor_ms:7.1f} ms")
    print(
        f"  Lotse report (selectors, 3 queries):   median {statistics.median(lotse) * 1000:7.1f} ms"
        f"  worst {worst * 1000:.1f} ms (target < {LIMIT_SECONDS:.0f} s)"
        f"  ratio {statistics.median(ratios):.2f}x the floor"
    )
    return worst < LIMIT_SECONDS


if __name__ == "__main__":
    # Only this benchmark: python -m bench.audit (same settings as make bench).
    import os
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    from bench.__main__ import database_url, ensure_database

    bench_url = database_url()
    ensure_database(bench_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    sys.exit(0 if run(bench_url) else 1)
