"""Shared test setup: database selection rules and personas."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import connection


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL-only tests on SQLite, except in CI where it fails."""
    needs_pg = [item for item in items if item.get_closest_marker("postgres")]
    if not needs_pg or _on_postgres():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            "CI is set but the tests run on SQLite: set DATABASE_URL to PostgreSQL; "
            f"{len(needs_pg)} tests need it."
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in needs_pg:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _german_default(settings) -> None:
    """Run every test with the product's default language, German."""
    settings.LANGUAGE_CODE = "de"


# --- transition coverage (RELIABILITY.md W6) --------------------------------
# Every successful transition writes an audit event; recording the events
# the suite wrote tells which transitions some test fired. A full run fails
# when a declared transition was never fired.

FIRED: set[str] = set()


@pytest.fixture(autouse=True, scope="session")
def _record_fired_transitions() -> Any:
    from cases import services

    original = services.audit_event_record

    def recording(**kwargs: Any) -> Any:
        event = original(**kwargs)
        if kwargs.get("transition"):
            FIRED.add(f"{kwargs['object_type']}.{kwargs['transition']}")
        return event

    services.audit_event_record = recording
    yield
    services.audit_event_record = original


def declared_transitions() -> set[str]:
    from cases.models import Case, ExtensionRequest

    names = {"case.create"}
    for model in (Case, ExtensionRequest):
        field = model._meta.get_field("status")
        names |= {f"{model._meta.model_name}.{t.name}" for t in field.get_all_transitions(model)}
    return names


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    full_run = (
        not config.option.keyword
        and not config.option.markexpr
        and all(arg.rstrip("/") in ("tests", str(config.rootpath / "tests")) for arg in config.args)
        and not getattr(config.option, "lf", False)
        and session.testscollected > 0
        and not hasattr(config, "workerinput")
    )
    if not full_run or exitstatus != 0:
        return
    missing = sorted(declared_transitions() - FIRED)
    if missing:
        session.exitstatus = 1
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED transition coverage: never fired: {', '.join(missing)}", red=True
            )
