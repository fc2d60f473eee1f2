"""A synthetic caseload file (no real person): the tests and `make bench`
import it. Every fifth person lives in a two-person household with a child
without a case of their own; the cases spread over the importable states."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from caseload.services import COLUMNS

SYLLABLES = ["ba", "be", "di", "fo", "gu", "ka", "le", "mi", "no", "ra", "sa", "te", "vu", "za"]


def _name(n: int) -> str:
    digits = f"{n:05d}"
    return "".join(SYLLABLES[int(d)] for d in digits).title()


def synthetic_rows(
    persons: int,
    *,
    managers: list[str],
    ags: str,
    today: date,
    prefix: str = "SYN",
    first: int = 0,
) -> list[dict[str, str]]:
    """Return rows for `persons` persons (households included); `first`
    starts the numbering elsewhere (other names, other persons)."""
    rows: list[dict[str, str]] = []
    n = first
    while len(rows) < persons:
        start = today - timedelta(days=30 + (n * 7) % 900)
        kind = n % 4  # registered, initial counselling, planning, active
        row = {
            "external_reference": f"{prefix}-{n:06d}",
            "manager": managers[n % len(managers)],
            "gemeinde_ags": ags,
            "family_name": "Synthmann",
            "given_names": _name(n),
            "date_of_birth": (date(1960, 1, 1) + timedelta(days=n % 15000)).strftime("%d.%m.%Y"),
            "sex": "weiblich" if n % 2 else "männlich",
            "nationality": "SY",
            "languages": "ar, de",
            "address": f"Übungsweg {n % 300 + 1}",
            "first_consultation_on": "" if kind == 0 else start.strftime("%d.%m.%Y"),
        }
        if kind >= 2:
            row.update(
                {
                    "goal_1_field": "Sprache (Deutsch)",
                    "goal_1_title": "Deutschkurs B1 abschließen",
                    "goal_1_status": "in Arbeit",
                    "goal_1_target_date": (today + timedelta(days=200)).strftime("%d.%m.%Y"),
                    "goal_2_field": "work",
                    "goal_2_title": "Praktikum finden",
                }
            )
        if kind == 3:
            row["last_review_on"] = (start + timedelta(days=20)).strftime("%d.%m.%Y")
            row["next_review_on"] = (today + timedelta(days=60)).strftime("%d.%m.%Y")
            if n % 8 == 3:
                row["extension_months"] = "6"
                row["extension_reason"] = "Analphabetismus"
        if n % 5 == 0 and len(rows) + 1 < persons:
            row["household_reference"] = f"{prefix}-HH-{n:06d}"
            rows.append(row)
            rows.append(
                {
                    "external_reference": f"{prefix}-{n:06d}-K",
                    "household_reference": f"{prefix}-HH-{n:06d}",
                    "relation": "Kind",
                    "own_case": "nein",
                    "manager": row["manager"],
                    "gemeinde_ags": ags,
                    "family_name": "Synthmann",
                    "given_names": _name(n) + "son",
                    "date_of_birth": (date(2015, 1, 1) + timedelta(days=n % 3000)).strftime(
                        "%d.%m.%Y"
                    ),
                }
            )
        else:
            rows.append(row)
        n += 1
    return rows[:persons]


def caseload_csv(rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> bytes:
    """The rows as German Excel saves them: `;`, CRLF, UTF-8 with BOM by default."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(name, "") for name in COLUMNS])
    return out.getvalue().encode(encoding)
