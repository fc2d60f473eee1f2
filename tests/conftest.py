"""Shared test setup: database selection rules and personas."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import connection

# Loads the Hypothesis profile (LOTSE_HYPOTHESIS_PROFILE) before any test
# module builds its settings from it.
from tests import hypothesis_profiles


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_report_header(config: pytest.Config) -> str:
    budget = hypothesis_profiles.BUDGET
    return (
        f"hypothesis profile: {hypothesis_profiles.PROFILE} "
        f"(W5 {budget.machine_examples} x {budget.machine_steps} steps, "
        f"fuzz {budget.fuzz_examples} per operation and role)"
    )


# The suite's long files, longest first (`make test` timings on two workers).
# They run first, each file on one worker (`--dist loadgroup`: a file's
# module-scoped stack or seeded data is built once), while the other worker
# takes the short tests one by one; so both workers finish together instead
# of one waiting minutes for a long file that happened to come last.
LONG_FIRST = (
    "tests/cases/test_state_machine.py",
    "tests/operations/test_prodcheck.py",
    "tests/cases/test_api_fuzz.py",
    "tests/operations/test_backup.py",
    "tests/config/test_screens.py",
    "tests/config/test_screenshots.py",
    "tests/notifications/test_hung_broker.py",
    "tests/notifications/test_broker_outage.py",
    "tests/cases/test_browser_journey.py",
)


def _long_first(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: the LONG_FIRST files, then browser tests,
    then the rest in collection order; one xdist group per long file."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        if path in LONG_FIRST:
            return LONG_FIRST.index(path)
        return len(LONG_FIRST) + (0 if item.get_closest_marker("browser") else 1)

    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path in LONG_FIRST and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(path))
    items[:] = sorted(items, key=rank)  # stable: collection order within a rank


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long files first; skip PostgreSQL-only tests on SQLite, except in CI
    where it fails."""
    _long_first(items)
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


@pytest.fixture(autouse=True)
def _own_audit_anchors(settings, tmp_path) -> None:
    """Each test has its own (empty) directory of audit anchors."""
    settings.LOTSE_AUDIT_ANCHOR_DIR = str(tmp_path / "audit-anchors")


# --- transition coverage (RELIABILITY.md W6) --------------------------------
# Every successful transition writes an audit event; recording the events
# the suite wrote tells which transitions some test fired. A full run fails
# when a declared transition was never fired.

FIRED: set[str] = set()


@pytest.fixture(autouse=True, scope="session")
def _record_fired_transitions() -> Any:
    # Every case service writes its audit event through this one module.
    from cases.services import base as services

    original = services.audit_event_record

    def recording(**kwargs: Any) -> Any:
        event = original(**kwargs)
        if kwargs.get("transition"):
            FIRED.add(f"{kwargs['object_type']}.{kwargs['transition']}")
        return event

    services.audit_event_record = recording
    yield
    services.audit_event_record = original


# Flow nodes too (W6): every node of the case flow must be reached by some
# test; recorded when the engine creates a task for it.
REACHED_NODES: set[str] = set()


@pytest.fixture(autouse=True, scope="session")
def _record_reached_nodes() -> Any:
    from viewflow.workflow.base import Node

    original = Node._create

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        REACHED_NODES.add(f"{self.flow_class.__name__}.{self.name}")
        return original(self, *args, **kwargs)

    # A restart outside a guided task writes the rows of a process start
    # directly (workflows.fastpaths.process_write); those nodes count too.
    from workflows import fastpaths

    original_write = fastpaths.process_write

    def writing(process: Any, planned: Any, **kwargs: Any) -> Any:
        REACHED_NODES.update(f"{process.flow_class.__name__}.{row.node.name}" for row in planned)
        return original_write(process, planned, **kwargs)

    Node._create = recording
    fastpaths.process_write = writing
    yield
    Node._create = original
    fastpaths.process_write = original_write


def declared_nodes() -> set[str]:
    from workflows.flows import CaseFlow

    # The start node is created by StartHandle.run(), not through _create.
    return {f"CaseFlow.{node.name}" for node in CaseFlow.instance.nodes() if node.name != "start"}


def declared_transitions() -> set[str]:
    from cases.models import Case, ExtensionRequest

    names = {"case.create"}
    for model in (Case, ExtensionRequest):
        field = model._meta.get_field("status")
        names |= {f"{model._meta.model_name}.{t.name}" for t in field.get_all_transitions(model)}
    return names


def pytest_testnodedown(node: Any, error: Any) -> None:
    """With pytest-xdist: gather what each worker fired and reached."""
    output = getattr(node, "workeroutput", {})
    FIRED.update(output.get("fired", ()))
    REACHED_NODES.update(output.get("reached_nodes", ()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker reports to the controller
        config.workeroutput["fired"] = sorted(FIRED)
        config.workeroutput["reached_nodes"] = sorted(REACHED_NODES)
        return
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
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for what, missing in (
        ("transition coverage: never fired", sorted(declared_transitions() - FIRED)),
        ("flow node coverage: never reached", sorted(declared_nodes() - REACHED_NODES)),
    ):
        if missing:
            session.exitstatus = 1
            if reporter is not None:
                reporter.write_line(f"FAILED {what}: {', '.join(missing)}", red=True)
