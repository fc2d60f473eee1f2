"""No workspace page makes more queries as the number of cases grows.

Each page is requested once with a small and once with a large team (3
and 60 cases of each kind: reviews due and overdue, periods ending, open
guided tasks, deputised cases, waiting extension requests, handovers and
notifications) and must make the same number of queries, session and
sign-in included, and no more than its budget.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from cases.models import CaseStatus
from tests.accounts.factories import DeputyGrantFactory, GemeindeFactory, TeamFactory, UserFactory
from tests.cases.factories import ensure_catalogues, manager_in, new_case, supervisor_of
from tests.workspace.factories import NOW, TODAY, case_row, submitted_handover, waiting_extension

pytestmark = pytest.mark.django_db

# Budgets per page, session and sign-in included (the lists' goal is 10).
BUDGETS = {
    "/arbeitsplatz/faelle/": 10,
    "/arbeitsplatz/faelle/?q=m%C3%BCller&review=due&sort=-deadline&page=2": 10,
    "/arbeitsplatz/team/": 10,
    "/arbeitsplatz/team/?review=overdue&ending=90&sort=number&page=2": 10,
    # The day's page checks its notifications' links against what the reader
    # may open (notifications.links): one query for cases, one for handovers.
    "/arbeitsplatz/": 14,
    "/": 14,
}


def family(n: int) -> str:
    """A family name the handover's duplicate check tells apart from the others."""
    letters = "bdfgklmnpt"
    return f"{letters[n // 10].upper()}a{letters[n % 10]}"


def team_of(size: int) -> dict[str, Any]:
    """A team whose manager has `size` cases of each kind."""
    ensure_catalogues()
    team = TeamFactory()
    gemeinde = GemeindeFactory()
    team.traeger.gemeinden.add(gemeinde)
    manager = manager_in(team)
    colleague = manager_in(team)
    supervisor = supervisor_of(team)
    gu = UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=None)
    DeputyGrantFactory(
        principal=colleague,
        deputy=manager,
        granted_by=supervisor,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
    )
    for n in range(size):
        case_row(
            manager,
            family_name=f"Müller {n}",
            gemeinde=gemeinde,
            review=TODAY - timedelta(days=n + 1),
            end=TODAY + timedelta(days=400),
        )
        case_row(
            manager,
            family_name=f"Mueller {n}",
            review=TODAY + timedelta(days=n % 14),
            end=TODAY + timedelta(days=300),
        )
        case_row(
            manager,
            status=CaseStatus.PLANNING,
            family_name=f"Ende {n}",
            end=TODAY + timedelta(days=n + 1),
        )
        later = case_row(
            colleague,
            family_name=f"Vertretung {n}",
            review=TODAY + timedelta(days=100),
            end=TODAY + timedelta(days=600),
        )
        waiting_extension(later, by=colleague)
        new_case(owner=manager, now=NOW - timedelta(days=30))  # an open guided task
        submitted_handover(gemeinde, gu, family(n))  # and a notification
    return {"manager": manager, "supervisor": supervisor}


def queries(user: Any, url: str) -> int:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return len(captured)


def readers(url: str) -> tuple[str, ...]:
    if url.startswith("/arbeitsplatz/faelle/"):
        return ("manager",)
    if url.startswith("/arbeitsplatz/team/"):
        return ("supervisor",)
    return ("manager", "supervisor")


def counts(size: int) -> dict[tuple[str, str], int]:
    with time_machine.travel(NOW, tick=False):
        team = team_of(size)
        return {(url, who): queries(team[who], url) for url in BUDGETS for who in readers(url)}


def test_no_workspace_page_makes_more_queries_for_more_cases() -> None:
    small = counts(3)
    large = counts(60)

    assert large == small
    for (url, who), count in large.items():
        assert count <= BUDGETS[url], (url, who, count)
