"""Deadline sweep and reminder pass over 200,000 open cases, 10% due.

Data: 200,000 ACTIVE cases of a bench manager, written with two set-based
INSERT ... SELECT statements (persons, cases); 10% have a consultation
period that ended yesterday (due for `period_expired`), the rest end within
three years, and every case has a plan review within six months (so the
reminder pass has real work: reviews due soon and periods ending). The bench
cases of an earlier run are first set aside (rejected) with one UPDATE
(bench data only), so each run starts from the same picture.

Measured, each beside a floor taken in the same run:
- finding the due cases: `sweep_candidates` (the ORM scan the sweep uses)
  against the same scan in hand-written SQL through psycopg;
- processing them, one case per transaction: `deadline_sweep` (claim with
  SKIP LOCKED, `case_transition` with guard, audit event, notification, flow
  restart) on BENCH_SWEEP_SAMPLE due cases (default 2,000; set 20000 for
  all), projected to all due cases, against the raw psycopg transaction
  floor of bench/__main__.py (one UPDATE and one INSERT per commit);
- the same processing as production runs it: LOTSE_SWEEP_SHARDS sweeps side
  by side in as many processes (beat sends one message per shard, the
  worker runs them in its processes), each over the next sample's cases of
  its shard; the whole sweep is projected from this rate;
- the reminder pass (`reminders_run`) over all open cases, and its second
  run, which must write nothing.
Goals: the whole sweep (scan + processing of all due cases) under 60 s, the
reminder pass under 10 s; the part fails when it misses either.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import datetime

import psycopg

CASES = 200_000
DUE_SHARE = 10  # every 10th case is due
SWEEP_GOAL_SECONDS = 60.0
REMINDER_GOAL_SECONDS = 10.0
TARGET_RATIO = 0.02  # processing rate against the floor: catches a collapse only
FLOOR_SECONDS = 3.0


def _owner():
    from accounts.models import Kreis, Role, Team, Traeger, User

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    traeger, _ = Traeger.objects.get_or_create(
        name="Bench-Träger",
        defaults={"kind": "DISTRICT", "data_protection_regime": "DSGVO_LDSG_BW", "kreis": kreis},
    )
    team, _ = Team.objects.get_or_create(traeger=traeger, name="Bench-Sweep-Team")
    owner, _ = User.objects.get_or_create(
        username="bench-sweep-manager",
        defaults={
            "role": Role.INTEGRATION_MANAGER,
            "team": team,
            "traeger": traeger,
            "email": "bench-sweep@example.org",
        },
    )
    User.objects.get_or_create(
        username="bench-sweep-lead",
        defaults={"role": Role.SUPERVISOR, "team": team, "traeger": traeger},
    )
    return owner


def generate(url: str, owner, now: datetime) -> int:
    """Write CASES open cases of `owner`; return how many are due."""
    from django.utils import timezone

    today = timezone.localdate(now)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE cases_case SET status = 'REJECTED' WHERE owner_id = %s AND status IN "
            "('REGISTERED','INITIAL_COUNSELLING','PLANNING','ACTIVE','DORMANT','CLOSING')",
            [owner.pk],
        )
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE bench_person (id bigint, n integer) ON COMMIT DROP")
            conn.execute(
                """
                WITH made AS (
                    INSERT INTO cases_person (
                        traeger_id, family_name, given_names, date_of_birth_approximate, sex,
                        nationality, languages, literacy, phone, address, ukraine_displaced,
                        obliged_to_leave, created_at)
                    SELECT %s, 'Bench ' || g, '', false, 'UNKNOWN', '', '', 'UNKNOWN', '', '',
                           false, false, %s
                    FROM generate_series(1, %s) g
                    RETURNING id
                )
                INSERT INTO bench_person SELECT id, row_number() OVER (ORDER BY id) FROM made
                """,
                [owner.traeger_id, now, CASES],
            )
            conn.execute(
                """
                INSERT INTO cases_case (
                    person_id, programme, status, traeger_id, owner_id, intake_channel,
                    registered_at, anonymous_mode, legal_hold, eligibility_basis,
                    rejection_reason, consultation_start, regular_end, effective_end,
                    next_review_at, plan_declined, plan_declined_reason, closing_ground,
                    no_further_need)
                SELECT p.id, 'BW_IM', 'ACTIVE', %(traeger)s, %(owner)s, 'HANDOVER_FSA',
                       %(now)s, false, false, 'FOLLOW_UP_ACCOMMODATION', '',
                       %(today)s::date - 400,
                       CASE WHEN p.n %% %(share)s = 0 THEN %(today)s::date - 1
                            ELSE %(today)s::date + 1 + (p.n %% 1095) END,
                       CASE WHEN p.n %% %(share)s = 0 THEN %(today)s::date - 1
                            ELSE %(today)s::date + 1 + (p.n %% 1095) END,
                       %(today)s::date + (p.n %% 180),
                       false, '', '', false
                FROM bench_person p
                """,
                {
                    "traeger": owner.traeger_id,
                    "owner": owner.pk,
                    "now": now,
                    "today": today,
                    "share": DUE_SHARE,
                },
            )
        conn.execute("ANALYZE cases_case")
    return CASES // DUE_SHARE


def floor_scan(url: str, now: datetime) -> tuple[float, int]:
    from django.utils import timezone

    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        rows = conn.execute(
            "SELECT id FROM cases_case WHERE status = ANY(%s) AND effective_end < %s ORDER BY id",
            [["INITIAL_COUNSELLING", "PLANNING", "ACTIVE", "DORMANT"], timezone.localdate(now)],
        ).fetchall()
        return time.perf_counter() - started, len(rows)


def best_of(runs: int, measure) -> tuple[float, object]:
    results = [measure() for _ in range(runs)]
    return min(results, key=lambda pair: pair[0])


def _shard_sweep(job: tuple[list[int], datetime]) -> int:
    from django.db import connections

    from notifications import services

    candidates, now = job
    connections.close_all()  # a forked process opens its own connection
    try:
        return services.deadline_sweep(name="period_expired", now=now, candidates=candidates).done
    finally:
        connections.close_all()


def _sharded(ids: list[int], *, shards: int, now: datetime) -> float:
    """Sweep `ids` as `shards` sweeps side by side (each the ids of its
    shard, as `sweep_candidates(shard=..., shards=...)` selects them), in as
    many processes; return the cases moved per second."""
    from django.db import connections

    from notifications.services import sweep_shard_of

    jobs = [
        ([pk for pk in ids if sweep_shard_of(pk, shards=shards) == shard], now)
        for shard in range(shards)
    ]
    connections.close_all()  # never share the parent's connection with a fork
    begin = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(shards) as pool:
        done = sum(pool.map(_shard_sweep, jobs))
    seconds = time.perf_counter() - begin
    assert done == len(ids), (done, len(ids))
    return done / seconds


def run(url: str, now: datetime) -> bool:
    from django.conf import settings

    from bench.__main__ import floor
    from notifications import services

    sample = int(os.environ.get("BENCH_SWEEP_SAMPLE", "2000"))
    owner = _owner()
    started = time.perf_counter()
    due = generate(url, owner, now)
    made = time.perf_counter() - started
    print(f"sweeps: {CASES:,} open cases ({due:,} due) written in {made:.1f} s")

    floor_seconds, floor_found = best_of(3, lambda: floor_scan(url, now))

    def service_scan() -> tuple[float, list[int]]:
        begin = time.perf_counter()
        ids = services.sweep_candidates(name="period_expired", now=now)
        return time.perf_counter() - begin, ids

    scan_seconds, ids = best_of(3, service_scan)
    assert len(ids) == floor_found >= due, (len(ids), floor_found, due)
    print(f"  find due (hand-written SQL scan):               {floor_seconds * 1000:8.1f} ms")
    print(
        f"  find due (sweep_candidates, ORM):               {scan_seconds * 1000:8.1f} ms"
        f"  ratio {scan_seconds / floor_seconds:.2f}"
    )

    reminder_started = time.perf_counter()
    written = services.reminders_run(now=now)
    reminder_seconds = time.perf_counter() - reminder_started
    again_started = time.perf_counter()
    again = services.reminders_run(now=now)
    again_seconds = time.perf_counter() - again_started
    print(
        f"  reminder pass: {written:,} reminders in {reminder_seconds:.1f} s; "
        f"second pass {again} in {again_seconds:.1f} s  (goal < {REMINDER_GOAL_SECONDS:.0f} s)"
    )

    with floor(url) as floor_op:
        floor_rate = floor_op.rate(FLOOR_SECONDS)
    sample_ids = ids[: min(sample, len(ids))]
    begin = time.perf_counter()
    result = services.deadline_sweep(name="period_expired", now=now, candidates=sample_ids)
    process_seconds = time.perf_counter() - begin
    assert (result.done, result.failed) == (len(sample_ids), 0), result
    rate = len(sample_ids) / process_seconds
    print(f"  floor (raw psycopg: 1 UPDATE + 1 INSERT per txn): {floor_rate:8.1f}/s")
    print(
        f"  deadline_sweep (one case per txn), {len(sample_ids):,} cases: {rate:8.1f}/s"
        f"  ratio {rate / floor_rate:.3f} (target >= {TARGET_RATIO})"
    )
    shards = settings.LOTSE_SWEEP_SHARDS
    rest = ids[len(sample_ids) :]
    parallel_ids = rest[: min(sample, len(rest))]
    if shards > 1 and parallel_ids:
        parallel_rate = _sharded(parallel_ids, shards=shards, now=now)
        print(
            f"  {shards} sharded sweeps side by side, {len(parallel_ids):,} cases:"
            f"  {parallel_rate:8.1f}/s  ({parallel_rate / rate:.2f}x one sweep)"
        )
        rate = parallel_rate
    projected = scan_seconds + len(ids) / rate
    label = "measured" if len(sample_ids) == len(ids) else "projected from the sample"
    verdict = "met" if projected < SWEEP_GOAL_SECONDS else "MISSED"
    print(
        f"  whole sweep of {len(ids):,} due cases ({label}): {projected:.1f} s"
        f"  (goal < {SWEEP_GOAL_SECONDS:.0f} s: {verdict})"
    )
    print(f"  reminder goal: {'met' if reminder_seconds < REMINDER_GOAL_SECONDS else 'MISSED'}")
    return (
        rate / floor_rate >= TARGET_RATIO
        and again == 0
        and projected < SWEEP_GOAL_SECONDS
        and reminder_seconds < REMINDER_GOAL_SECONDS
    )
