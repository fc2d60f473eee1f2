"""A Kreis's working day under load: Locust against two gunicorn nodes.

Data (in the part's own database, written once through the case services
and reused): a Kreis's Träger with 5 teams, each of 6 integration managers
and one supervisor (35 synthetic users, `bench-load-*`), and CASES_EACH open
cases per manager, half of them active and half resting (dormant).

The run: `collectstatic` into a temporary directory, two gunicorn nodes on
127.0.0.1 (BENCH_LOAD_PORTS, default 8105 and 8115) with DEBUG off and
production settings, the part's PostgreSQL database shared, then a headless
Locust run (bench/locustfile.py) of BENCH_LOAD_USERS users (default 100)
for BENCH_LOAD_SECONDS (default 300) against both nodes, each simulated
user on one node, alternating. Every simulated user has a signed-in
session (second factor verified) of one of the 35 accounts; managers open
their case pages, enter consultations, complete the guided `resume` task
of a resting case (which records a consultation), pause a case again,
search and page their lists and read their figures; supervisors read the
team list, the approvals, the dashboard and the Kennzahlen. Between two
steps a user thinks BENCH_LOAD_WAIT seconds (default "5,15": a page every
ten seconds on average, a busy office).

TLS ends in front of the nodes in production; Locust speaks plain HTTP to
127.0.0.1 as that proxy would, with `X-Forwarded-Proto: https`
(USE_X_FORWARDED_PROTO) and the cookies' Secure flag off for the run.

Goals: p95 under 300 ms and p99 under 1 s over all requests, no failed
request, and every write found afterwards: the consultations, resumptions
and pauses that Locust saw succeed are counted in the database (rows
recorded since the run began, and audit events) and must match exactly.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TEAMS = 5
MANAGERS_PER_TEAM = 6
CASES_EACH = 12  # per manager: half active, half resting
P95_MS = 300.0
P99_MS = 1000.0
FAMILY = ["Müller", "Şahin", "Haddad", "Kovalenko", "Nguyễn", "Tesfaye", "Rahimi", "Abdi"]
ROOT = Path(__file__).resolve().parent.parent


def settings_from_env() -> dict[str, Any]:
    wait = os.environ.get("BENCH_LOAD_WAIT", "5,15").split(",")
    return {
        "users": int(os.environ.get("BENCH_LOAD_USERS", "100")),
        "seconds": int(os.environ.get("BENCH_LOAD_SECONDS", "300")),
        "ports": [int(p) for p in os.environ.get("BENCH_LOAD_PORTS", "8105,8115").split(",")],
        "wait": [float(wait[0]), float(wait[1])],
        "workers": int(os.environ.get("BENCH_LOAD_WORKERS", "2")),
    }


def _organisation() -> dict[str, Any]:
    from accounts.models import Kreis, Role, Team, Traeger, User

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    traeger, _ = Traeger.objects.get_or_create(
        name="Bench-Träger",
        defaults={"kind": "DISTRICT", "data_protection_regime": "DSGVO_LDSG_BW", "kreis": kreis},
    )
    managers, supervisors = [], []
    for t in range(TEAMS):
        team, _ = Team.objects.get_or_create(traeger=traeger, name=f"Bench-Last-Team {t + 1}")
        lead, _ = User.objects.get_or_create(
            username=f"bench-load-lead-{t}",
            defaults={
                "role": Role.SUPERVISOR,
                "team": team,
                "traeger": traeger,
                "first_name": "Lead",
                "last_name": f"Team {t + 1}",
                "email": f"bench-load-lead-{t}@example.org",
            },
        )
        supervisors.append(lead)
        for m in range(MANAGERS_PER_TEAM):
            name = f"bench-load-im-{t}-{m}"
            user, _ = User.objects.get_or_create(
                username=name,
                defaults={
                    "role": Role.INTEGRATION_MANAGER,
                    "team": team,
                    "traeger": traeger,
                    "first_name": "Bench",
                    "last_name": name,
                    "email": f"{name}@example.org",
                },
            )
            managers.append(user)
    return {"traeger": traeger, "managers": managers, "supervisors": supervisors}


def _seed_cases(org: dict[str, Any], now: datetime) -> None:
    """Give every manager CASES_EACH open cases (active or resting), through
    the case services as the demo does; only the missing ones are made."""
    from cases import services
    from cases.demo import case_drive_to, consult
    from cases.models import OPEN_STATES, Case, CaseStatus, Person

    made = 0
    began = time.perf_counter()
    earlier = now - timedelta(days=2)
    for index, manager in enumerate(org["managers"]):
        have = Case.objects.filter(owner=manager, status__in=OPEN_STATES).count()
        for n in range(have, CASES_EACH):
            person = Person.objects.create(
                traeger=org["traeger"],
                family_name=f"{FAMILY[(index + n) % len(FAMILY)]} {index}-{n}",
                given_names="Bench",
            )
            case = services.case_create(
                person=person,
                owner=manager,
                actor=manager,
                now=earlier,
                intake_channel=Case.IntakeChannel.HANDOVER_FSA,
            )
            case = case_drive_to(case=case, state=CaseStatus.ACTIVE, now=earlier)
            consult(case, now=earlier + timedelta(minutes=1))
            if n % 2:
                services.case_transition(
                    case=case,
                    name="pause",
                    actor=manager,
                    now=earlier + timedelta(minutes=2),
                    reason="OTHER",
                )
            made += 1
    if made:
        print(f"  {made} cases written through the services in {time.perf_counter() - began:.0f} s")
        from bench.__main__ import vacuum_analyze

        vacuum_analyze(
            "cases_case",
            "cases_consultation",
            "viewflow_task",
            "viewflow_process",
            "audit_auditevent",
        )


def _session(user: Any) -> str:
    """A signed-in session with a verified second factor; its cookie value."""
    import logging

    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    client = Client()
    logging.getLogger("axes").setLevel(logging.WARNING)  # one line per sign-in otherwise
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return session.session_key


def plan(org: dict[str, Any], users: int, now: datetime) -> dict[str, Any]:
    """What every simulated user works with: its session and its own cases
    (no two simulated users share a case, so no two wait for one lock)."""
    from django.conf import settings
    from django.utils import timezone

    from cases.models import Case, CaseStatus
    from cases.selectors import consultation_choices_for

    managers, supervisors = org["managers"], org["supervisors"]
    lead_slots = max(1, round(users * len(supervisors) / (len(managers) + len(supervisors))))
    manager_slots = users - lead_slots
    slots_of: dict[int, int] = {}
    for slot in range(manager_slots):
        slots_of[slot % len(managers)] = slots_of.get(slot % len(managers), 0) + 1
    seen: dict[int, int] = {}
    manager_plans = []
    for slot in range(manager_slots):
        index = slot % len(managers)
        manager = managers[index]
        share, mine = slots_of[index], seen.get(index, 0)
        seen[index] = mine + 1
        cases = list(Case.objects.filter(owner=manager).order_by("pk").values_list("pk", "status"))
        own = [row for n, row in enumerate(cases) if n % share == mine]
        manager_plans.append(
            {
                "session": _session(manager),
                "active": [pk for pk, status in own if status == CaseStatus.ACTIVE],
                "dormant": [pk for pk, status in own if status == CaseStatus.DORMANT],
                "search": FAMILY[index % len(FAMILY)][:4],
            }
        )
    lead_plans = [
        {"session": _session(supervisors[n % len(supervisors)])} for n in range(lead_slots)
    ]
    day = timezone.localdate(now)
    choices = consultation_choices_for(user=managers[0], day=day)
    assert choices.forms, "the catalogues lack consultation forms"
    assert choices.topics, "the catalogues lack consultation topics"
    return {
        "managers": manager_plans,
        "supervisors": lead_plans,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "consultation": {
            "consultation_form": choices.forms[0].key,
            "topics": choices.topics[0].key,
            "duration_minutes": "45",
            "held_on": day.isoformat(),
            "status": "COMPLETED",
            "notes": "",
        },
    }


def _node_env(url: str, static_root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(static_root),
        "USE_X_FORWARDED_PROTO": "true",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "LOTSE_REQUIRE_MFA": "true",
    }
    env.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    return env


def _wait_until_up(port: int, process: subprocess.Popen[bytes], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn on {port} exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (503 while no worker beats: not this bench's concern)
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn on {port} did not answer within {limit:.0f} s")


def warm_up(the_plan: dict[str, Any], workers: int) -> None:
    """Let every worker compile its templates and open its database
    connection before the clock runs (a node that just started is no node
    in service)."""
    manager = the_plan["managers"][0]
    case = (manager["active"] + manager["dormant"])[0]
    cookie = f"{the_plan['session_cookie']}={manager['session']}"
    paths = ["/arbeitsplatz/", "/arbeitsplatz/faelle/", f"/faelle/{case}/", "/aufgaben/"]
    paths += [f"/aufgaben/fall/{case}/", "/berichte/", f"/faelle/{case}/beratung/"]
    for host in the_plan["hosts"]:
        for _ in range(workers * 2):
            for path in paths:
                request = urllib.request.Request(  # noqa: S310 - our own node
                    host + path, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"}
                )
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(request, timeout=60).read()  # noqa: S310


def _stats(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _written_since(began: datetime, org: dict[str, Any]) -> dict[str, int]:
    from audit.models import AuditEvent
    from cases.models import Consultation

    owners = [m.pk for m in org["managers"]]
    events = AuditEvent.objects.filter(occurred_at__gte=began, actor_id__in=owners)
    return {
        "consultations": Consultation.objects.filter(
            recorded_at__gte=began, case__owner_id__in=owners
        ).count(),
        "resumed": events.filter(event_type="cases.case.resume").count(),
        "paused": events.filter(event_type="cases.case.pause").count(),
    }


def run(url: str, now: datetime) -> bool:
    from django.utils import timezone

    knobs = settings_from_env()
    org = _organisation()
    _seed_cases(org, now)
    work = Path(tempfile.mkdtemp(prefix="lotse-bench-load-"))
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        the_plan = plan(org, knobs["users"], now)
        the_plan["wait"] = knobs["wait"]
        the_plan["hosts"] = [f"http://127.0.0.1:{port}" for port in knobs["ports"]]
        (work / "plan.json").write_text(json.dumps(the_plan))
        static_root = work / "static"
        env = _node_env(url, static_root)
        python = sys.executable
        subprocess.run(  # noqa: S603 - our own manage.py
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        gunicorn = str(Path(python).with_name("gunicorn"))
        for port in knobs["ports"]:
            log = (work / f"gunicorn-{port}.log").open("wb")
            nodes.append(
                subprocess.Popen(  # noqa: S603 - our own command line
                    [
                        gunicorn,
                        "config.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        str(knobs["workers"]),
                        "--no-control-socket",
                        "--preload",
                        "--access-logfile",
                        "-" if os.environ.get("BENCH_LOAD_ACCESS_LOG") else "/dev/null",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for port, node in zip(knobs["ports"], nodes, strict=True):
            _wait_until_up(port, node)
        warm_up(the_plan, knobs["workers"])
        print(
            f"load: {knobs['users']} users ({len(the_plan['managers'])} as 30 integration "
            f"managers, {len(the_plan['supervisors'])} as 5 supervisors) for {knobs['seconds']} s "
            f"against {len(nodes)} gunicorn nodes ({knobs['workers']} workers each) on ports "
            f"{', '.join(map(str, knobs['ports']))}; think time {knobs['wait'][0]:g}-"
            f"{knobs['wait'][1]:g} s",
            flush=True,
        )
        began = timezone.now()
        locust = str(Path(python).with_name("locust"))
        result_path = work / "written.json"
        done = subprocess.run(  # noqa: S603 - our own command line
            [
                locust,
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(knobs["users"]),
                "--spawn-rate",
                "10",
                "--run-time",
                f"{knobs['seconds']}s",
                "--stop-timeout",
                "20",
                "--host",
                the_plan["hosts"][0],
                "--csv",
                str(work / "locust"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "BENCH_LOAD_PLAN": str(work / "plan.json"),
                "BENCH_LOAD_RESULT": str(result_path),
            },
            timeout=knobs["seconds"] + 180,
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode not in (0, 1):  # 1: some requests failed (reported below)
            print(done.stdout[-3000:], done.stderr[-3000:])
        if not result_path.exists():
            print(done.stdout[-3000:], done.stderr[-3000:])
            print("  Locust wrote no result: MISSED")
            return False
        return report(work, json.loads(result_path.read_text()), _written_since(began, org))
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.kill()
        if os.environ.get("BENCH_LOAD_KEEP"):
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(work: Path, seen: dict[str, int], found: dict[str, int]) -> bool:
    rows = _stats(work / "locust_stats.csv")
    failures = _stats(work / "locust_failures.csv")
    print(
        f"  {'request':34} {'count':>6} {'fail':>5} {'median':>7} {'p95':>6} {'p99':>6} {'max':>6}"
    )
    for row in rows:
        print(
            f"  {row['Type'] + ' ' + row['Name']:34.34} {row['Request Count']:>6} "
            f"{row['Failure Count']:>5} {row['50%']:>7} {row['95%']:>6} {row['99%']:>6} "
            f"{float(row['Max Response Time']):6.0f}"
        )
    for row in failures[:10]:
        print(
            f"  failure: {row['Method']} {row['Name']}: {row['Error'][:150]} x{row['Occurrences']}"
        )
    total = next(row for row in rows if row["Name"] == "Aggregated")
    if total["95%"] == "N/A":
        print("  no request was made: MISSED")
        return False
    p95, p99 = float(total["95%"]), float(total["99%"])
    requests_count, failed = int(total["Request Count"]), int(total["Failure Count"])
    written = seen["consultations"] + seen["resumed"]
    checks = {
        f"p95 {p95:.0f} ms < {P95_MS:.0f} ms": p95 < P95_MS,
        f"p99 {p99:.0f} ms < {P99_MS:.0f} ms": p99 < P99_MS,
        f"{failed} of {requests_count} requests failed": failed == 0 and requests_count > 0,
        (
            f"consultations: {written} written ({seen['consultations']} entered, "
            f"{seen['resumed']} with a resumption), {found['consultations']} recorded"
        ): written == found["consultations"],
        f"resumptions: {seen['resumed']} done, {found['resumed']} audited": seen["resumed"]
        == found["resumed"],
        f"pauses: {seen['paused']} done, {found['paused']} audited": seen["paused"]
        == found["paused"],
    }
    print(f"  {float(total['Requests/s']):.1f} requests/s")
    for label, ok in checks.items():
        print(f"  {label}: {'met' if ok else 'MISSED'}")
    return all(checks.values())
