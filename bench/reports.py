"""Kennzahlen at state scale: Lotse's full K1-K9 report against a
hand-written SQL floor for the same figures, measured in the same run.

The data is the synthetic Land of `reports.synthetic` (scale 1: 200,000
persons, 1,000,000 consultations over three years, 100,000 plans with
500,000 goals, 44 Kreise, 1,000 Gemeinden, 1,200 managers), written once
into the bench database and reused by later runs. Measured: the last full
calendar year for the Kreis with the most cases and for the whole Land.
The floor is raw psycopg, one statement per group of figures, written by
hand for PostgreSQL (FILTER, no ORM; see FLOOR_SQL); before timing, the
bench checks that floor and Lotse count the same. Floor and Lotse
alternate (order swapped each round); medians are printed with the ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

ROUNDS = 5
TARGET_RATIO = 2.0  # Lotse within 2x its floor
GOALS_SECONDS = {"kreis": 0.3, "land": 1.0}

# The floor uses what Lotse uses: the consultations' and links' copies of
# the case's Träger and Gemeinde with their covering indexes, a Kreis
# resolved to its Träger once (the first statement, timed with the rest),
# one grouped pass for K2-K2d (the median from the duration histogram, as
# percentile_cont would sort every row), and semi-joins instead of
# correlated subqueries. It leaves out only what Python adds: the ORM,
# the catalogue rows turned into labelled breakdowns, the JSON shape.
FLOOR_SQL = [
    # K2, K2x, K2a, K2c, K2d (the histogram gives sum and median)
    """SELECT k.status, k.form_id, k.setting_id, k.duration_minutes, count(*)
       FROM cases_consultation k {join_k}
       WHERE {scope_k} AND k.held_on BETWEEN %(start)s AND %(end)s GROUP BY 1, 2, 3, 4""",
    # K2b
    """SELECT t.catalogueentry_id, count(*) FROM cases_consultation_topics t {join_t}
       WHERE {scope_t} AND t.status = 'COMPLETED' AND t.held_on BETWEEN %(start)s AND %(end)s
       GROUP BY 1""",
    # K1
    """SELECT count(DISTINCT t.person_id) FROM cases_consultation_participants t {join_t}
       WHERE {scope_t} AND t.status = 'COMPLETED' AND t.held_on BETWEEN %(start)s AND %(end)s""",
    # K1a
    """SELECT count(DISTINCT c.person_id) FROM cases_case c
       WHERE {scope_c} AND c.consultation_start BETWEEN %(start)s AND %(end)s""",
    # K3, K3a
    """SELECT count(*) FROM cases_integrationplan ip {join_ip}
       WHERE {scope_c} AND ip.version = 1 AND ip.agreed_at >= %(t0)s AND ip.agreed_at < %(t1)s""",
    """SELECT count(*) FROM cases_planreview r {join_pr}
       WHERE {scope_c} AND r.reviewed_on BETWEEN %(start)s AND %(end)s""",
    # K3c, K9
    """SELECT c.status, count(*), count(*) FILTER (WHERE c.consultation_start <= %(due)s),
              count(*) FILTER (WHERE c.effective_end < %(soon)s)
       FROM cases_case c
       WHERE {scope_c} AND c.consultation_start <= %(end)s
         AND (c.closed_at IS NULL OR c.closed_at >= %(t1)s) AND c.status <> 'REJECTED'
       GROUP BY 1""",
    # K3b
    """SELECT count(DISTINCT c.person_id) FROM cases_case c
       WHERE {scope_c} AND c.consultation_start <= %(end)s
         AND (c.closed_at IS NULL OR c.closed_at >= %(t1)s) AND c.status <> 'REJECTED'
         AND c.id IN (SELECT case_id FROM cases_integrationplan WHERE agreed_at < %(t1)s)""",
    # K4, K4a
    """SELECT g.field_of_action_id, count(*) FROM cases_goal g
       JOIN cases_integrationplan ip ON ip.id = g.plan_id {join_ip}
       WHERE {scope_c} AND ip.status <> 'SUPERSEDED'
         AND g.agreed_at >= %(t0)s AND g.agreed_at < %(t1)s
       GROUP BY 1""",
    """SELECT g.status, count(*) FROM cases_goal g
       JOIN cases_integrationplan ip ON ip.id = g.plan_id {join_ip}
       WHERE {scope_c} AND ip.status <> 'SUPERSEDED'
         AND g.closed_at >= %(t0)s AND g.closed_at < %(t1)s
       GROUP BY 1""",
    # K5, K5a
    """SELECT r.target_service_id, count(*),
              count(*) FILTER (WHERE r.outcome = 'TAKEN_UP'),
              count(*) FILTER (WHERE r.outcome IN ('TAKEN_UP', 'NOT_TAKEN_UP'))
       FROM cases_referral r {join_r}
       WHERE {scope_c} AND r.referred_on BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    # K6
    """SELECT n.category_id, n.format, count(*) FROM cases_networkcontact n {join_n}
       WHERE {scope_n} AND n.contact_date BETWEEN %(start)s AND %(end)s GROUP BY 1, 2""",
    # K7
    """SELECT e.status, e.reason_id, count(*) FROM cases_extensionrequest e {join_e}
       WHERE {scope_c} AND e.status IN ('APPROVED', 'REJECTED')
         AND e.decided_at >= %(t0)s AND e.decided_at < %(t1)s GROUP BY 1, 2""",
    # K8
    """SELECT c.closure_reason_id, count(*),
              avg(c.closed_at::date - c.consultation_start)
       FROM cases_case c
       WHERE {scope_c} AND c.closed_at >= %(t0)s AND c.closed_at < %(t1)s GROUP BY 1""",
    # the catalogue (labels and order for the breakdowns)
    """SELECT id, catalogue, key, label_de, "order", official_mapping, report_group
       FROM cases_catalogueentry""",
]
KREIS_TRAEGER_SQL = "SELECT id FROM accounts_traeger WHERE kreis_id = %(unit)s"


