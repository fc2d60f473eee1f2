"""The caseload migration import: a Kreis's existing cases from a
spreadsheet or a previous tool, checked row by row, then all or nothing.

`caseload_import` reads and checks the file (`caseload.reading`), reports
every problem with its line and column in German, and (unless a dry run)
hands the planned persons, households and cases to the case domain
(`cases.services.migration.caseload_import_write`), which writes them in
one transaction with an audit event per case naming the source and the
case's flow started at its state. Rows whose `external_reference` was
imported before are skipped: a second import of the same file creates
nothing. `caseload_import_submit` stores an upload as a `CaseloadImport`
and runs it in the Celery worker (`caseload.tasks`), which shows progress.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, Role, User
from audit.services import audit_event_record
from caseload import reading
from caseload.models import CaseloadImport, ImportedPerson
from caseload.reading import BadValue, FileRefused
from cases.clock import extended_end_for, regular_end_for
from cases.models import (
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    GoalStatus,
    HouseholdMembership,
    Person,
)
from cases.services.migration import (
    MigratedCase,
    MigratedGoal,
    MigratedHousehold,
    MigratedPerson,
    caseload_import_write,
)
from config.errors import ApplicationError, Forbidden, InvalidInput

GOALS = 5
GOAL_PARTS = ("field", "title", "status", "target_date")
COLUMNS = [
    "external_reference",
    "household_reference",
    "relation",
    "own_case",
    "manager",
    "gemeinde_ags",
    "family_name",
    "given_names",
    "date_of_birth",
    "sex",
    "nationality",
    "languages",
    "literacy",
    "phone",
    "address",
    "au_allocation_date",
    "ukraine_displaced",
    "intake_channel",
    "case_status",
    "first_consultation_on",
    "extension_months",
    "extension_reason",
    "last_review_on",
    "next_review_on",
    *[f"goal_{n}_{part}" for n in range(1, GOALS + 1) for part in GOAL_PARTS],
]
# What belongs to a case (empty for a member without one).
CASE_COLUMNS = [
    "intake_channel",
    "case_status",
    "first_consultation_on",
    "extension_months",
    "extension_reason",
    "last_review_on",
    "next_review_on",
    *[f"goal_{n}_{part}" for n in range(1, GOALS + 1) for part in GOAL_PARTS],
]
REQUIRED_COLUMNS = ("external_reference", "family_name", "manager")
# The German heading of each column: what the page lists and the templates
# carry in their first row. A file may use either these headings or the
# column keys above (case does not matter).
_GOAL_PART_HEADINGS = {
    "field": "Handlungsfeld",
    "title": "Ziel",
    "status": "Status",
    "target_date": "Zieldatum",
}
HEADINGS = {
    "external_reference": "Kennung",
    "household_reference": "Haushalt",
    "relation": "Beziehung",
    "own_case": "Eigener Fall",
    "manager": "Integrationsmanager:in",
    "gemeinde_ags": "Gemeindeschlüssel",
    "family_name": "Familienname",
    "given_names": "Vornamen",
    "date_of_birth": "Geburtsdatum",
    "sex": "Geschlecht",
    "nationality": "Staatsangehörigkeit",
    "languages": "Sprachen",
    "literacy": "Alphabetisierung",
    "phone": "Telefon",
    "address": "Anschrift",
    "au_allocation_date": "Zuweisung in die Anschlussunterbringung",
    "ukraine_displaced": "Vertrieben aus der Ukraine",
    "intake_channel": "Zugangsweg",
    "case_status": "Fallstatus",
    "first_consultation_on": "Erstberatung am",
    "extension_months": "Verlängerung in Monaten",
    "extension_reason": "Grund der Verlängerung",
    "last_review_on": "Letzte Fortschreibung am",
    "next_review_on": "Nächste Fortschreibung am",
    **{
        f"goal_{n}_{part}": f"Ziel {n} {heading}"
        for n in range(1, GOALS + 1)
        for part, heading in _GOAL_PART_HEADINGS.items()
    },
}
KEY_OF_HEADING = {heading.lower(): key for key, heading in HEADINGS.items()}
# What the page explains per column (German through the catalogue).
COLUMN_HELP = {
    "external_reference": _("The person's number in the previous tool (required, unique)."),
    "household_reference": _("Rows with the same value form one household."),
    "relation": _("Relation in the household (contact person, spouse or partner, child, ...)."),
    "own_case": _("ja (default) or nein for a member without a case of their own."),
    "manager": _("User name or e-mail of the integration manager of your team."),
    "gemeinde_ags": _("Gemeindeschlüssel (AGS) of the Gemeinde the person lives in."),
    "case_status": _(
        "Optional: registered, initial counselling, planning, active or dormant; "
        "empty: read from the dates and goals."
    ),
    "first_consultation_on": _("The known first consultation: the consultation period starts."),
    "extension_months": _("Months of the one extension already approved (1 to 12)."),
    "extension_reason": _("Reason of that extension (illiteracy, mental illness, ...)."),
    "last_review_on": _("Date the current plan was last agreed or reviewed."),
    "next_review_on": _("Date of the next review of the plan (active cases)."),
    "goal_1_field": _(
        "Up to five goals of the current plan: field of action, goal, status, target date "
        "(Ziel 1 ... to Ziel 5 ...)."
    ),
}
TEMPLATE_ROWS = [
    {
        "external_reference": "ALT-0001",
        "household_reference": "HH-01",
        "relation": "Ansprechperson",
        "manager": "im.beispiel",
        "gemeinde_ags": "08999001",
        "family_name": "Beispiel",
        "given_names": "Amal",
        "date_of_birth": "01.03.1990",
        "sex": "weiblich",
        "nationality": "SY",
        "languages": "ar, de",
        "address": "Hauptstraße 1, 88400 Musterstadt",
        "au_allocation_date": "01.12.2023",
        "intake_channel": "Zuweisung durch die Behörde",
        "first_consultation_on": "15.01.2024",
        "extension_months": "",
        "last_review_on": "10.07.2025",
        "next_review_on": "10.01.2026",
        "goal_1_field": "Sprache (Deutsch)",
        "goal_1_title": "B1-Kurs abschließen",
        "goal_1_status": "in Arbeit",
        "goal_1_target_date": "30.06.2026",
    },
    {
        "external_reference": "ALT-0002",
        "household_reference": "HH-01",
        "relation": "Kind",
        "own_case": "nein",
        "manager": "im.beispiel",
        "gemeinde_ags": "08999001",
        "family_name": "Beispiel",
        "given_names": "Sami",
        "date_of_birth": "10.06.2015",
        "sex": "männlich",
    },
]
BATCH = 500  # rows between two progress reports
# A run still running this long after it started lost its worker (the
# 5,000-person caseload takes about a minute on a quiet machine).
STALE_AFTER = timedelta(hours=1)


# --- the report -----------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import does (dry run) or did: the same for both."""

    dry_run: bool
    source: str = ""
    rows: int = 0
    cases: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    persons: int = 0
    households: int = 0

    def error(self, line: int, column: str, message: Any) -> None:
        self.errors.append({"line": line, "field": column, "message": str(message)})

    def as_dict(self) -> dict[str, Any]:
        states: dict[str, int] = {}
        for item in self.cases:
            states[item["status"]] = states.get(item["status"], 0) + 1
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "persons": self.persons,
            "households": self.households,
            "states": states,
            "cases": self.cases,
            "skipped": self.skipped,
            "errors": sorted(self.errors, key=lambda e: (e["line"], e["field"], e["message"])),
        }


