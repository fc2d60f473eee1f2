"""Caseload migration import of PERSONS persons against a plain COPY floor.

The floor is the least any import of the same file must do: parse the same
CSV bytes with the csv module and COPY one row per person (psycopg 3
`cursor.copy`) into a plain scratch table with no constraints, in one
transaction. The service is `caseload.services.caseload_import`: decoding,
per-row checks (dates, choices, managers, Gemeinden, the states' rules,
duplicates), then bulk inserts of persons, households, cases, plans and
goals, per case one hash-chained audit event naming the source, the flow
started at the case's state, and the persons' clock facts (in bulk,
`person_clock_facts_of_new_persons`, with one audit event per case), all in
one transaction.

Figures: the dry run of the file with MALFORMED bad rows mixed in (it must
name exactly those lines and write nothing), the real run of the valid
file (goal: under GOAL_SECONDS) with its peak Python memory (tracemalloc,
in the dry run of its own, which parses and checks the whole file) and the
growth of the process's peak RSS during the real run. After the real run
every imported case's open work must fit its state (`verify_workflows`'s
check) and each person's clock must equal the imported start.
"""

from __future__ import annotations

import csv
import io
import resource
import time
import tracemalloc
from datetime import date, datetime

import psycopg

PERSONS = 5_000
MALFORMED = 50
GOAL_SECONDS = 60.0

SCRATCH = """
DROP TABLE IF EXISTS bench_floor_caseload;
CREATE TABLE bench_floor_caseload (
    reference text, household text, manager text, ags text, family_name text,
    given_names text, date_of_birth date, first_consultation_on date,
    next_review_on date, goal_1 text, goal_2 text
);
"""


def _day(value: str) -> date | None:
    return datetime.strptime(value, "%d.%m.%Y").date() if value else None  # noqa: DTZ007


