"""Handover file import of ROWS rows: dry run and real run against a floor.

The floor is the least any import of the same file must do: parse the same
CSV bytes with the csv module and insert equivalent rows (one handover and
one person per line) into two scratch tables with psycopg's executemany,
in one transaction, with no checks. The service is
`handover.services.handover_import`: decoding, per-row checks, duplicate
detection inside the file and against the database, then (real run) bulk
inserts and one hash-chained audit event per handover, in one transaction.

Each figure is the wall time of one run and its peak Python memory
(tracemalloc, measured in a second run of its own so that tracing does not
distort the times). Every measured run uses a fresh sender, so the real
runs never meet their own earlier handovers as duplicates.
"""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

ROWS = 10_000
CONSONANTS = "bdfgklmnpt"
# The import checks every row (encoding, dates, choices, consent rule,
# name keys for duplicates) and appends one hash-chained audit event per
# handover, one statement each; the floor does none of it. The real run is
# dominated by those appends (27x the floor on a quiet machine, up to 57x
# under load); this bound only catches a collapse.
TARGET_RATIO = 120.0

SCRATCH = """
DROP TABLE IF EXISTS bench_floor_member, bench_floor_handover;
CREATE TABLE bench_floor_handover (
    id integer PRIMARY KEY, reference varchar(100) NOT NULL, gemeinde_ags varchar(8) NOT NULL,
    au_allocation_date date NOT NULL, consent_given boolean NOT NULL,
    consent_form varchar(20) NOT NULL, consent_language varchar(50) NOT NULL,
    known_needs text NOT NULL, gu_contact_name varchar(200) NOT NULL
);
CREATE TABLE bench_floor_member (
    id integer PRIMARY KEY, handover_id integer NOT NULL, family_name varchar(200) NOT NULL,
    given_names varchar(200) NOT NULL, date_of_birth date, nationality varchar(100) NOT NULL
);
"""


def sample_csv(ags: str) -> bytes:
    """Return ROWS synthetic handover rows, one person each, all distinct."""
    from handover.services import COLUMNS

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for n in range(ROWS):
        row = {
            "external_reference": f"BENCH-{n:05d}",
            "gemeinde_ags": ags,
            "au_allocation_date": "2025-12-01",
            "family_name": "Benchmann",
            # Distinct after the name folding too: rows without consent keep
            # no date of birth, and equal names would then be duplicates.
            "given_names": "".join(f"{CONSONANTS[int(d)]}ar" for d in f"{n:05d}").title(),
            "date_of_birth": (date(1950, 1, 1) + timedelta(days=n)).isoformat(),
            "nationality": "SY",
            "consent_given": "ja" if n % 4 else "nein",
            "consent_form": "SIGNED_PAPER" if n % 4 else "",
            "consent_language": "ar" if n % 4 else "",
            "consent_given_on": "2025-11-20" if n % 4 else "",
            "known_needs": "Sprachkurs" if n % 4 else "",
            "gu_contact_name": "Bench GU",
        }
        writer.writerow([row.get(name, "") for name in COLUMNS])
    return out.getvalue().encode("utf-8")


def floor_import(url: str, content: bytes) -> None:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8")), delimiter=";"))
    handovers, members = [], []
    for n, row in enumerate(rows, start=1):
        handovers.append(
            (
                n,
                row["external_reference"],
                row["gemeinde_ags"],
                date.fromisoformat(row["au_allocation_date"]),
                row["consent_given"] == "ja",
                row["consent_form"],
                row["consent_language"],
                row["known_needs"],
                row["gu_contact_name"],
            )
        )
        members.append(
            (
                n,
                n,
                row["family_name"],
                row["given_names"],
                date.fromisoformat(row["date_of_birth"]),
                row["nationality"],
            )
        )
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_floor_handover VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            handovers,
        )
        cursor.executemany(
            "INSERT INTO bench_floor_member VALUES (%s, %s, %s, %s, %s, %s)", members
        )
        conn.rollback()  # the floor's rows are not kept


def measured(call: Callable[[], Any]) -> tuple[float, float]:
    """Return (seconds, peak MiB) of `call`, from two separate runs."""
    started = time.perf_counter()
    call()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        call()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak / 2**20


def run(url: str, now: datetime) -> bool:
    """Print the import figures; return whether the ratios stay in bound."""
    from accounts.models import Gemeinde, Kreis, Role, Team, Traeger, User
    from handover.services import handover_import

    kreis, _ = Kreis.objects.get_or_create(ags="09999999", defaults={"name": "Bench-Kreis"})
    traeger, _ = Traeger.objects.get_or_create(
        name="Bench-Träger",
        defaults={"kind": "DISTRICT", "data_protection_regime": "DSGVO_LDSG_BW", "kreis": kreis},
    )
    Team.objects.get_or_create(traeger=traeger, name="Bench-Team")
    gemeinde, _ = Gemeinde.objects.get_or_create(
        ags="09999001", defaults={"name": "Bench-Gemeinde", "kreis": kreis}
    )
    traeger.gemeinden.add(gemeinde)
    content = sample_csv(gemeinde.ags)
    stamp = f"{now:%Y%m%d%H%M%S%f}"
    senders = iter(
        User.objects.create(username=f"bench-gu-{stamp}-{n}", role=Role.GU_SOCIAL_WORKER)
        for n in range(10)
    )

    def service(dry_run: bool) -> Callable[[], Any]:
        def call() -> Any:
            report = handover_import(
                actor=next(senders),
                now=now,
                content=content,
                filename="bench.csv",
                dry_run=dry_run,
            )
            assert len(report.handovers) == ROWS, report.errors[:3]
            return report

        return call

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCRATCH)
    try:
        floor_import(url, content)  # warm-up
        floor = measured(lambda: floor_import(url, content))
        dry = measured(service(True))
        real = measured(service(False))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE bench_floor_member, bench_floor_handover")
    print(f"handover import of {ROWS} rows ({len(content) / 2**20:.1f} MiB CSV):")
    print(f"  floor (csv + executemany, 2 rows per line): {floor[0]:6.2f} s {floor[1]:7.1f} MiB")
    ok = True
    for name, (seconds, peak) in (("dry run", dry), ("real run", real)):
        ratio = seconds / floor[0]
        ok = ok and ratio <= TARGET_RATIO
        print(
            f"  handover_import {name:8}:             {seconds:6.2f} s {peak:7.1f} MiB"
            f"  time ratio {ratio:5.1f} (target <= {TARGET_RATIO:.0f}),"
            f" memory ratio {peak / floor[1]:4.1f}"
        )
    return ok
