"""The workspace lists at scale: server time and queries per page.

Data (written once with set-based INSERT ... SELECT statements, as in
bench/sweeps.py, and reused by later runs): a bench team of 50 integration
managers with 10,000 open cases, one of whom has 150 of them, among
200,000 cases in all (190,000 more of 100 managers of another team, a
fifth of them closed); persons with umlauts and accents in their names;
20 Gemeinden; 200 extension requests waiting in the team.

Measured per page, through Django's test client with the whole middleware
stack (session, sign-in with a verified second factor, the template
rendered): server time (median of ROUNDS) and the number of queries. Each
page has a floor measured in the same run, alternating with Lotse: the
bare SQL such a page needs, hand-written for PostgreSQL and sent through
psycopg (count, one page of rows, and the read log or the caseload: 3
statements). Goals: at most 10 queries and under 150 ms per page. The run
fails above 10 queries (load cannot change that count), above
COLLAPSE_RATIO times the floor (a page that reads every case instead of the
team's or the manager's own, as a search folding names in SQL once did, at
65 to 220 times the floor), or at 150 ms or more (which also depends on the
machine's load: see the load average printed with the part).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

TEAM_MANAGERS = 50
TEAM_OPEN = 10_000
OWN_CASES = 150
ALL_CASES = 200_000
BACKGROUND_MANAGERS = 100
GEMEINDEN = 20
WAITING_EXTENSIONS = 200
ROUNDS = 15
GOAL_QUERIES = 10
GOAL_MS = 150.0
# Django's share of a page (session, sign-in, forms, template) is a few tens
# of milliseconds whatever the data; against the manager list's floor of a
# few milliseconds that is a ratio near 10.
COLLAPSE_RATIO = 25.0
OPEN = ("REGISTERED", "INITIAL_COUNSELLING", "PLANNING", "ACTIVE", "DORMANT", "CLOSING")
FAMILY = [
    "Müller",
    "Mueller",
    "Şahin",
    "Haddad",
    "Ördek",
    "Kovalenko",
    "Nguyễn",
    "Groß",
    "Tesfaye",
    "Rahimi",
    "Łukasiewicz",
    "Abdi",
]
GIVEN = ["Amal", "Émile", "Zeynep", "Olena", "Dawit", "Samira", "Farid", "Iryna", "Kwame", "Jörg"]

PERSONS_SQL = """
WITH made AS (
    INSERT INTO cases_person (
        traeger_id, family_name, given_names, date_of_birth_approximate, sex, nationality,
        languages, literacy, phone, address, ukraine_displaced, obliged_to_leave, created_at)
    SELECT %(traeger)s, (%(family)s::text[])[1 + g %% 12] || ' ' || g,
           (%(given)s::text[])[1 + (g / 12) %% 10], false, 'UNKNOWN', '', '', 'UNKNOWN', '', '',
           false, false, %(now)s
    FROM generate_series(1, %(count)s) g
    RETURNING id
)
INSERT INTO bench_ws_person SELECT id, row_number() OVER (ORDER BY id) FROM made
"""

# Status by n % 20: 2 registered, 2 initial counselling, 1 planning, 11
# active, 1 dormant, 1 closing and (unless all are open) 2 closed.
CASES_SQL = """
INSERT INTO cases_case (
    person_id, programme, status, traeger_id, gemeinde_id, owner_id, intake_channel,
    registered_at, anonymous_mode, legal_hold, eligibility_basis, rejection_reason,
    consultation_start, regular_end, effective_end, next_review_at, plan_declined,
    plan_declined_reason, closing_ground, no_further_need, closed_at, closure_reason_id)
