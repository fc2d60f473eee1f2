"""A synthetic Land for load tests: `manage.py seed_synthetic` and `make bench`.

At scale 1 (the size of Baden-Württemberg's programme): 44 Kreise, 1,000
Gemeinden, 1,200 integration managers in teams of eight, 200,000 persons
with one case each, 1,000,000 consultations over the last three calendar
years (about two topics each, one in ten a family consultation with two
participants), 100,000 Integrationspläne with 500,000 goals, referrals,
network contacts, extension requests and closures. Everything invented:
names are "Synth <n>". Rows go in with PostgreSQL's COPY (plain INSERTs
elsewhere), with explicit ids above the highest existing one, so the data
can be added to a database that already holds other rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from cases.models import Catalogue, CatalogueEntry

BASE = {
    "kreise": 44,
    "gemeinden": 1_000,
    "managers": 1_200,
    "persons": 200_000,
    "consultations": 1_000_000,
    "plans": 100_000,
    "referrals": 200_000,
    "network_contacts": 100_000,
    "extension_requests": 10_000,
}
GOALS_PER_PLAN = 5
TEAM_SIZE = 8
TRAEGER_PER_KREIS = 2
MARKER = "Synthetischer Kreis"


@dataclass
class SeedResult:
    counts: dict[str, int]
    first_year: int
    last_year: int


def synthetic_sizes(scale: float) -> dict[str, int]:
    """Row counts for `scale` (1.0 = the Land), never below a working minimum."""
    minimum = {"kreise": 1, "gemeinden": 2, "managers": 2}
    return {name: max(minimum.get(name, 10), round(count * scale)) for name, count in BASE.items()}


class _Table:
    """Rows into one table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, table: str, columns: list[str]) -> None:
        self.table, self.columns = table, columns

    def write(self, rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                statement = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
                with cursor.cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                statement = f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})"  # noqa: S608
                batch: list[tuple[Any, ...]] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == 5000:
                        cursor.executemany(statement, batch)
                        count, batch = count + len(batch), []
                if batch:
                    cursor.executemany(statement, batch)
                    count += len(batch)
        return count


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - fixed names
        return cursor.fetchone()[0] + 1


def _reset_sequences(tables: list[str]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


def _ids(catalogue: str) -> list[int]:
    return list(
        CatalogueEntry.objects.filter(catalogue=catalogue, is_active=True)
        .order_by("order")
        .values_list("pk", flat=True)
    )


def _weighted(rng: random.Random, items: list[int], weights: Sequence[float]) -> Callable[[], int]:
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)

    def pick() -> int:
        return rng.choices(items, cum_weights=cumulative)[0]

    return pick