def floor_statements(kind: str) -> list[str]:
    """The floor's statements for a Kreis (by its Träger) or the Land."""
    if kind == "land":
        scopes = dict.fromkeys(("scope_c", "scope_k", "scope_t", "scope_n"), "TRUE")
        joins = dict.fromkeys(
            ("join_k", "join_t", "join_ip", "join_pr", "join_r", "join_e", "join_n"), ""
        )
    else:
        traeger = "= ANY(%(traeger)s)"
        scopes = {
            "scope_c": f"c.traeger_id {traeger}",
            "scope_k": f"k.traeger_id {traeger}",
            "scope_t": f"t.traeger_id {traeger}",
            "scope_n": f"u.traeger_id {traeger}",
        }
        joins = {
            "join_k": "",
            "join_t": "",
            "join_ip": "JOIN cases_case c ON c.id = ip.case_id",
            "join_pr": "JOIN cases_integrationplan ip ON ip.id = r.plan_id "
            "JOIN cases_case c ON c.id = ip.case_id",
            "join_r": "JOIN cases_case c ON c.id = r.case_id",
            "join_e": "JOIN cases_case c ON c.id = e.case_id",
            "join_n": "JOIN accounts_user u ON u.id = n.manager_id",
        }
    return [sql.format(**scopes, **joins) for sql in FLOOR_SQL]