SELECT p.id, 'BW_IM', s.status, %(traeger)s,
       (%(gemeinden)s::bigint[])[1 + p.n %% %(n_gemeinden)s],
       (%(owners)s::bigint[])[1 + p.n %% %(n_owners)s],
       'HANDOVER_FSA', %(now)s, false, false,
       CASE WHEN s.status = 'REGISTERED' THEN '' ELSE 'FOLLOW_UP_ACCOMMODATION' END, '',
       CASE WHEN s.status = 'REGISTERED' THEN NULL ELSE s.start END,
       CASE WHEN s.status = 'REGISTERED' THEN NULL ELSE s.start + 1094 END,
       CASE WHEN s.status = 'REGISTERED' THEN NULL ELSE s.start + 1094 END,
       CASE WHEN s.status IN ('ACTIVE', 'DORMANT')
            THEN %(today)s::date + (p.n * 13) %% 200 - 20 END,
       false, '', CASE WHEN s.status = 'CLOSING' THEN 'GOALS_ACHIEVED' ELSE '' END, false,
       CASE WHEN s.status = 'CLOSED' THEN %(now)s - (p.n %% 300) * interval '1 day' END,
       CASE WHEN s.status = 'CLOSED' THEN %(closure)s::bigint END
FROM bench_ws_person p,
LATERAL (
    SELECT CASE
        WHEN p.n %% 20 < 2 THEN 'REGISTERED'
        WHEN p.n %% 20 < 4 THEN 'INITIAL_COUNSELLING'
        WHEN p.n %% 20 < 5 THEN 'PLANNING'
        WHEN p.n %% 20 < 16 THEN 'ACTIVE'
        WHEN p.n %% 20 < 17 THEN 'DORMANT'
        WHEN p.n %% 20 < 18 OR %(all_open)s THEN 'CLOSING'
        ELSE 'CLOSED' END AS status,
        %(today)s::date - (p.n * 37) %% 1090 AS start
) s
"""

MANAGER_WHERE = """
c.owner_id IN (
    SELECT g.principal_id FROM accounts_deputygrant g
    WHERE g.deputy_id = %(user)s AND g.valid_from <= %(now)s AND g.valid_until > %(now)s
      AND g.revoked_at IS NULL
    UNION ALL SELECT %(user)s)
AND c.status IN ('REGISTERED','INITIAL_COUNSELLING','PLANNING','ACTIVE','DORMANT','CLOSING')
"""
DEADLINE = """
LEAST(CASE WHEN c.status = 'ACTIVE' THEN c.next_review_at END,
      CASE WHEN c.status IN ('INITIAL_COUNSELLING','PLANNING','ACTIVE','DORMANT')
           THEN c.effective_end END)
"""
FLOOR_MANAGER = [
    f"SELECT count(*) FROM cases_case c WHERE {MANAGER_WHERE}",
    f"""SELECT c.id, c.status, c.next_review_at, c.effective_end, p.family_name, p.given_names,
               g.name, u.username, {DEADLINE} AS deadline
        FROM cases_case c JOIN cases_person p ON p.id = c.person_id
        JOIN accounts_user u ON u.id = c.owner_id
        LEFT JOIN accounts_gemeinde g ON g.id = c.gemeinde_id
        WHERE {MANAGER_WHERE} ORDER BY deadline NULLS LAST, c.id LIMIT 25""",
    """INSERT INTO audit_readaccess (user_id, user_role, case_id, view, accessed_at)
       SELECT %(user)s, 'INTEGRATION_MANAGER', unnest(%(ids)s::bigint[]), 'bench.floor',
              %(now)s""",
]
TEAM_WHERE = """
u.team_id = %(team)s AND c.status IN
    ('REGISTERED','INITIAL_COUNSELLING','PLANNING','ACTIVE','DORMANT','CLOSING')