def synthetic_land_seed(*, scale: float, now: datetime, seed: int = 1) -> SeedResult:
    """Write a synthetic Land of `scale` in one transaction; return the counts."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    sizes = synthetic_sizes(scale)
    today = now.date()
    first_year, last_year = today.year - 3, today.year - 1
    window_start, window_end = date(first_year, 1, 1), date(last_year, 12, 31)
    counts: dict[str, int] = {}
    tables = [
        "accounts_kreis", "accounts_gemeinde", "accounts_traeger", "accounts_team",
        "accounts_user", "cases_person", "cases_case", "cases_consultation",
        "cases_consultation_topics", "cases_consultation_participants",
        "cases_integrationplan", "cases_goal", "cases_referral", "cases_networkcontact",
        "cases_extensionrequest",
    ]  # fmt: skip
    with transaction.atomic():
        start = {table: _next_id(table) for table in tables}
        forms = _ids(Catalogue.CONSULTATION_FORM)
        settings_ = _ids(Catalogue.CONSULTATION_SETTING)
        topics = _ids(Catalogue.CONSULTATION_TOPIC)
        fields = _ids(Catalogue.FIELD_OF_ACTION)
        targets = _ids(Catalogue.REFERRAL_TARGET)
        categories = _ids(Catalogue.NETWORK_CONTACT_CATEGORY)
        reasons = _ids(Catalogue.EXTENSION_REASON)
        closures = _ids(Catalogue.CLOSURE_REASON)

        # --- organisation -------------------------------------------------------
        n_kreise, n_gemeinden = sizes["kreise"], max(sizes["gemeinden"], sizes["kreise"])
        kreise = list(range(start["accounts_kreis"], start["accounts_kreis"] + n_kreise))
        counts["kreise"] = _Table("accounts_kreis", ["id", "name", "ags"]).write(
            (k, f"{MARKER} {k}", f"S{k:07d}") for k in kreise
        )
        gemeinden = [
            (g, kreise[i % n_kreise])
            for i, g in enumerate(
                range(start["accounts_gemeinde"], start["accounts_gemeinde"] + n_gemeinden)
            )
        ]
        counts["gemeinden"] = _Table("accounts_gemeinde", ["id", "name", "ags", "kreis_id"]).write(
            (g, f"Synthgemeinde {g}", f"G{g:07d}", k) for g, k in gemeinden
        )
        gemeinden_of: dict[int, list[int]] = {}
        for g, k in gemeinden:
            gemeinden_of.setdefault(k, []).append(g)
        traeger = [
            (start["accounts_traeger"] + i, kreise[i // TRAEGER_PER_KREIS])
            for i in range(n_kreise * TRAEGER_PER_KREIS)
        ]
        counts["traeger"] = _Table(
            "accounts_traeger", ["id", "name", "kind", "data_protection_regime", "kreis_id"]
        ).write((t, f"Synthträger {t}", "DISTRICT", "DSGVO_LDSG_BW", k) for t, k in traeger)
        n_managers = sizes["managers"]
        n_teams = max(len(traeger), -(-n_managers // TEAM_SIZE))
        teams = [(start["accounts_team"] + i, traeger[i % len(traeger)][0]) for i in range(n_teams)]
        counts["teams"] = _Table("accounts_team", ["id", "name", "traeger_id"]).write(
            (t, f"Synthteam {t}", tr) for t, tr in teams
        )
        kreis_of_traeger = dict(traeger)
        user_id = start["accounts_user"]
        managers: list[tuple[int, int, int]] = []  # (user, team, traeger)
        users: list[tuple[Any, ...]] = []
        joined = now - timedelta(days=4 * 365)
        for i in range(n_managers):
            team, tr = teams[i % n_teams]
            managers.append((user_id, team, tr))
            users.append((user_id, "INTEGRATION_MANAGER", tr, team))
            user_id += 1
        for team, tr in teams:
            users.append((user_id, "SUPERVISOR", tr, team))
            user_id += 1
        counts["users"] = _Table(
            "accounts_user",
            [
                "id", "password", "is_superuser", "username", "first_name", "last_name",
                "email", "is_staff", "is_active", "date_joined", "role", "traeger_id", "team_id",
            ],
        ).write(
            (u, "!", False, f"synth-{u}", "Synth", f"Nutzer {u}", "", False, True, joined,
             role, tr, team)
            for u, role, tr, team in users
        )  # fmt: skip
        supervisor_of_team = {team: u for u, role, _tr, team in users if role == "SUPERVISOR"}

        # --- persons and cases --------------------------------------------------------
        n_persons = sizes["persons"]
        person0, case0 = start["cases_person"], start["cases_case"]
        last_day = min(window_end, today - timedelta(days=1))
        span = (last_day - window_start).days
        cases: list[tuple[int, int, int, int, date, date, str]] = []
        # (case id, owner, traeger, gemeinde, start, end of activity, status)
        for i in range(n_persons):
            owner, _team, tr = managers[rng.randrange(n_managers)]
            gemeinde = rng.choice(gemeinden_of[kreis_of_traeger[tr]])
            begin = window_start + timedelta(days=rng.randrange(span - 30))
            regular_end = begin + timedelta(days=730)
            roll = rng.random()
            if regular_end <= last_day or roll < 0.2:
                status = "CLOSED"
                until = min(regular_end, begin + timedelta(days=rng.randrange(60, 730)), last_day)
            else:
                status = "ACTIVE" if roll < 0.8 else ("DORMANT" if roll < 0.9 else "PLANNING")
                until = last_day
            cases.append((case0 + i, owner, tr, gemeinde, begin, until, status))
        counts["persons"] = _Table(
            "cases_person",
            [
                "id", "traeger_id", "family_name", "given_names", "date_of_birth_approximate",
                "sex", "nationality", "languages", "literacy", "phone", "address",
                "ukraine_displaced", "obliged_to_leave", "created_at", "gemeinde_id",
            ],
        ).write(
            (person0 + i, c[2], f"Synth {person0 + i}", "", False,
             rng.choice(("FEMALE", "MALE", "DIVERSE", "UNKNOWN")), "", "", "UNKNOWN", "", "",
             False, False, now, c[3])
            for i, c in enumerate(cases)
        )  # fmt: skip

        def moment(day: date, hour: int = 10) -> datetime:
            return datetime.combine(day, time(hour), tzinfo=UTC)

        counts["cases"] = _Table(
            "cases_case",
            [
                "id", "person_id", "programme", "status", "traeger_id", "gemeinde_id",
                "owner_id", "intake_channel", "registered_at", "anonymous_mode", "legal_hold",
                "eligibility_basis", "eligibility_checked_at", "rejection_reason",
                "consultation_start", "regular_end", "effective_end", "next_review_at",
                "plan_declined", "plan_declined_reason", "closing_ground", "closure_reason_id",
                "no_further_need", "closed_at",
            ],
        ).write(
            (cid, person0 + i, "BW_IM", status, tr, gemeinde, owner, "HANDOVER_FSA",
             moment(begin - timedelta(days=7)), False, False, "FOLLOW_UP_ACCOMMODATION",
             moment(begin), "", begin, begin + timedelta(days=730), begin + timedelta(days=730),
             until + timedelta(days=rng.randrange(-60, 120)) if status == "ACTIVE" else None,
             False, "", "", rng.choice(closures) if status == "CLOSED" else None,
             False, moment(until, 15) if status == "CLOSED" else None)
            for i, (cid, owner, tr, gemeinde, begin, until, status) in enumerate(cases)
        )  # fmt: skip

        # --- consultations, their topics and participants ----------------------------------
        consultation0 = start["cases_consultation"]
        n_consultations = sizes["consultations"]
        form = _weighted(rng, forms, [30, 40, 15, 8, 5, 2][: len(forms)])
        topic = _weighted(rng, topics, [max(1, 20 - i) for i in range(len(topics))])
        single, family = settings_[0], settings_[-1]
        consultations = _Table(
            "cases_consultation",
            [
                "id", "case_id", "held_on", "duration_minutes", "form_id", "setting_id",
                "status", "interpreter", "notes", "recorded_by_id", "recorded_at",
                "traeger_id", "gemeinde_id",
            ],
        )  # fmt: skip
        # Consultations and their links carry copies of the case's Träger
        # and Gemeinde, the links also the date and status
        # (cases.models._ConsultationLink).
        copies = ["held_on", "status", "traeger_id", "gemeinde_id"]
        topic_table = _Table(
            "cases_consultation_topics", ["id", "consultation_id", "catalogueentry_id", *copies]
        )
        people_table = _Table(
            "cases_consultation_participants", ["id", "consultation_id", "person_id", *copies]
        )
        link_id, person_link_id = (
            start["cases_consultation_topics"],
            start["cases_consultation_participants"],
        )
        counts["consultations"] = counts["consultation_topics"] = 0
        counts["consultation_participants"] = 0
        chunk = 100_000
        for first in range(0, n_consultations, chunk):  # bounded memory
            rows, links, people = [], [], []
            for n in range(first, min(first + chunk, n_consultations)):
                cid, owner, tr, gemeinde, begin, until, _s = cases[rng.randrange(n_persons)]
                held = begin + timedelta(days=rng.randrange(max(1, (until - begin).days)))
                roll = rng.random()
                status = "COMPLETED" if roll < 0.92 else ("NO_SHOW" if roll < 0.98 else "CANCELLED")
                pk = consultation0 + n
                is_family = rng.random() < 0.1
                copied = (held, status, tr, gemeinde)
                for t in {topic() for _ in range(rng.choice((1, 2, 2, 3)))}:
                    links.append((link_id, pk, t, *copied))
                    link_id += 1
                person = person0 + (cid - case0)
                people.append((person_link_id, pk, person, *copied))
                person_link_id += 1
                if is_family:  # another client of the Land joins (a household member)
                    partner = person0 + (cid - case0 + 1) % n_persons
                    people.append((person_link_id, pk, partner, *copied))
                    person_link_id += 1
                rows.append(
                    (pk, cid, held, rng.randrange(15, 121), form(),
                     family if is_family else single, status, "", "", owner, moment(held, 17),
                     tr, gemeinde)
                )  # fmt: skip
            counts["consultations"] += consultations.write(rows)
            counts["consultation_topics"] += topic_table.write(links)
            counts["consultation_participants"] += people_table.write(people)

        # --- plans and goals --------------------------------------------------------------------
        plan0, goal0 = start["cases_integrationplan"], start["cases_goal"]
        planned = rng.sample(range(n_persons), min(sizes["plans"], n_persons))
        plans = []
        for n, index in enumerate(planned):
            cid, _o, _t, _g, begin, until, status = cases[index]
            agreed = begin + timedelta(days=min(rng.randrange(14, 90), (until - begin).days))
            plans.append((plan0 + n, cid, agreed, status))
        counts["plans"] = _Table(
            "cases_integrationplan",
            [
                "id", "case_id", "version", "status", "created_at", "agreed_at",
                "agreement_form", "agreement_language", "interpreter", "copy_handed_over",
                "situation_summary",
            ],
        ).write(
            (pk, cid, 1, "CLOSED" if status == "CLOSED" else "AGREED", moment(agreed, 9),
             moment(agreed), "SIGNATURE", "de", "", True, "")
            for pk, cid, agreed, status in plans
        )  # fmt: skip
        field = _weighted(rng, fields, [max(1, 12 - i) for i in range(len(fields))])

        def goal_rows() -> Iterator[tuple[Any, ...]]:
            n = 0
            for pk, _cid, agreed, _status in plans:
                for _ in range(GOALS_PER_PLAN):
                    yield (goal0 + n, pk, field(), "Ziel", "", 2, "AGREED", moment(agreed), "")
                    n += 1

        counts["goals"] = _Table(
            "cases_goal",
            [
                "id", "plan_id", "field_of_action_id", "title", "success_criterion",
                "priority", "status", "agreed_at", "outcome_note",
            ],
        ).write(goal_rows())  # fmt: skip

        # --- referrals, network contacts, extension requests -----------------------------------
        def referral_rows() -> Iterator[tuple[Any, ...]]:
            for n in range(sizes["referrals"]):
                cid, owner, _t, _g, begin, until, _s = cases[rng.randrange(n_persons)]
                day = begin + timedelta(days=rng.randrange(max(1, (until - begin).days)))
                outcome = rng.choice(("PENDING", "TAKEN_UP", "TAKEN_UP", "NOT_TAKEN_UP", "UNKNOWN"))
                yield (start["cases_referral"] + n, cid, day, rng.choice(targets), "",
                       "WRITTEN_REFERRAL", False, outcome, owner)  # fmt: skip

        counts["referrals"] = _Table(
            "cases_referral",
            [
                "id", "case_id", "referred_on", "target_service_id", "organisation", "mode",
                "is_final", "outcome", "recorded_by_id",
            ],
        ).write(referral_rows())  # fmt: skip
        counts["network_contacts"] = _Table(
            "cases_networkcontact",
            ["id", "manager_id", "contact_date", "category_id", "organisation", "format", "topic"],
        ).write(
            (start["cases_networkcontact"] + n, managers[rng.randrange(n_managers)][0],
             window_start + timedelta(days=rng.randrange(span)), rng.choice(categories),
             "Synth-Organisation", rng.choice(("MEETING", "PHONE", "WORKING_GROUP", "EVENT")), "")
            for n in range(sizes["network_contacts"])
        )  # fmt: skip
        team_of = {u: team for u, team, _tr in managers}
        requested = rng.sample(range(n_persons), min(sizes["extension_requests"], n_persons))

        def extension_rows() -> Iterator[tuple[Any, ...]]:
            for n, index in enumerate(requested):
                cid, owner, _t, _g, begin, until, _status = cases[index]
                asked = begin + timedelta(days=min(600, (until - begin).days))
                decision = rng.choice(("APPROVED", "APPROVED", "REJECTED", "SUBMITTED"))
                decided = decision != "SUBMITTED"
                yield (start["cases_extensionrequest"] + n, cid, rng.choice(reasons), "Synth", 6,
                       decision, owner, moment(asked), moment(asked),
                       supervisor_of_team[team_of[owner]] if decided else None,
                       moment(asked + timedelta(days=10)) if decided else None, "")  # fmt: skip

        counts["extension_requests"] = _Table(
            "cases_extensionrequest",
            [
                "id", "case_id", "reason_id", "justification", "months", "status",
                "requested_by_id", "created_at", "submitted_at", "decided_by_id", "decided_at",
                "decision_note",
            ],
        ).write(extension_rows())  # fmt: skip
        _reset_sequences(tables)
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # Visibility map and statistics: index-only scans from the first report on.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return SeedResult(counts=counts, first_year=first_year, last_year=last_year)
