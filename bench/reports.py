"""Kennzahlen at state scale: Lotse's full K1-K9 report against a
hand-written SQL floor for the same figures, measured in the same run.

The data is the synthetic Land of `reports.synthetic` (scale 1: 200,000
persons, 1,000,000 consultations over three years, 100,000 plans with
500,000 goals, 44 Kreise, 1,000 Gemeinden, 1,200 managers), written once
into the bench database and reused by later runs. Measured: the last full
calendar year for the Kreis with the most cases and for the whole Land.
The floor is raw psycopg, one statement per group of figures, written by
hand for PostgreSQL (FILTER, percentile_cont, no ORM). Floor and Lotse
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

FLOOR_SQL = [
    # K2, K2x, K2d with the median
    """SELECT count(*) FILTER (WHERE k.status = 'COMPLETED'),
              count(*) FILTER (WHERE k.status = 'NO_SHOW'),
              count(*) FILTER (WHERE k.status = 'CANCELLED'),
              sum(k.duration_minutes) FILTER (WHERE k.status = 'COMPLETED'),
              percentile_cont(0.5) WITHIN GROUP (ORDER BY k.duration_minutes)
                  FILTER (WHERE k.status = 'COMPLETED')
       FROM cases_consultation k {join_k}
       WHERE {scope} AND k.held_on BETWEEN %(start)s AND %(end)s""",
    # K2a, K2c
    """SELECT k.form_id, k.setting_id, count(*) FROM cases_consultation k {join_k}
       WHERE {scope} AND k.status = 'COMPLETED' AND k.held_on BETWEEN %(start)s AND %(end)s
       GROUP BY 1, 2""",
    # K2b
    """SELECT t.catalogueentry_id, count(*) FROM cases_consultation_topics t
       JOIN cases_consultation k ON k.id = t.consultation_id {join_k}
       WHERE {scope} AND k.status = 'COMPLETED' AND k.held_on BETWEEN %(start)s AND %(end)s
       GROUP BY 1""",
    # K1
    """SELECT count(DISTINCT p.person_id) FROM cases_consultation_participants p
       JOIN cases_consultation k ON k.id = p.consultation_id {join_k}
       WHERE {scope} AND k.status = 'COMPLETED' AND k.held_on BETWEEN %(start)s AND %(end)s""",
    # K1a
    """SELECT count(DISTINCT c.person_id) FROM cases_case c
       WHERE {scope} AND c.consultation_start BETWEEN %(start)s AND %(end)s""",
    # K3, K3a
    """SELECT count(*) FROM cases_integrationplan ip JOIN cases_case c ON c.id = ip.case_id
       WHERE {scope} AND ip.version = 1 AND ip.agreed_at >= %(t0)s AND ip.agreed_at < %(t1)s""",
    """SELECT count(*) FROM cases_planreview r JOIN cases_integrationplan ip ON ip.id = r.plan_id
       JOIN cases_case c ON c.id = ip.case_id
       WHERE {scope} AND r.reviewed_on BETWEEN %(start)s AND %(end)s""",
    # K3b, K3c, K9
    """SELECT count(*),
              count(DISTINCT c.person_id) FILTER (WHERE EXISTS (
                  SELECT 1 FROM cases_integrationplan ip
                  WHERE ip.case_id = c.id AND ip.agreed_at < %(t1)s)),
              count(*) FILTER (WHERE c.consultation_start <= %(due)s),
              count(*) FILTER (WHERE c.effective_end < %(soon)s)
       FROM cases_case c
       WHERE {scope} AND c.consultation_start <= %(end)s
         AND (c.closed_at IS NULL OR c.closed_at >= %(t1)s) AND c.status <> 'REJECTED'""",
    """SELECT c.status, count(*) FROM cases_case c
       WHERE {scope} AND c.consultation_start <= %(end)s
         AND (c.closed_at IS NULL OR c.closed_at >= %(t1)s) AND c.status <> 'REJECTED'
       GROUP BY 1""",
    # K4, K4a
    """SELECT g.field_of_action_id, count(*) FROM cases_goal g
       JOIN cases_integrationplan ip ON ip.id = g.plan_id JOIN cases_case c ON c.id = ip.case_id
       WHERE {scope} AND ip.status <> 'SUPERSEDED'
         AND g.agreed_at >= %(t0)s AND g.agreed_at < %(t1)s
       GROUP BY 1""",
    """SELECT g.status, count(*) FROM cases_goal g
       JOIN cases_integrationplan ip ON ip.id = g.plan_id JOIN cases_case c ON c.id = ip.case_id
       WHERE {scope} AND ip.status <> 'SUPERSEDED'
         AND g.closed_at >= %(t0)s AND g.closed_at < %(t1)s
       GROUP BY 1""",
    # K5, K5a
    """SELECT r.target_service_id, count(*),
              count(*) FILTER (WHERE r.outcome = 'TAKEN_UP'),
              count(*) FILTER (WHERE r.outcome IN ('TAKEN_UP', 'NOT_TAKEN_UP'))
       FROM cases_referral r {join_r}
       WHERE {scope} AND r.referred_on BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    # K6
    """SELECT n.category_id, n.format, count(*) FROM cases_networkcontact n {join_n}
       WHERE {contact_scope} AND n.contact_date BETWEEN %(start)s AND %(end)s GROUP BY 1, 2""",
    # K7
    """SELECT e.status, e.reason_id, count(*) FROM cases_extensionrequest e {join_e}
       WHERE {scope} AND e.status IN ('APPROVED', 'REJECTED')
         AND e.decided_at >= %(t0)s AND e.decided_at < %(t1)s GROUP BY 1, 2""",
    # K8
    """SELECT c.closure_reason_id, count(*),
              avg(c.closed_at::date - c.consultation_start)
       FROM cases_case c
       WHERE {scope} AND c.closed_at >= %(t0)s AND c.closed_at < %(t1)s GROUP BY 1""",
    # the catalogue (labels and order for the breakdowns)
    """SELECT id, catalogue, key, label_de, "order", official_mapping, report_group
       FROM cases_catalogueentry""",
]