"""
FLOOR_TEAM = [
    f"""SELECT count(*) FROM cases_case c JOIN accounts_user u ON u.id = c.owner_id
        WHERE {TEAM_WHERE}""",
    f"""SELECT c.id, c.status, c.next_review_at, c.effective_end, g.name, u.username,
               {DEADLINE} AS deadline,
               EXISTS (SELECT 1 FROM cases_extensionrequest e
                       WHERE e.case_id = c.id AND e.status = 'SUBMITTED') AS waiting
        FROM cases_case c JOIN accounts_user u ON u.id = c.owner_id
        LEFT JOIN accounts_gemeinde g ON g.id = c.gemeinde_id
        WHERE {TEAM_WHERE} ORDER BY deadline NULLS LAST, c.id LIMIT 25""",
    """SELECT u.id, u.username,
              count(c.id) FILTER (WHERE c.status IN
                  ('REGISTERED','INITIAL_COUNSELLING','PLANNING','ACTIVE','DORMANT','CLOSING')),
              count(c.id) FILTER (WHERE c.status = 'ACTIVE' AND c.next_review_at < %(today)s),
              count(c.id) FILTER (WHERE c.status IN
                  ('INITIAL_COUNSELLING','PLANNING','ACTIVE','DORMANT')
                  AND c.effective_end BETWEEN %(today)s AND %(today)s::date + 90)
       FROM accounts_user u LEFT JOIN cases_case c ON c.owner_id = u.id
       WHERE u.team_id = %(team)s AND u.role = 'INTEGRATION_MANAGER'
       GROUP BY u.id ORDER BY u.last_name, u.first_name, u.username""",
]


def _users(traeger: Any, team: Any, prefix: str, count: int, role: str) -> list[Any]:
    from accounts.models import User

    wanted = [f"{prefix}-{n:03d}" for n in range(count)]
    have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    User.objects.bulk_create(
        User(
            username=name,
            role=role,
            team=team,
            traeger=traeger,
            first_name="Bench",
            last_name=name,
            email=f"{name}@example.org",
            password="!",  # noqa: S106 - unusable
        )
        for name in wanted
        if name not in have
    )
    return list(User.objects.filter(username__in=wanted).order_by("username"))


def _organisation() -> dict[str, Any]:
    from accounts.models import Gemeinde, Kreis, Role, Team, Traeger, User

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    traeger, _ = Traeger.objects.get_or_create(
        name="Bench-Träger",
        defaults={"kind": "DISTRICT", "data_protection_regime": "DSGVO_LDSG_BW", "kreis": kreis},
    )
    gemeinden = [
        Gemeinde.objects.get_or_create(
            ags=f"0998{n:04d}", defaults={"name": f"Bench-Gemeinde {n}", "kreis": kreis}
        )[0]
        for n in range(GEMEINDEN)
    ]
    traeger.gemeinden.add(*gemeinden)
    team, _ = Team.objects.get_or_create(traeger=traeger, name="Bench-Workspace-Team")
    other, _ = Team.objects.get_or_create(traeger=traeger, name="Bench-Workspace-Background")
    lead, _ = User.objects.get_or_create(
        username="bench-ws-lead",
        defaults={"role": Role.SUPERVISOR, "team": team, "traeger": traeger},
    )
    return {
        "traeger": traeger,
        "gemeinden": [g.pk for g in gemeinden],
        "team": team,
        "managers": _users(traeger, team, "bench-ws", TEAM_MANAGERS, Role.INTEGRATION_MANAGER),
        "background": _users(
            traeger, other, "bench-ws-bg", BACKGROUND_MANAGERS, Role.INTEGRATION_MANAGER
        ),
        "lead": lead,
    }


def _insert(conn: Any, *, org: dict[str, Any], owners: list[int], count: int, **kw: Any) -> None:
    from cases.models import Catalogue, CatalogueEntry

    closure = (
        CatalogueEntry.objects.filter(catalogue=Catalogue.CLOSURE_REASON).order_by("pk").first()
    )
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE bench_ws_person (id bigint, n integer) ON COMMIT DROP")
        conn.execute(
            PERSONS_SQL,
            {
                "traeger": org["traeger"].pk,
                "family": FAMILY,
                "given": GIVEN,
                "now": kw["now"],
                "count": count,
            },
        )
        conn.execute(
            CASES_SQL,
            {
                "traeger": org["traeger"].pk,
                "gemeinden": org["gemeinden"],
                "n_gemeinden": len(org["gemeinden"]),
                "owners": owners,
                "n_owners": len(owners),
                "now": kw["now"],
                "today": kw["today"],
                "closure": closure.pk,
                "all_open": kw["all_open"],
            },
        )


def generate(url: str, org: dict[str, Any], now: datetime) -> None:
    """Write the bench cases unless an earlier run left exactly them."""
    from django.utils import timezone

    from cases.models import Case, Catalogue, CatalogueEntry

    today = timezone.localdate(now)
    manager, others = org["managers"][0], org["managers"][1:]
    team_open = Case.objects.filter(owner__team=org["team"], status__in=OPEN).count()
    own = Case.objects.filter(owner=manager, status__in=OPEN).count()
    background = Case.objects.filter(owner__in=org["background"]).count()
    with psycopg.connect(url, autocommit=True) as conn:
        if (team_open, own) != (TEAM_OPEN, OWN_CASES):
            # Set the team's earlier bench cases aside (bench data only).
            conn.execute(
                "UPDATE cases_case SET status = 'REJECTED' WHERE owner_id = ANY(%s) "
                "AND status = ANY(%s)",
                [[m.pk for m in org["managers"]], list(OPEN)],
            )
            for owners, count in (([manager.pk], OWN_CASES), ([m.pk for m in others], None)):
                _insert(
                    conn,
                    org=org,
                    owners=owners,
                    count=count or TEAM_OPEN - OWN_CASES,
                    now=now,
                    today=today,
                    all_open=True,
                )
            reason = (
                CatalogueEntry.objects.filter(catalogue=Catalogue.EXTENSION_REASON)
                .order_by("pk")
                .first()
            )
            conn.execute(
                """INSERT INTO cases_extensionrequest (case_id, reason_id, justification, months,
                       status, requested_by_id, created_at, submitted_at, decision_note)
                   SELECT c.id, %(reason)s, 'Bench', 6, 'SUBMITTED', c.owner_id, %(now)s,
                          %(now)s - (c.id %% 20) * interval '1 day', ''
                   FROM cases_case c
                   WHERE c.owner_id = ANY(%(owners)s) AND c.status = 'ACTIVE'
                     AND NOT EXISTS (SELECT 1 FROM cases_extensionrequest e
                                     WHERE e.case_id = c.id AND e.status IN ('DRAFT','SUBMITTED'))
                   ORDER BY c.id LIMIT %(count)s""",
                {
                    "reason": reason.pk,
                    "now": now,
                    "owners": [m.pk for m in org["managers"]],
                    "count": WAITING_EXTENSIONS,
                },
            )
        missing = ALL_CASES - TEAM_OPEN - background
        if missing > 0:
            _insert(
                conn,
                org=org,
                owners=[m.pk for m in org["background"]],
                count=missing,
                now=now,
                today=today,
                all_open=False,
            )
        # What autovacuum does on a live database: statistics, and the
        # visibility map that lets counts read the (owner, status) index alone.
        for table in ("cases_person", "cases_case", "cases_extensionrequest"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


def _client(user: Any) -> Any:
    """A signed-in browser session with a verified second factor."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _timed(op: Callable[[], Any]) -> float:
    began = time.perf_counter()
    op()
    return time.perf_counter() - began


