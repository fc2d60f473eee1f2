"""lotse.E001: the fast paths' reviewed pins (docs/FASTPATHS.md)."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import checks

from cases import fastpaths as case_fastpaths
from config import checks as project_checks
from workflows import fastpaths as workflow_fastpaths

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"


def _pins_in_requirements() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s#]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_the_reviewed_pins_are_the_pinned_requirements() -> None:
    pins = _pins_in_requirements()
    assert set(project_checks.FASTPATH_MODULES) == {
        "cases.fastpaths",
        "workflows.fastpaths",
        "config.fastpaths",
    }
    for name, distributions in project_checks.FASTPATH_MODULES.items():
        required = {distribution: pins[distribution.lower()] for distribution in distributions}
        assert required == importlib.import_module(name).REVIEWED_PINS


def test_the_check_passes_on_the_reviewed_versions() -> None:
    assert project_checks.check_fastpath_pins() == []
    assert [e for e in checks.run_checks() if e.id == "lotse.E001"] == []


@pytest.mark.parametrize("distribution", ["Django", "django-viewflow", "django-fsm-2"])
def test_the_check_fails_for_every_fastpath_module_when_a_version_changes(
    monkeypatch: pytest.MonkeyPatch, distribution: str
) -> None:
    real = project_checks.installed_version
    monkeypatch.setattr(
        project_checks,
        "installed_version",
        lambda name: "99.0.0" if name == distribution else real(name),
    )

    errors = project_checks.check_fastpath_pins()

    assert [(e.id, e.obj, e.level) for e in errors] == [
        ("lotse.E001", "cases.fastpaths", checks.ERROR),
        ("lotse.E001", "workflows.fastpaths", checks.ERROR),
    ]
    reviewed = case_fastpaths.REVIEWED_PINS[distribution]
    assert errors[0].msg == (
        f"cases.fastpaths was reviewed for {distribution} {reviewed}, but 99.0.0 is installed."
    )
    # `manage.py check` runs it: the app does not start until the list is reviewed.
    assert [e.obj for e in checks.run_checks() if e.id == "lotse.E001"] == [
        "cases.fastpaths",
        "workflows.fastpaths",
    ]


def test_a_new_psycopg_fails_only_the_driver_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    real = project_checks.installed_version
    monkeypatch.setattr(
        project_checks,
        "installed_version",
        lambda name: "9.0.0" if name == "psycopg" else real(name),
    )

    errors = project_checks.check_fastpath_pins()

    assert [(e.id, e.obj) for e in errors] == [("lotse.E001", "config.fastpaths")]


@pytest.mark.django_db
def test_psycopg_caches_the_restart_write() -> None:
    """`config.fastpaths.tune_psycopg` ran at start-up, and the longest
    statement of a case transition (the restart's write with the
    transition's held UPDATE and event) fits the raised limits."""
    from django.db import connection
    from psycopg import _queries

    from cases import services
    from cases.demo import consult
    from cases.models import CaseStatus
    from config import fastpaths
    from tests.cases.factories import T0, journey_to

    assert _queries.MAX_CACHED_STATEMENT_PARAMS == fastpaths.STATEMENT_PARAMS
    assert _queries.MAX_CACHED_STATEMENT_LENGTH == fastpaths.STATEMENT_LENGTH
    case = journey_to(CaseStatus.ACTIVE)
    sent: list[tuple[str, int]] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        sent.append((sql, len(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        services.case_transition(
            case=case.pk, name="pause", actor=case.owner, now=T0, reason="OTHER"
        )
    consult(case, now=T0 + timedelta(minutes=1))
    with connection.execute_wrapper(record):
        services.case_transition(case=case.pk, name="resume", actor=case.owner, now=T0)

    longest = max(len(sql) for sql, _ in sent)
    most = max(count for _, count in sent)
    assert longest <= fastpaths.STATEMENT_LENGTH
    assert most <= fastpaths.STATEMENT_PARAMS
    if connection.vendor == "postgresql":
        # Above psycopg's own limits: what the tuning is for.
        assert most > 50


def test_the_check_names_only_the_module_whose_pins_are_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        workflow_fastpaths,
        "REVIEWED_PINS",
        {**workflow_fastpaths.REVIEWED_PINS, "django-viewflow": "2.3.0"},
    )

    errors = project_checks.check_fastpath_pins()

    assert [(e.id, e.obj) for e in errors] == [("lotse.E001", "workflows.fastpaths")]
    assert "reviewed for django-viewflow 2.3.0" in errors[0].msg


def test_a_missing_library_is_a_changed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    real = project_checks.installed_version
    monkeypatch.setattr(
        project_checks,
        "installed_version",
        lambda name: None if name == "django-fsm-2" else real(name),
    )

    assert [e.id for e in project_checks.check_fastpath_pins()] == ["lotse.E001", "lotse.E001"]
