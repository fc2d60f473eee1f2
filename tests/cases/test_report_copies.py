"""The report copies on consultations and their links (cases.models._ConsultationLink).

A consultation carries its case's Träger and Gemeinde; its topic and
participant links carry the consultation's date and status and the same
Träger and Gemeinde. `consultation_record` writes them; the migration that
introduced them fills them from the sources; and no code may change a
source (a consultation's date or status, a case's Träger or Gemeinde)
without the copies, which this module enforces by reading the code: such
a change must update the copies in the same transaction (or, if the field
belongs to another model, say so on its line with NOT_A_SOURCE).
"""

from __future__ import annotations

import ast
import importlib
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from cases import services
from cases.models import (
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
    Household,
    HouseholdMembership,
)
from tests.accounts.factories import GemeindeFactory, TeamFactory, TraegerFactory
from tests.cases.factories import T0, PersonFactory, give_consent, manager_in, new_case

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "accounts",
    "audit",
    "cases",
    "config",
    "dataprotection",
    "handover",
    "notifications",
    "reports",
    "workflows",
)
COPIED_PLACE = {"traeger", "traeger_id", "gemeinde", "gemeinde_id"}
COPIED_CONSULTATION = {"held_on"}


def _copies(model: type, consultation: Consultation) -> list[tuple]:
    return list(
        model.objects.filter(consultation=consultation)
        .order_by("pk")
        .values_list("held_on", "status", "traeger_id", "gemeinde_id")
    )


@pytest.mark.django_db
def test_consultation_record_writes_the_copies_of_date_status_and_place() -> None:
    # given: a case in a Gemeinde, with a household member
    team = TeamFactory()
    owner = manager_in(team)
    gemeinde = GemeindeFactory(kreis=team.traeger.kreis)
    case = new_case(owner=owner, gemeinde=gemeinde)
    household = Household.objects.create(traeger=team.traeger, gemeinde=gemeinde)
    partner = PersonFactory(traeger=team.traeger)
    for person, relation in ((case.person, "HEAD"), (partner, "SPOUSE")):
        HouseholdMembership.objects.create(household=household, person=person, relation=relation)
    case.household = household
    case.save(update_fields=["household"])

    # when
    consultation = services.consultation_record(
        case=case,
        actor=owner,
        now=T0,
        held_on=date(2026, 1, 2),
        duration_minutes=40,
        form="office",
        topics=["language", "work"],
        status=Consultation.Status.NO_SHOW,
        participant_ids=[case.person_id, partner.pk],
    )

    # then
    consultation.refresh_from_db()
    assert (consultation.traeger_id, consultation.gemeinde_id) == (team.traeger_id, gemeinde.pk)
    row = (date(2026, 1, 2), "NO_SHOW", team.traeger_id, gemeinde.pk)
    assert _copies(ConsultationTopic, consultation) == [row, row]
    assert _copies(ConsultationParticipant, consultation) == [row, row]
    assert set(consultation.participants.values_list("pk", flat=True)) == {
        case.person_id,
        partner.pk,
    }


@pytest.mark.django_db
def test_a_case_without_gemeinde_gives_copies_without_gemeinde() -> None:
    case = new_case()
    assert case.gemeinde_id is None
    give_consent(case)

    consultation = services.consultation_record(
        case=case,
        actor=case.owner,
        now=T0,
        held_on=T0.date(),
        duration_minutes=30,
        form="office",
        topics=["housing"],
    )

    row = (T0.date(), "COMPLETED", case.traeger_id, None)
    assert _copies(ConsultationTopic, consultation) == [row]
    assert _copies(ConsultationParticipant, consultation) == [row]


class _Executor:
    connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.django_db