class ImportInvalid(InvalidInput):
    """A caseload file with at least one bad row; nothing was written."""

    default_code = "import_invalid"

    def __init__(self, message: Any, *, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body.update(self.report.as_dict())
        return body


# --- what the values may be -----------------------------------------------------


def _options(choices: Any, *extra: tuple[str, str]) -> dict[str, str]:
    """Keys and labels (German and English) of a TextChoices, folded."""
    from django.utils import translation

    options: dict[str, str] = {}
    for value, label in choices.choices:
        options[reading.fold(value)] = value
        options[reading.fold(str(label))] = value
        with translation.override("de"):
            options[reading.fold(str(label))] = value
    for alias, value in extra:
        options[reading.fold(alias)] = value
    return options


S = CaseStatus
STATUS_ALIASES = (
    ("angelegt", S.REGISTERED),
    ("Erstberatung", S.INITIAL_COUNSELLING),
    ("Bedarfsermittlung", S.INITIAL_COUNSELLING),
    ("Planung", S.PLANNING),
    ("aktiv", S.ACTIVE),
    ("Umsetzung", S.ACTIVE),
    ("Monitoring", S.ACTIVE),
    ("ruhend", S.DORMANT),
)
GOAL_ALIASES = (
    ("offen", GoalStatus.AGREED),
    ("in Arbeit", GoalStatus.IN_PROGRESS),
    ("erreicht", GoalStatus.ACHIEVED),
    ("teilweise erreicht", GoalStatus.PARTIALLY_ACHIEVED),
    ("nicht erreicht", GoalStatus.NOT_ACHIEVED),
    ("verworfen", GoalStatus.DROPPED),
)


@dataclass
class _Lookups:
    """What the checks compare with, read once per import."""

    actor: User
    today: date
    managers: dict[str, User]
    gemeinden: dict[str, Gemeinde]
    fields_of_action: dict[str, CatalogueEntry]
    extension_reasons: dict[str, CatalogueEntry]
    imported: set[str]
    imported_households: set[str]
    sex: dict[str, str] = field(default_factory=lambda: _options(Person.Sex))
    literacy: dict[str, str] = field(default_factory=lambda: _options(Person.Literacy))
    relation: dict[str, str] = field(
        default_factory=lambda: _options(
            HouseholdMembership.Relation, ("Ansprechperson", "HEAD"), ("Ehepartner", "SPOUSE")
        )
    )
    channel: dict[str, str] = field(
        default_factory=lambda: _options(
            Case.IntakeChannel, ("Zuweisung", "AUTHORITY_ALLOCATION"), ("Übergabe", "HANDOVER_FSA")
        )
    )
    status: dict[str, str] = field(default_factory=lambda: _options(CaseStatus, *STATUS_ALIASES))
    goal_status: dict[str, str] = field(default_factory=lambda: _options(GoalStatus, *GOAL_ALIASES))


def _entries(catalogue: str, day: date) -> dict[str, CatalogueEntry]:
    options: dict[str, CatalogueEntry] = {}
    for entry in CatalogueEntry.objects.filter(catalogue=catalogue, is_active=True):
        if entry.is_valid_on(day):
            for name in (entry.key, entry.label_de, entry.label_en):
                options[reading.fold(name)] = entry
    return options


def _lookups(actor: User, now: datetime, traeger_id: int, team_id: int) -> _Lookups:
    today = timezone.localdate(now)
    managers: dict[str, User] = {}
    for user in User.objects.filter(team_id=team_id, role=Role.INTEGRATION_MANAGER, is_active=True):
        managers[user.username.lower()] = user
        if user.email:
            managers[user.email.lower()] = user
    traeger = actor.traeger
    gemeinden = {g.ags: g for g in traeger.gemeinden.all()} if traeger else {}
    known = ImportedPerson.objects.filter(traeger_id=traeger_id)
    return _Lookups(
        actor=actor,
        today=today,
        managers=managers,
        gemeinden=gemeinden,
        fields_of_action=_entries(Catalogue.FIELD_OF_ACTION, today),
        extension_reasons=_entries(Catalogue.EXTENSION_REASON, today),
        imported=set(known.values_list("external_reference", flat=True)),
        imported_households=set(
            known.exclude(household_reference="").values_list("household_reference", flat=True)
        ),
    )


# --- one row ------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    reference: str
    household: str
    person: MigratedPerson
    address: str
    gemeinde: Gemeinde | None
    identity: tuple[Any, ...]


class _RowCheck:
    """Reads the values of one row, collecting a German message per bad cell."""

    def __init__(self, report: ImportReport, line: int, row: dict[str, Any]) -> None:
        self.report, self.line, self.row, self.bad = report, line, row, False

    def fail(self, column: str, message: Any) -> None:
        self.report.error(self.line, column, message)
        self.bad = True

    def get(self, column: str, reader: Callable[[Any], Any]) -> Any:
        try:
            return reader(self.row.get(column, ""))
        except BadValue as error:
            self.fail(column, error)
            return None

    def text(self, column: str, max_length: int) -> str:
        return self.get(column, lambda v: reading.text(v, max_length=max_length)) or ""

    def required(self, column: str, max_length: int) -> str:
        if not str(self.row.get(column, "") or "").strip():
            self.fail(column, gettext("This field is required."))
            return ""
        return self.text(column, max_length)

    def date(self, column: str, lookups: _Lookups, *, future: bool = False) -> date | None:
        day = self.get(column, reading.parse_date)
        if day is None:
            return None
        if day.year < 1900 or day.year > 2100:
            self.fail(column, gettext("The date is not plausible."))
            return None
        if not future and day > lookups.today:
            self.fail(column, gettext("The date lies in the future."))
            return None
        return day

    def choice(self, column: str, options: dict[str, str], default: str | None = None) -> str:
        value = self.get(column, lambda v: reading.choice(v, options, default=default))
        return value or ""


def _goals(check: _RowCheck, lookups: _Lookups) -> list[MigratedGoal]:
    goals = []
    for n in range(1, GOALS + 1):
        prefix = f"goal_{n}_"
        raw_field = str(check.row.get(prefix + "field", "") or "").strip()
        title = check.text(prefix + "title", 300)
        status_raw = str(check.row.get(prefix + "status", "") or "").strip()
        target_raw = check.row.get(prefix + "target_date", "")
        if not (raw_field or title or status_raw or target_raw):
            continue
        entry = lookups.fields_of_action.get(reading.fold(raw_field)) if raw_field else None
        if not raw_field:
            check.fail(prefix + "field", gettext("Name the field of action of the goal."))
        elif entry is None:
            check.fail(prefix + "field", gettext("Unknown field of action."))
        if not title:
            check.fail(prefix + "title", gettext("Write the goal."))
        status = check.choice(prefix + "status", lookups.goal_status, default=GoalStatus.AGREED)
        target = check.date(prefix + "target_date", lookups, future=True)
        if entry is not None and title and status:
            goals.append(
                MigratedGoal(field_of_action=entry, title=title, status=status, target_date=target)
            )
    return goals


def _derived_status(start: date | None, goals: list[MigratedGoal], review: date | None) -> str:
    if start is None:
        return S.REGISTERED
    if not goals:
        return S.INITIAL_COUNSELLING
    return S.ACTIVE if review is not None else S.PLANNING


def _case_of(check: _RowCheck, lookups: _Lookups, born: date | None) -> MigratedCase | None:
    manager_raw = str(check.row.get("manager", "") or "").strip().lower()
    owner = lookups.managers.get(manager_raw)
    if not manager_raw:
        check.fail("manager", gettext("Name the integration manager of the case."))
    elif owner is None:
        check.fail("manager", gettext("No active integration manager of your team has this name."))
    channel = check.choice(
        "intake_channel", lookups.channel, default=Case.IntakeChannel.AUTHORITY_ALLOCATION
    )
    start = check.date("first_consultation_on", lookups)
    if start is not None and born is not None and start < born:
        check.fail("first_consultation_on", gettext("The date lies before the date of birth."))
    months = check.get("extension_months", lambda v: reading.parse_int(v, low=1, high=12))
    reason_raw = str(check.row.get("extension_reason", "") or "").strip()
    reason = lookups.extension_reasons.get(reading.fold(reason_raw)) if reason_raw else None
    if reason_raw and reason is None:
        check.fail("extension_reason", gettext("Unknown extension reason."))
    if months and not reason_raw:
        check.fail("extension_reason", gettext("Name the reason of the extension."))
    if reason_raw and not months and not check.row.get("extension_months"):
        check.fail("extension_months", gettext("Give the months of the extension."))
    last_review = check.date("last_review_on", lookups)
    next_review = check.date("next_review_on", lookups, future=True)
    goals = _goals(check, lookups)
    raw_status = str(check.row.get("case_status", "") or "").strip()
    status = (
        check.choice("case_status", lookups.status)
        if raw_status
        else _derived_status(start, goals, next_review)
    )
    if check.bad:
        # A cell could not be read: the rules between cells would only
        # repeat that problem in other words.
        return None
    if months and start is None:
        check.fail("extension_months", gettext("An extension needs the first consultation."))
    if status and status not in (
        S.REGISTERED,
        S.INITIAL_COUNSELLING,
        S.PLANNING,
        S.ACTIVE,
        S.DORMANT,
    ):
        check.fail(
            "case_status",
            gettext("Only open cases are taken over (registered to dormant); close it there."),
        )
        return None
    if status == S.REGISTERED and start is not None:
        check.fail(
            "first_consultation_on",
            gettext("A registered case has had no first consultation yet; check the status."),
        )
    if status and status != S.REGISTERED and start is None:
        check.fail(
            "first_consultation_on",
            gettext("The case is past its first consultation: its date is required."),
        )
    if status in (S.PLANNING, S.ACTIVE, S.DORMANT) and not goals:
        check.fail("goal_1_title", gettext("A case in planning or later needs the plan's goals."))
    if status in (S.REGISTERED, S.INITIAL_COUNSELLING) and goals:
        check.fail("case_status", gettext("Goals belong to a case in planning or later."))
    if status in (S.ACTIVE, S.DORMANT) and next_review is None:
        check.fail("next_review_on", gettext("An active case needs the date of its next review."))
    if status not in (S.ACTIVE, S.DORMANT) and (next_review or last_review):
        check.fail(
            "next_review_on" if next_review else "last_review_on",
            gettext("Only an agreed plan (active or dormant case) has reviews."),
        )
    if next_review and last_review and next_review <= last_review:
        check.fail("next_review_on", gettext("The next review must lie after the last one."))
    if start is not None:
        end = regular_end_for(start)
        if months:
            end = extended_end_for(start=start, regular_end=end, months=months)
        if end < lookups.today:
            check.fail(
                "first_consultation_on",
                gettext("The consultation period ended on %(day)s; such a case is not taken over.")
                % {"day": end.strftime("%d.%m.%Y")},
            )
        if next_review and next_review > end:
            check.fail(
                "next_review_on",
                gettext("The review must lie within the consultation period (until %(day)s).")
                % {"day": end.strftime("%d.%m.%Y")},
            )
    if check.bad or owner is None:
        return None
    return MigratedCase(
        owner=owner,
        status=status,
        intake_channel=channel,
        first_consultation_on=start,
        extension_months=months,
        extension_reason=reason,
        last_review_on=last_review,
        next_review_on=next_review,
        goals=goals,
    )


def _row(report: ImportReport, lookups: _Lookups, line: int, row: dict[str, Any]) -> _Row | None:
    check = _RowCheck(report, line, row)
    reference = check.required("external_reference", 100)
    if reference in lookups.imported:
        # Taken over by an earlier import: the row is skipped, not compared.
        report.skipped.append({"line": line, "external_reference": reference})
        return None
    household = check.text("household_reference", 100)
    family_name = check.required("family_name", 200)
    born = check.date("date_of_birth", lookups)
    ags = check.text("gemeinde_ags", 8)
    gemeinde = lookups.gemeinden.get(ags) if ags else None
    if ags and gemeinde is None:
        check.fail("gemeinde_ags", gettext("This Gemeinde is not one of your Träger's."))
    facts: dict[str, Any] = {
        "family_name": family_name,
        "given_names": check.text("given_names", 200),
        "date_of_birth": born,
        "sex": check.choice("sex", lookups.sex, default=Person.Sex.UNKNOWN),
        "nationality": check.text("nationality", 100),
        "languages": check.text("languages", 200),
        "literacy": check.choice("literacy", lookups.literacy, default=Person.Literacy.UNKNOWN),
        "phone": check.text("phone", 50),
        "address": check.text("address", 300),
        "gemeinde": gemeinde,
        "au_allocation_date": check.date("au_allocation_date", lookups),
        "ukraine_displaced": bool(
            check.get("ukraine_displaced", lambda v: reading.parse_bool(v, default=False))
        ),
    }
    own_case = check.get("own_case", lambda v: reading.parse_bool(v, default=True))
    relation = check.choice("relation", lookups.relation, default="")
    case = None
    if own_case:
        if not ags:
            check.fail("gemeinde_ags", gettext("A case needs the Gemeinde of the person."))
        case = _case_of(check, lookups, born)
    else:
        for column in CASE_COLUMNS:
            if str(row.get(column, "") or "").strip():
                check.fail(column, gettext("Only a person with a case of their own has this."))
    if check.bad:
        return None
    if household and household in lookups.imported_households:
        check.fail(
            "household_reference",
            gettext(
                "This household was taken over by an earlier import; add new members "
                "in the household itself."
            ),
        )
        return None
    identity = (reading.fold(family_name), reading.fold(facts["given_names"]), born)
    return _Row(
        line=line,
        reference=reference,
        household=household,
        person=MigratedPerson(facts=facts, relation=relation, case=case),
        address=facts["address"],
        gemeinde=gemeinde,
        identity=identity,
    )


# --- the file ------------------------------------------------------------------


def _header(report: ImportReport, header: list[str]) -> bool:
    for index, name in enumerate(header):
        if name not in COLUMNS:
            report.error(1, name or f"#{index + 1}", gettext("Unknown column."))
        elif header.index(name) != index:
            report.error(1, name, gettext("The column appears twice."))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.error(1, name, gettext("The column is missing."))
    return not report.errors


def _plan(
    *,
    actor: User,
    now: datetime,
    content: bytes,
    filename: str,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> list[tuple[MigratedHousehold, list[_Row]]]:
    traeger_id, team_id = _require_supervisor(actor)
    lookups = _lookups(actor, now, traeger_id, team_id)
    planned: list[_Row] = []
    lines_of: dict[str, int] = {}
    identities: dict[tuple[Any, ...], int] = {}
    rejected: set[str] = set()  # households with a bad row: no further checks
    header_checked = False
    try:
        for line, headings, cells in reading.rows(content, filename):
            header = [KEY_OF_HEADING.get(name, name) for name in headings]
            row = {KEY_OF_HEADING.get(name, name): value for name, value in cells.items()}
            if not header_checked:
                header_checked = True
                if not _header(report, header):
                    return []
            report.rows += 1
            if "" in row:
                report.error(
                    line,
                    "file",
                    gettext("The row has %(n)d values, the header %(m)d columns.")
                    % {"n": len(header) + len(row[""]), "m": len(header)},
                )
                continue
            known_errors = len(report.errors)
            item = _row(report, lookups, line, row)
            if len(report.errors) > known_errors:
                rejected.add(str(row.get("household_reference", "") or "").strip())
            if progress is not None and report.rows % BATCH == 0:
                progress(report.rows)
            if item is None:
                continue
            if item.reference in lines_of:
                report.error(
                    line,
                    "external_reference",
                    gettext("The same reference is already in line %(line)d.")
                    % {"line": lines_of[item.reference]},
                )
                continue
            lines_of[item.reference] = line
            if item.identity[2] is not None and item.identity in identities:
                report.error(
                    line,
                    "family_name",
                    gettext("The same person is already in line %(line)d of this file.")
                    % {"line": identities[item.identity]},
                )
                continue
            identities.setdefault(item.identity, line)
            planned.append(item)
    except FileRefused as refused:
        report.error(refused.line, "file", refused.message)
        return []
    if not header_checked and not report.errors:
        report.error(0, "file", gettext("The file has a header but no rows."))
    if progress is not None:
        progress(report.rows)
    _known_persons(report, planned, traeger_id, rejected)
    rejected.discard("")
    return _households(report, [item for item in planned if item.household not in rejected])


def _known_persons(
    report: ImportReport, planned: list[_Row], traeger_id: int, rejected: set[str]
) -> None:
    """Refuse a person Lotse already knows under another reference (the
    same names and date of birth in the Träger): never a second record."""
    births = {item.identity[2] for item in planned if item.identity[2] is not None}
    if not births:
        return
    known: dict[tuple[Any, ...], int] = {}
    for pk, family_name, given_names, born in Person.objects.filter(
        traeger_id=traeger_id, date_of_birth__in=births, anonymised_at__isnull=True
    ).values_list("pk", "family_name", "given_names", "date_of_birth"):
        known[(reading.fold(family_name), reading.fold(given_names), born)] = pk
    for item in list(planned):
        if item.identity in known:
            report.error(
                item.line,
                "family_name",
                gettext(
                    "This person is already in Lotse (person %(id)d) under another "
                    "reference; it is not taken over twice."
                )
                % {"id": known[item.identity]},
            )
            planned.remove(item)
            rejected.add(item.household)


def _households(
    report: ImportReport, planned: list[_Row]
) -> list[tuple[MigratedHousehold, list[_Row]]]:
    groups: dict[str, list[_Row]] = {}
    households: list[list[_Row]] = []
    for item in planned:
        if item.household:
            if item.household not in groups:
                groups[item.household] = []
                households.append(groups[item.household])
            groups[item.household].append(item)
        else:
            households.append([item])
    result = []
    for members in households:
        if all(m.person.case is None for m in members):
            for m in members:
                report.error(
                    m.line,
                    "own_case",
                    gettext(
                        "Nobody in this household has a case; a person is taken over with a case."
                    ),
                )
            continue
        people = []
        for index, m in enumerate(members):
            relation = m.person.relation or (
                HouseholdMembership.Relation.HEAD if index == 0 else ""
            )
            if not relation:
                report.error(m.line, "relation", gettext("Give the relation in the household."))
            people.append(
                MigratedPerson(
                    facts=m.person.facts,
                    relation=relation,
                    case=m.person.case,
                    evidence=gettext("%(file)s, line %(line)d, reference %(reference)s")
                    % {"file": report.source, "line": m.line, "reference": m.reference},
                )
            )
        first = members[0]
        result.append(
            (
                MigratedHousehold(people=people, address=first.address, gemeinde=first.gemeinde),
                members,
            )
        )
        for m, person in zip(members, people, strict=True):
            if person.case is not None:
                report.cases.append(
                    {
                        "line": m.line,
                        "external_reference": m.reference,
                        "status": person.case.status,
                        "manager": person.case.owner.username,
                        "first_consultation_on": (
                            person.case.first_consultation_on.isoformat()
                            if person.case.first_consultation_on
                            else None
                        ),
                        "goals": len(person.case.goals),
                    }
                )
    report.persons = sum(len(h.people) for h, _members in result)
    report.households = sum(1 for h, _members in result if len(h.people) > 1)
    return result


def _require_supervisor(actor: User) -> tuple[int, int]:
    """Return the supervisor's Träger and team (403 for anyone else)."""
    if actor.role != Role.SUPERVISOR or not actor.team_id or not actor.traeger_id:
        raise Forbidden(_("Only a supervisor of a team can import its caseload."))
    return actor.traeger_id, actor.team_id


def caseload_import(
    *,
    actor: User,
    now: datetime,
    content: bytes,
    filename: str,
    dry_run: bool,
    run: CaseloadImport | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the caseload in `content` (layout: `COLUMNS`; one row per
    person, rows with the same `household_reference` form a household).

    All or nothing: with any bad row nothing is written and ImportInvalid
    (400) carries the report (line, column, German message per problem).
    The dry run checks exactly as the real run and reports the cases it
    would create and their states. Rows whose `external_reference` this
    Träger imported before are skipped (`skipped` in the report).
    Only a supervisor of a team (403); the managers named must be
    integration managers of that team.
    """
    traeger_id, team_id = _require_supervisor(actor)
    source = gettext("caseload import of %(file)s") % {"file": filename[:100] or "?"}
    report = ImportReport(dry_run=dry_run, source=source)
    planned = _plan(
        actor=actor, now=now, content=content, filename=filename, report=report, progress=progress
    )
    households = [household for household, _rows in planned]
    rows = [row for _household, members in planned for row in members]
    if report.errors:
        raise ImportInvalid(
            _("The file was not imported: %(n)d problems. Nothing was saved.")
            % {"n": len(report.errors)},
            report=report,
        )
    if dry_run or not households:
        return report
    try:
        with transaction.atomic():
            if run is None:
                run = CaseloadImport.objects.create(
                    traeger_id=traeger_id,
                    team_id=team_id,
                    created_by=actor,
                    created_at=now,
                    filename=filename[:200],
                    dry_run=False,
                    status=CaseloadImport.Status.RUNNING,
                )
            result = caseload_import_write(
                actor=actor,
                now=now,
                source=f"{source} (#{run.pk})",
                households=households,
            )
            persons = [p for group in result.persons for p in group]
            cases = [c for group in result.cases for c in group]
            mapping = [
                ImportedPerson(
                    traeger_id=traeger_id,
                    external_reference=row.reference,
                    household_reference=row.household,
                    person=person,
                    case=case,
                    run=run,
                )
                for row, person, case in zip(rows, persons, cases, strict=True)
            ]
            ImportedPerson.objects.bulk_create(mapping, batch_size=2000)
            by_reference = {m.external_reference: m for m in mapping}
            for entry in report.cases:
                imported = by_reference[entry["external_reference"]]
                entry["case_id"] = imported.case_id
            audit_event_record(
                event_type="caseload.import.completed",
                actor=actor,
                actor_role=actor.role,
                now=now,
                object_type="caseloadimport",
                object_id=run.pk,
                reason=source,
                data={
                    "cases": len(report.cases),
                    "persons": report.persons,
                    "households": report.households,
                    "skipped": len(report.skipped),
                },
            )
    except IntegrityError:
        # Another import took some of these references meanwhile.
        report.error(
            0,
            "file",
            gettext("Another import took over some of these rows meanwhile; run it again."),
        )
        raise ImportInvalid(
            _("The file was not imported: %(n)d problems. Nothing was saved.") % {"n": 1},
            report=report,
        ) from None
    return report


# --- the run in the worker ------------------------------------------------------


def caseload_import_submit(
    *, actor: User, now: datetime, content: bytes, filename: str, dry_run: bool
) -> CaseloadImport:
    """Store the upload as a waiting run and return at once: a request never
    talks to the broker. The worker's `caseload_imports_run_task` (beat,
    every LOTSE_RELAY_SECONDS) claims it; the page shows its progress. With
    eager tasks (tests, a shell) the run starts right after the commit."""
    traeger_id, team_id = _require_supervisor(actor)
    run = CaseloadImport.objects.create(
        traeger_id=traeger_id,
        team_id=team_id,
        created_by=actor,
        created_at=now,
        filename=filename[:200],
        content=content,
        dry_run=dry_run,
    )
    if current_app.conf.task_always_eager:
        run_id = run.pk
        transaction.on_commit(lambda: caseload_import_run(run_id=run_id))
    return run


def caseload_import_run(*, run_id: int) -> CaseloadImport:
    """Run a stored upload (the worker); progress and the report go into
    the `CaseloadImport` row, the file is dropped at the end. A run another
    worker claimed (or that ended) is left alone."""
    claimed = CaseloadImport.objects.filter(pk=run_id, status=CaseloadImport.Status.QUEUED).update(
        status=CaseloadImport.Status.RUNNING, started_at=timezone.now()
    )
    run = CaseloadImport.objects.select_related("created_by").get(pk=run_id)
    if not claimed:
        return run

    def progress(done: int) -> None:
        CaseloadImport.objects.filter(pk=run_id).update(rows_done=done)

    try:
        report = caseload_import(
            actor=run.created_by,
            now=timezone.now(),
            content=bytes(run.content),
            filename=run.filename,
            dry_run=run.dry_run,
            run=run,
            progress=progress,
        )
        status, body = CaseloadImport.Status.DONE, report.as_dict()
    except ImportInvalid as error:
        status, body = CaseloadImport.Status.FAILED, error.report.as_dict()
    except ApplicationError as error:  # the supervisor lost the role meanwhile
        status = CaseloadImport.Status.FAILED
        body = {"errors": [{"line": 0, "field": "file", "message": str(error.message)}]}
    CaseloadImport.objects.filter(pk=run_id).update(
        status=status,
        report=body,
        rows_total=body.get("rows", 0),
        rows_done=body.get("rows", 0),
        content=b"",
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def caseload_imports_run(*, now: datetime) -> int:
    """Run every waiting upload, oldest first (beat's task); a run whose
    worker died (still running after STALE_AFTER) fails with a message.
    Return how many ran."""
    CaseloadImport.objects.filter(
        status=CaseloadImport.Status.RUNNING, started_at__lt=now - STALE_AFTER
    ).update(
        status=CaseloadImport.Status.FAILED,
        content=b"",
        finished_at=now,
        report={
            "errors": [
                {
                    "line": 0,
                    "field": "file",
                    "message": gettext(
                        "The import stopped unexpectedly; nothing was saved. Upload it again."
                    ),
                }
            ]
        },
    )
    waiting = CaseloadImport.objects.filter(status=CaseloadImport.Status.QUEUED).order_by(
        "created_at", "pk"
    )
    ran = 0
    for pk in list(waiting.values_list("pk", flat=True)):
        ran += caseload_import_run(run_id=pk).status != CaseloadImport.Status.QUEUED
    return ran


def column_help() -> list[tuple[str, str]]:
    """The columns in template order with what the page says about them."""
    return [(HEADINGS[name], str(COLUMN_HELP[name])) for name in COLUMNS if name in COLUMN_HELP]


def column_headings() -> list[str]:
    """Every column's German heading in template order."""
    return [HEADINGS[name] for name in COLUMNS]


def report_for_display(report: dict[str, Any]) -> dict[str, Any]:
    """The stored report with the states as their German labels."""
    labels = dict(CaseStatus.choices)
    shown = dict(report)
    shown["states"] = [
        (str(labels.get(key, key)), count) for key, count in report.get("states", {}).items()
    ]
    shown["cases"] = [
        {
            **item,
            "status_label": str(labels.get(item["status"], item["status"])),
            "first_consultation_on": (
                date.fromisoformat(item["first_consultation_on"]).strftime("%d.%m.%Y")
                if item.get("first_consultation_on")
                else ""
            ),
        }
        for item in report.get("cases", [])
    ]
    shown["errors"] = [
        {**error, "field": HEADINGS.get(error.get("field", ""), error.get("field", ""))}
        for error in report.get("errors", [])
    ]
    return shown


# --- the templates --------------------------------------------------------------


def import_template_csv() -> bytes:
    """Return the CSV template (UTF-8 with BOM, `;`) with two sample rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(column_headings())
    for row in TEMPLATE_ROWS:
        writer.writerow([row.get(name, "") for name in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def import_template_xlsx() -> bytes:
    """Return the XLSX template with the same columns and sample rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.create_sheet("Fallbestand", 0)
    workbook.remove(workbook.worksheets[1])
    sheet.append(column_headings())
    for row in TEMPLATE_ROWS:
        sheet.append([row.get(name, "") for name in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
