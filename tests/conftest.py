"""Shared test setup: database selection rules and personas."""

from __future__ import annotations

import os

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
