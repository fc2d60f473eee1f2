"""The extension request from the case page, in a real browser: the manager
asks from the case file (no guided check task due yet), a supervisor of the
team approves it in the Freigaben (four eyes)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.models import CaseStatus, ExtensionRequest, ExtensionStatus
from tests.accounts.factories import TeamFactory
from tests.cases.factories import ensure_catalogues, journey_to, manager_in, supervisor_of
from tests.cases.test_browser_journey import Screen, browser  # noqa: F401 - the fixture


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_extension_is_requested_from_the_case_page(browser: Any, live_server: Any) -> None:  # noqa: F811
    ensure_catalogues()
    team = TeamFactory()
    manager, lead = manager_in(team), supervisor_of(team)
    # The period began so long ago that it ends in about four months: inside
    # the case page's window (six months), before the check task is due.
    today = timezone.localdate()
    began = today.replace(year=today.year - 3) + timedelta(days=120)
    case = journey_to(
        CaseStatus.ACTIVE,
        owner=manager,
        now=timezone.make_aware(datetime.combine(began, time(10))),
    )
    case_page = f"/faelle/{case.pk}/"

    screen = Screen(browser, live_server.url)
    screen.sign_in(manager.username)
    screen.go(case_page)
    screen.page.get_by_role("link", name="Verlängerung beantragen").click()
    screen.assert_every_control_is_labelled()
    screen.page.get_by_label("Grund").select_option("illiteracy")
    screen.page.get_by_label("Monate").fill("6")
    screen.page.get_by_label("Begründung").fill("Alphabetisierungskurs läuft bis zum Sommer.")
    screen.shot("extension-from-case-page")
    with screen.page.expect_navigation():
        screen.page.get_by_role("button", name="Verlängerungsantrag stellen").click()
    assert screen.page.url.endswith(case_page)
    assert screen.page.get_by_text("Teamleitung zur Entscheidung").count() == 1
    assert screen.page.get_by_role("link", name="Verlängerung beantragen").count() == 0
    request = ExtensionRequest.objects.get(case=case)
    assert (request.status, request.months) == (ExtensionStatus.SUBMITTED, 6)
    screen.sign_out()

    supervisor = Screen(browser, live_server.url)
    supervisor.sign_in(lead.username)
    supervisor.page.get_by_role("link", name="Freigaben", exact=True).click()
    supervisor.page.get_by_role("link", name="Verlängerungsantrag entscheiden").click()
    decide = supervisor.form("decide")
    decide.get_by_label("Genehmigen").check()
    supervisor.submit(decide)
    request.refresh_from_db()
    assert (request.status, request.decided_by_id) == (ExtensionStatus.APPROVED, lead.pk)
    supervisor.sign_out()