def test_the_migration_fills_the_copies_from_consultation_and_case() -> None:
    # given: copies that are wrong (as before the migration filled them)
    gemeinde = GemeindeFactory()
    case = new_case(gemeinde=gemeinde)
    give_consent(case)
    consultation = services.consultation_record(
        case=case,
        actor=case.owner,
        now=T0,
        held_on=date(2026, 1, 3),
        duration_minutes=30,
        form="office",
        topics=["language", "work"],
    )
    stranger = TraegerFactory()
    Consultation.objects.filter(pk=consultation.pk).update(traeger=stranger, gemeinde=None)
    for model in (ConsultationTopic, ConsultationParticipant):
        model.objects.filter(consultation=consultation).update(
            held_on=date(2000, 1, 1), status="CANCELLED", traeger=stranger, gemeinde=None
        )
    migration = importlib.import_module("cases.migrations.0007_consultation_report_copies")

    # when (SQLite's schema editor cannot open inside the test's
    # transaction; the fill needs only the connection and execute)
    migration.fill(None, _Executor())

    # then
    consultation.refresh_from_db()
    assert (consultation.traeger_id, consultation.gemeinde_id) == (case.traeger_id, gemeinde.pk)
    row = (date(2026, 1, 3), "COMPLETED", case.traeger_id, gemeinde.pk)
    assert _copies(ConsultationTopic, consultation) == [row, row]
    assert _copies(ConsultationParticipant, consultation) == [row]


# --- nothing changes a copied source behind the copies' back -----------------------------


def _sources() -> list[Path]:
    return [
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def _writes_of_copied_sources(source: str) -> list[int]:
    """Lines that assign a copied field on an existing object, or pass one
    to an UPDATE (`update`, `update_rows`, `bulk_update`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines += [
                t.lineno
                for t in targets
                if isinstance(t, ast.Attribute) and t.attr in COPIED_PLACE | COPIED_CONSULTATION
            ]
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            keywords = {k.arg for k in node.keywords}
            if name in ("update", "update_rows") and keywords & (
                COPIED_PLACE | COPIED_CONSULTATION
            ):
                lines.append(node.lineno)
            if name == "bulk_update" and any(
                isinstance(arg, ast.List | ast.Tuple)
                and {getattr(e, "value", None) for e in arg.elts}
                & (COPIED_PLACE | COPIED_CONSULTATION)
                for arg in node.args
            ):
                lines.append(node.lineno)
    # A consultation's status: the model name and the keyword on one line.
    lines += [
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if "Consultation" in line and "update(" in line and "status=" in line
    ]
    return sorted(set(lines))


# A write of a same-named field of another model (a person's Gemeinde, say)
# is allowed when its line says so.
NOT_A_SOURCE = "# not a copied source"


def _unmarked(source: str, lines: list[int]) -> list[int]:
    text = source.splitlines()
    return [line for line in lines if not text[line - 1].rstrip().endswith(NOT_A_SOURCE)]


# Write a source together with its copies in the same transaction: corrections
# (tested in tests/cases/test_corrections.py) and the transfer to another
# Träger, which moves the case's Träger and its consultations' copies with it
# (tested in tests/cases/test_transfer.py).
WRITES_WITH_COPIES = {"cases/services/corrections.py", "cases/services/transfer.py"}


def test_no_code_changes_a_copied_source() -> None:
    offenders = {
        str(path.relative_to(ROOT)): _unmarked(
            path.read_text(), _writes_of_copied_sources(path.read_text())
        )
        for path in _sources()
        if str(path.relative_to(ROOT)) not in WRITES_WITH_COPIES
    }

    assert {path: lines for path, lines in offenders.items() if lines} == {}


@pytest.mark.parametrize(
    "line",
    [
        "case.gemeinde = other",
        "consultation.held_on = day",
        "history.update_rows(Case.objects.filter(pk=1), traeger=t)",
        "Consultation.objects.filter(pk=1).update(status='NO_SHOW')",
        "Case.objects.bulk_update(rows, ['gemeinde'])",
    ],
)
def test_the_guard_catches_a_write_of_a_copied_source(line: str) -> None:
    assert _writes_of_copied_sources(line) == [1]