def floor_statements(kind: str) -> list[str]:
    """The floor's statements for a Kreis (scoped by its Träger) or the Land."""
    if kind == "land":
        scope, contact_scope = "TRUE", "TRUE"
        join_k = join_r = join_e = join_n = ""
    else:
        scope = "c.traeger_id IN (SELECT id FROM accounts_traeger WHERE kreis_id = %(unit)s)"
        contact_scope = (
            "u.traeger_id IN (SELECT id FROM accounts_traeger WHERE kreis_id = %(unit)s)"
        )
        join_k = "JOIN cases_case c ON c.id = k.case_id"
        join_r = "JOIN cases_case c ON c.id = r.case_id"
        join_e = "JOIN cases_case c ON c.id = e.case_id"
        join_n = "JOIN accounts_user u ON u.id = n.manager_id"
    # The case-only statements already name their case `c`.
    return [
        sql.format(
            scope=scope,
            contact_scope=contact_scope,
            join_k=join_k,
            join_r=join_r,
            join_e=join_e,
            join_n=join_n,
        )
        for sql in FLOOR_SQL
    ]


def ensure_synthetic_land(stdout: Any) -> None:
    """Seed the synthetic Land once; later runs reuse it."""
    from django.utils import timezone

    from accounts.models import Kreis
    from reports.synthetic import BASE, MARKER, synthetic_land_seed

    if Kreis.objects.filter(name__startswith=MARKER).count() >= BASE["kreise"]:
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
    """Print the figures; return whether Lotse stays within TARGET_RATIO."""
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
    with psycopg.connect(url, autocommit=True) as raw:
        for kind, unit in (
            ("kreis", Unit(UnitKind.KREIS, kreis_id, "Kreis")),
            ("land", Unit(UnitKind.LAND, 0, "Land")),
        ):
            statements = floor_statements(kind)

            def floor(statements: list[str] = statements) -> None:
                for statement in statements:
                    raw.execute(statement, params).fetchall()

            def lotse(unit: Unit = unit) -> None:
                kennzahlen_compute(unit=unit, period=period)

            lotse_s, floor_s, ratio = measure(lotse, floor)
            goal = GOALS_SECONDS[kind]
            print(
                f"  {kind:5}  Lotse {lotse_s:6.3f} s   floor (hand-written SQL) {floor_s:6.3f} s"
                f"   ratio {ratio:4.2f} (target <= {TARGET_RATIO})"
                f"   goal < {goal} s: {'met' if lotse_s < goal else 'missed'}",
                file=stdout,
            )
            ok = ok and ratio <= TARGET_RATIO
    return ok