def floor_import(url: str, content: bytes) -> None:
    """csv + psycopg 3 COPY of one row per person into a plain table."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY bench_floor_caseload (reference, household, manager, ags, family_name, "
            "given_names, date_of_birth, first_consultation_on, next_review_on, goal_1, goal_2) "
            "FROM STDIN"
        ) as copy:
            for row in reader:
                copy.write_row(
                    (
                        row["external_reference"],
                        row["household_reference"],
                        row["manager"],
                        row["gemeinde_ags"],
                        row["family_name"],
                        row["given_names"],
                        _day(row["date_of_birth"]),
                        _day(row["first_consultation_on"]),
                        _day(row["next_review_on"]),
                        row["goal_1_title"],
                        row["goal_2_title"],
                    )
                )
        conn.rollback()  # the floor's rows are not kept


def _malformed(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], set[int]]:
    """Spoil MALFORMED rows in five ways; return the rows and their lines."""
    spoiled = [dict(row) for row in rows]
    lines = set()
    step = len(rows) // MALFORMED
    for k in range(MALFORMED):
        index = k * step + 1
        row = spoiled[index]
        if row.get("own_case") == "nein":
            index += 1
            row = spoiled[index]
        kind = k % 5
        if kind == 0:
            row["date_of_birth"] = "31.02.1990"
        elif kind == 1:
            row["manager"] = "niemand"
        elif kind == 2:
            row["family_name"] = ""
        elif kind == 3:
            row["extension_months"] = "24"
        else:
            row["gemeinde_ags"] = "00000000"
        lines.add(index + 2)  # the header is line 1
    return spoiled, lines


def run(url: str, now: datetime) -> bool:
    """Print the import figures; return whether the goal is met."""
    from accounts.models import Gemeinde, Kreis, Role, Team, Traeger, User
    from caseload.demo import caseload_csv, synthetic_rows
    from caseload.models import ImportedPerson
    from caseload.services import ImportInvalid, caseload_import
    from cases.models import Case, Person, PersonClockFact
    from cases.person_clock import person_clock
    from workflows.invariants import cases_with_problems

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    stamp = f"{now:%Y%m%d%H%M%S}"
    # A Träger of its own per run: references are unique per Träger, and
    # each run imports a caseload never seen before.
    traeger = Traeger.objects.create(
        name=f"Bench-Träger {stamp}",
        kind="DISTRICT",
        data_protection_regime="DSGVO_LDSG_BW",
        kreis=kreis,
    )
    team = Team.objects.create(traeger=traeger, name="Bench-Team")
    gemeinde, _ = Gemeinde.objects.get_or_create(
        ags="09999001", defaults={"name": "Bench-Gemeinde", "kreis": kreis}
    )
    traeger.gemeinden.add(gemeinde)
    managers = [
        User.objects.create(
            username=f"bench-im-{stamp}-{n}",
            role=Role.INTEGRATION_MANAGER,
            team=team,
            traeger=traeger,
        )
        for n in range(10)
    ]
    supervisor = User.objects.create(
        username=f"bench-tl-{stamp}", role=Role.SUPERVISOR, team=team, traeger=traeger
    )
    today = now.date()
    rows = synthetic_rows(
        PERSONS,
        managers=[m.username for m in managers],
        ags=gemeinde.ags,
        today=today,
        prefix=f"B{stamp}",
    )
    content = caseload_csv(rows)
    bad_rows, bad_lines = _malformed(rows)
    bad_content = caseload_csv(bad_rows)

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCRATCH)
    try:
        floor_import(url, content)  # warm-up
        started = time.perf_counter()
        floor_import(url, content)
        floor = time.perf_counter() - started
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE bench_floor_caseload")

    persons_before = Person.objects.count()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        caseload_import(
            actor=supervisor, now=now, content=bad_content, filename="bench.csv", dry_run=True
        )
        reported: set[int] = set()
    except ImportInvalid as error:
        reported = {e["line"] for e in error.report.errors}
    dry = time.perf_counter() - started
    _current, dry_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dry_ok = reported == bad_lines and Person.objects.count() == persons_before

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = caseload_import(
        actor=supervisor, now=now, content=content, filename="bench.csv", dry_run=False
    )
    real = time.perf_counter() - started
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024

    imported = ImportedPerson.objects.filter(traeger=traeger)
    cases = Case.objects.filter(traeger=traeger)
    problems = cases_with_problems(cases)
    starts = {
        row["external_reference"]: _day(row.get("first_consultation_on", ""))
        for row in rows
        if row.get("own_case") != "nein"
    }
    case_starts = dict(
        imported.filter(case__isnull=False).values_list(
            "external_reference", "case__consultation_start"
        )
    )
    fact_starts = dict(
        PersonClockFact.objects.filter(person__in=imported.values("person")).values_list(
            "person_id", "first_consultation_on"
        )
    )
    person_of = dict(imported.values_list("external_reference", "person_id"))
    clocks_ok = case_starts == starts and all(
        fact_starts.get(person_of[ref]) == start for ref, start in starts.items()
    )
    # The full clock read (five statements a person) for a sample of them.
    sample = list(starts.items())[:: max(1, len(starts) // 200)]
    clocks_ok = clocks_ok and all(
        person_clock(person=person_of[ref], today=today).start == start for ref, start in sample
    )
    ok = dry_ok and real < GOAL_SECONDS and not problems and clocks_ok
    print(
        f"caseload import of {PERSONS} persons ({len(report.cases)} cases, "
        f"{report.households} households; {len(content) / 2**20:.1f} MiB CSV):"
    )
    print(f"  floor (csv + psycopg COPY into a plain table): {floor:6.2f} s")
    print(
        f"  dry run with {MALFORMED} malformed rows:          {dry:6.2f} s "
        f"({dry / floor:5.1f} x floor), peak {dry_peak / 2**20:.1f} MiB Python memory; "
        f"{'exactly the malformed lines reported' if dry_ok else 'REPORT WRONG'}, nothing written"
    )
    print(
        f"  real run:                                      {real:6.2f} s "
        f"({real / floor:5.1f} x floor; goal < {GOAL_SECONDS:.0f} s), "
        f"peak RSS grew {rss_growth:.0f} MiB"
    )
    print(
        f"  verify_workflows: {len(problems)} cases whose open work does not fit; "
        f"clocks equal the imported starts: {'yes' if clocks_ok else 'NO'}"
    )
    return ok
