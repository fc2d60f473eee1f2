"""The authorisation matrix (config/access_matrix.py) covers every URL pattern.

The cells of case-scoped routes are proven by the access tests the matrix
names (tests/cases/test_api_access.py for the API, tests/workflows/
test_access.py for the task screens); this module checks that those tests
enumerate exactly the routes the matrix calls case-scoped, and proves the
cells of the role-only and admin routes itself.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone

from accounts.models import Role
from config import access_matrix
from config.access_matrix import ADMIN, CASE, MATRIX, ROLE, entry_for
from tests.accounts.factories import DeputyGrantFactory, TeamFactory, UserFactory
from tests.cases.factories import manager_in, new_case, supervisor_of
from tests.cases.test_api_access import api_routes
from tests.cases.test_views import NESTED_ROUTES, case_page_routes
from tests.cases.test_views import ROUTES as CASE_PAGE_ROUTES
from tests.workflows.test_access import workflow_routes

ROOT = Path(__file__).resolve().parents[2]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(full name or route, route) of every pattern of the URLconf."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            # An unnamed pattern is known by its route (inside its namespace).
            found.append((namespace + (entry.name or route), route))
    return found


def unclassified(patterns: list[Any]) -> list[str]:
    return [f"{key} ({route})" for key, route in _walk(patterns) if entry_for(key) is None]


def test_every_url_pattern_is_classified() -> None:
    patterns = _walk(get_resolver().url_patterns)

    assert len(patterns) > 150  # the whole URLconf, admin included
    assert unclassified(get_resolver().url_patterns) == []


def test_a_new_unclassified_pattern_fails() -> None:
    extra = path("neu/<str:case_id>/", lambda request, case_id: HttpResponse(), name="neu")

    assert unclassified([*get_resolver().url_patterns, extra]) == ["neu (neu/<str:case_id>/)"]


def test_every_matrix_entry_covers_some_pattern() -> None:
    used = {entry_for(key)[0] for key, _route in _walk(get_resolver().url_patterns)}

    assert set(MATRIX) - used == set()


def test_every_entry_names_an_existing_test_module() -> None:
    missing = {key: a.tested_in for key, a in MATRIX.items() if not (ROOT / a.tested_in).is_file()}

    assert missing == {}


def test_case_scoped_api_routes_are_exactly_those_the_api_access_test_covers() -> None:
    matrix_case_api = {
        key
        for key, route in _walk(get_resolver().url_patterns)
        if route.startswith("api/v1/") and entry_for(key)[1].kind == CASE
    }
    # test_api_access also enumerates the object lists of one's own (no case id).
    api_access = {
        r.name for r in api_routes() if "case_id" in r.parameters or "request_id" in r.parameters
    }

    assert matrix_case_api == api_access
    assert all(MATRIX[name].tested_in == "tests/cases/test_api_access.py" for name in api_access)


def test_case_scoped_task_routes_are_exactly_those_the_task_access_test_covers() -> None:
    matrix_case_web = {
        key
        for key, route in _walk(get_resolver().url_patterns)
        if route.startswith("aufgaben/") and entry_for(key)[1].kind == CASE
    }
    task_access = {r.name for r in workflow_routes() if r.kind in ("case", "task")}

    assert matrix_case_web == task_access


def test_case_pages_are_exactly_those_the_case_page_test_covers() -> None:
    matrix_case_pages = {
        key
        for key, route in _walk(get_resolver().url_patterns)
        if route.startswith("faelle/") and entry_for(key)[1].kind == CASE
    }

    # The pages that name an entry of the case besides the case are CASE
    # routes too; tests/cases/test_day_views.py requests them with the entries.
    assert matrix_case_pages == case_page_routes() | NESTED_ROUTES
    assert case_page_routes() == set(CASE_PAGE_ROUTES)
    assert {MATRIX[name].tested_in for name in CASE_PAGE_ROUTES} == {"tests/cases/test_views.py"}
    assert {MATRIX[name].tested_in for name in NESTED_ROUTES} == {"tests/cases/test_day_views.py"}
    for name, route in CASE_PAGE_ROUTES.items():
        assert MATRIX[name].methods == tuple(m.upper() for m in route.methods), name


@pytest.mark.parametrize(
    ("role", "relation", "outcome"),
    [
        (Role.INTEGRATION_MANAGER, "own", "allow"),
        (Role.INTEGRATION_MANAGER, "deputised", "allow"),
        (Role.INTEGRATION_MANAGER, "same_team", "404"),
        (Role.INTEGRATION_MANAGER, "other_team", "404"),
        (Role.SUPERVISOR, "same_team", "metadata"),
        (Role.SUPERVISOR, "approval_task", "allow"),
        (Role.SUPERVISOR, "other_team", "404"),
        (Role.INTEGRATION_MANAGER, "archived", "404"),
        (Role.SUPERVISOR, "archived", "404"),
        (Role.AUDITOR, "archived", "metadata"),
        (Role.DATA_PROTECTION_OFFICER, "archived", "metadata"),
        (Role.GU_SOCIAL_WORKER, "same_traeger", "404"),
        (Role.ADMINISTRATOR, "same_traeger", "404"),
        (Role.COORDINATOR, "same_kreis", "404"),
    ],
)
def test_case_outcomes_default_to_404(role: str, relation: str, outcome: str) -> None:
    assert access_matrix.case_outcome(role, relation) == outcome


# --- cells of the role-only and admin routes ---------------------------------------


ROLES = [r for r in Role.values]


@pytest.fixture
def world(db) -> dict[str, Any]:
    team = TeamFactory()
    owner = manager_in(team)
    lead = supervisor_of(team)
    case = new_case(owner=owner, now=timezone.now() - timedelta(hours=1))
    grant = DeputyGrantFactory(
        principal=owner,
        deputy=manager_in(team),
        granted_by=lead,
        valid_from=timezone.now() - timedelta(hours=1),
        valid_until=timezone.now() + timedelta(days=1),
    )
    users = {}
    for role in ROLES:
        if role in (Role.INTEGRATION_MANAGER, Role.SUPERVISOR):
            users[role] = UserFactory(role=role, team=team)
        elif role == Role.COORDINATOR:
            users[role] = UserFactory(role=role, kreis=team.traeger.kreis)
        else:
            users[role] = UserFactory(role=role, team=None, traeger=team.traeger)
    users[Role.SUPERVISOR] = lead
    return {
        "users": users,
        "ids": {"person_pk": case.person_id, "grant_pk": grant.pk},
        "case": case,
    }


def _url(name: str, ids: dict[str, Any]) -> str:
    route = dict(_walk(get_resolver().url_patterns))[name]
    params = re.findall(r"<(?:\w+:)?(\w+)>", route)
    return reverse(name, kwargs={p: ids[p] for p in params})


@pytest.mark.parametrize("role", ROLES)
def test_role_routes_answer_404_to_every_other_role(world: dict[str, Any], role: str) -> None:
    client = Client()
    client.force_login(world["users"][role])
    checked = 0
    for name, access in MATRIX.items():
        if access.kind != ROLE:
            continue
        url = _url(name, world["ids"])
        for method in access.methods:
            response = getattr(client, method.lower())(url)
            if role in access.roles:
                assert response.status_code != 404, f"{role} {method} {url}"
            else:
                assert response.status_code == 404, f"{role} {method} {url}"
            checked += 1
    assert checked >= 7


@pytest.mark.parametrize("role", ROLES)
def test_no_lotse_role_reaches_the_admin(world: dict[str, Any], role: str) -> None:
    assert MATRIX["admin:"].kind == ADMIN
    client = Client()
    client.force_login(world["users"][role])

    response = client.get("/admin/cases/person/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