def floor_disagrees(results: list[Any], figures: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Return the figures where the floor's rows and Lotse's report differ
    (floor value, Lotse value): the floor must count the same things."""
    k2, topics, k1, k1a, k3, k3a, stock, k3b, fields, outcomes = results[:10]
    referrals, contacts, extensions, closures = results[10:14]
    by_key = {row["key"]: row["count"] for row in figures["k2b_by_topic"]}
    keys = {row[0]: row[2] for row in results[14]}
    floor = {
        "k1_persons": k1[0][0],
        "k1a_new_persons": k1a[0][0],
        "k2_consultations": sum(row[4] for row in k2 if row[0] == "COMPLETED"),
        "k2x_no_show": sum(row[4] for row in k2 if row[0] == "NO_SHOW"),
        "k2d_minutes_total": sum(row[3] * row[4] for row in k2 if row[0] == "COMPLETED"),
        "k2b_by_topic": {keys[pk]: n for pk, n in topics},
        "k3_plans": k3[0][0],
        "k3a_reviews": k3a[0][0],
        "k3b_persons_with_plan": k3b[0][0],
        "k4_goals": sum(row[1] for row in fields),
        "k4a_closed_goals": sum(row[1] for row in outcomes),
        "k5_referrals": sum(row[1] for row in referrals),
        "k6_network_contacts": sum(row[2] for row in contacts),
        "k7_extensions": sum(row[2] for row in extensions),
        "k8_closures": sum(row[1] for row in closures),
        "k9_open_cases": sum(row[1] for row in stock),
    }
    lotse = {
        **{name: figures[name] for name in floor if name in figures},
        "k2b_by_topic": {key: n for key, n in by_key.items() if n},
        "k4a_closed_goals": sum(row["count"] for row in figures["k4a_goal_outcomes"]),
    }
    return {name: (floor[name], lotse[name]) for name in floor if floor[name] != lotse[name]}


def ensure_synthetic_land(stdout: Any) -> None:
    """Seed the synthetic Land once; later runs reuse it."""
    from django.utils import timezone

    from accounts.models import Kreis
    from reports.synthetic import BASE, MARKER, synthetic_land_seed

    if Kreis.objects.filter(name__startswith=MARKER).count() >= BASE["kreise"]:
        # A Land seeded before a migration that rewrote every row (cases/0005
        # filled the report copies) has lost its visibility map, and with it
        # the index-only scans, until autovacuum comes by: do it now (quick
        # when there is nothing to do).
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM (ANALYZE) cases_consultation, cases_consultation_topics, "
                "cases_consultation_participants"
            )
        return
    print("bench reports: seeding the synthetic Land once (a few minutes) ...", file=stdout)
    began = time.perf_counter()
    result = synthetic_land_seed(scale=1.0, now=timezone.now())
    print(f"  seeded in {time.perf_counter() - began:.0f} s: {result.counts}", file=stdout)


def _timed(op: Callable[[], Any]) -> float:
    began = time.perf_counter()
    op()
    return time.perf_counter() - began


def measure(lotse: Callable[[], Any], floor: Callable[[], Any]) -> tuple[float, float, float]:
    """Median seconds of Lotse and floor, and the median paired ratio."""
    lotse(), floor()  # warm caches and plans
    lotse_times, floor_times, ratios = [], [], []
    for round_no in range(ROUNDS):
        if round_no % 2 == 0:
            f, lo = _timed(floor), _timed(lotse)
        else:
            lo, f = _timed(lotse), _timed(floor)
        lotse_times.append(lo)
        floor_times.append(f)
        ratios.append(lo / f)
    return statistics.median(lotse_times), statistics.median(floor_times), statistics.median(ratios)


def run(url: str, stdout: Any = None) -> bool:
    """Print the figures; return whether Lotse stays within TARGET_RATIO of
    its floor and under each goal."""
    from django.conf import settings
    from django.db import connection

    from reports.models import UnitKind
    from reports.selectors import Period, Unit, kennzahlen_compute

    ensure_synthetic_land(stdout)
    year = date.today().year - 1  # noqa: DTZ011 - the bench's calendar, not domain time
    period = Period.year(year)
    zone = ZoneInfo(settings.TIME_ZONE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.kreis_id, count(*) FROM cases_case c "
            "JOIN accounts_traeger t ON t.id = c.traeger_id GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        )
        kreis_id, kreis_cases = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM cases_consultation")
        consultations = cursor.fetchone()[0]
    params = {
        "start": period.start,
        "end": period.end,
        "t0": datetime(year, 1, 1, tzinfo=zone),
        "t1": datetime(year + 1, 1, 1, tzinfo=zone),
        "due": period.end - timedelta(weeks=8),
        "soon": period.end + timedelta(days=183),
        "unit": kreis_id,
    }
    print(
        f"bench reports: K1-K9 for {year}; {consultations:,} consultations in the Land, "
        f"largest Kreis {kreis_id} with {kreis_cases:,} cases; medians of {ROUNDS} rounds",
        file=stdout,
    )
    ok = True
    # No prepared statements: their generic plans would slow the floor down.
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as raw:
        for kind, unit in (
            ("kreis", Unit(UnitKind.KREIS, kreis_id, "Kreis")),
            ("land", Unit(UnitKind.LAND, 0, "Land")),
        ):
            statements = floor_statements(kind)

            def floor(statements: list[str] = statements, kind: str = kind) -> list[Any]:
                bound = dict(params)
                if kind == "kreis":
                    rows = raw.execute(KREIS_TRAEGER_SQL, params).fetchall()
                    bound["traeger"] = [row[0] for row in rows]
                return [raw.execute(statement, bound).fetchall() for statement in statements]

            def lotse(unit: Unit = unit) -> dict[str, Any]:
                return kennzahlen_compute(unit=unit, period=period)

            mismatches = floor_disagrees(floor(), lotse())
            if mismatches:
                print(f"  {kind}: floor and Lotse disagree: {mismatches}", file=stdout)
                return False
            lotse_s, floor_s, ratio = measure(lotse, floor)
            goal = GOALS_SECONDS[kind]
            print(
                f"  {kind:5}  Lotse {lotse_s:6.3f} s   floor (hand-written SQL) {floor_s:6.3f} s"
                f"   ratio {ratio:4.2f} (target <= {TARGET_RATIO})"
                f"   goal < {goal} s: {'met' if lotse_s < goal else 'MISSED'}",
                file=stdout,
            )
            ok = ok and ratio <= TARGET_RATIO and lotse_s < goal
    return ok