def measure(lotse: Callable[[], Any], floor: Callable[[], Any]) -> tuple[float, float, float]:
    """Median ms of Lotse and floor, alternating, and the median ratio."""
    for _ in range(3):
        lotse(), floor()
    pairs = []
    for round_no in range(ROUNDS):
        if round_no % 2:
            lo, fl = _timed(lotse), _timed(floor)
        else:
            fl, lo = _timed(floor), _timed(lotse)
        pairs.append((lo * 1000, fl * 1000))
    return (
        statistics.median(p[0] for p in pairs),
        statistics.median(p[1] for p in pairs),
        statistics.median(p[0] / p[1] for p in pairs),
    )


def _queries(client: Any, url: str) -> tuple[int, int]:
    """Return the statements one request sends: all of them (BEGIN and
    COMMIT around the read log's INSERT included), and those alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    control = sum(q["sql"] in ("BEGIN", "COMMIT") for q in captured.captured_queries)
    return len(captured), control


def run(url: str, now: datetime) -> bool:
    from django.test.utils import override_settings
    from django.utils import timezone

    from cases.models import Case

    began = time.perf_counter()
    org = _organisation()
    generate(url, org, now)
    manager, lead, team = org["managers"][0], org["lead"], org["team"]
    total = Case.objects.count()
    print(
        f"bench workspace: {total:,} cases in the database; team of {TEAM_MANAGERS} managers "
        f"with {TEAM_OPEN:,} open cases, one with {OWN_CASES}; data ready in "
        f"{time.perf_counter() - began:.1f} s; medians of {ROUNDS} rounds"
    )
    today = timezone.localdate(now)
    params = {"user": manager.pk, "team": team.pk, "now": now, "today": today}
    pages = [
        ("manager list", manager, "/arbeitsplatz/faelle/", FLOOR_MANAGER),
        (
            "manager list, search",
            manager,
            "/arbeitsplatz/faelle/?q=m%C3%BCller&sort=-deadline",
            FLOOR_MANAGER,
        ),
        ("team list", lead, "/arbeitsplatz/team/", FLOOR_TEAM),
        ("team list, page 200", lead, "/arbeitsplatz/team/?page=200", FLOOR_TEAM),
        ("team list, filtered", lead, "/arbeitsplatz/team/?review=overdue&ending=90", FLOOR_TEAM),
        ("manager's day", manager, "/arbeitsplatz/", None),
        ("team view", lead, "/arbeitsplatz/", None),
    ]
    ok = True
    # DEBUG=false serves static files from the collected manifest; the
    # bench has not collected them, so it names them unhashed (a dict
    # lookup either way).
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static), psycopg.connect(url, autocommit=True) as raw:
        for label, user, path, floor_sql in pages:
            client = _client(user)

            def lotse(client: Any = client, path: str = path) -> None:
                response = client.get(path, secure=True)
                assert response.status_code == 200, (path, response.status_code)

            def floor(statements: list[str] | None = floor_sql) -> None:
                ids: list[int] = []
                for statement in statements or []:
                    cursor = raw.execute(statement, {**params, "ids": ids})
                    if cursor.description:
                        rows = cursor.fetchall()
                        ids = [row[0] for row in rows] if len(rows) > 1 else ids

            lotse()  # the session's first request signs it in (writes the session)
            queries, control = _queries(client, path)
            lotse_ms, floor_ms, ratio = measure(lotse, floor)
            counted = f"{queries:2d} queries" + (f" ({control} BEGIN/COMMIT)" if control else "")
            if floor_sql is None:
                print(f"  {label:22} {lotse_ms:7.1f} ms  {counted}  (no floor)")
                continue
            verdict = "met" if queries <= GOAL_QUERIES and lotse_ms < GOAL_MS else "MISSED"
            print(
                f"  {label:22} {lotse_ms:7.1f} ms  {counted}   floor "
                f"{floor_ms:6.1f} ms in {len(floor_sql)} statements   ratio {ratio:5.2f} "
                f"(collapse > {COLLAPSE_RATIO:.0f})   goal <= {GOAL_QUERIES} queries, "
                f"< {GOAL_MS:.0f} ms: {verdict}"
            )
            ok = ok and queries <= GOAL_QUERIES and ratio <= COLLAPSE_RATIO and lotse_ms < GOAL_MS
    if os.environ.get("BENCH_EXPLAIN"):
        explain(manager, lead, now)
    return ok


def explain(manager: Any, lead: Any, now: datetime) -> None:
    """Print PostgreSQL's plans of the two list queries (BENCH_EXPLAIN=1)."""
    from workspace import selectors

    for user, page in (
        (manager, selectors.manager_case_page),
        (lead, selectors.team_case_page),
    ):
        captured: list[Any] = []

        def keep(
            execute: Any, sql: str, params: Any, many: bool, context: Any, seen: Any = captured
        ) -> Any:
            seen.append((sql, params))
            return execute(sql, params, many, context)

        from django.db import connection

        with connection.execute_wrapper(keep):
            page(user=user, now=now, filters=selectors.CaseFilters(), page=1)
        for sql, sql_params in captured:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
                print("\n".join(row[0] for row in cursor.fetchall()), end="\n\n")
