"""A manager leaves: the supervisor reassigns all their cases in the browser,
and the leaving manager sees none of them any more (Playwright, as in
tests/cases/test_browser_journey.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cases.models import Case, CaseStatus
from notifications.models import Notification
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    T0,
    PersonFactory,
    ensure_catalogues,
    journey_to,
    manager_in,
    supervisor_of,
)
from tests.cases.test_browser_journey import Screen, browser  # noqa: F401 - the fixture
from workflows.engine import open_tasks


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_supervisor_reassigns_all_cases_of_a_leaving_manager(
    browser: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
) -> None:
    from cases import services

    ensure_catalogues()
    team = TeamFactory()
    leaving = manager_in(team, first_name="Lena", last_name="Geht")
    successor = manager_in(team, first_name="Sami", last_name="Bleibt")
    lead = supervisor_of(team)
    cases = [
        journey_to(CaseStatus.PLANNING, owner=leaving),
        journey_to(CaseStatus.ACTIVE, owner=leaving),
        # Registered for the manager by the supervisor: the manager was notified.
        services.case_create(
            person=PersonFactory(traeger=team.traeger),
            owner=leaving,
            actor=lead,
            now=T0,
            intake_channel=Case.IntakeChannel.SELF_REFERRAL,
        ),
    ]
    assert Notification.objects.filter(recipient=leaving).exists()

    # --- the leaving manager still sees the cases ------------------------------
    before = Screen(browser, live_server.url)
    before.sign_in(leaving.username)
    before.go(f"/faelle/{cases[0].pk}/")
    assert before.page.get_by_role("heading", name="Integrationsplan").count() == 1
    before.sign_out()

    # --- the supervisor reassigns all of them ------------------------------------
    supervisor = Screen(browser, live_server.url)
    supervisor.sign_in(lead.username)
    supervisor.page.locator("summary", has_text="Team").click()  # the supervisor's team menu
    supervisor.page.get_by_role("link", name="Fallwechsel", exact=True).click()
    supervisor.page.get_by_role("link", name="Fälle einer Person neu zuweisen").click()
    supervisor.page.get_by_label("Wessen Fälle sollen neu zugewiesen werden?").select_option(
        str(leaving.pk)
    )
    with supervisor.page.expect_navigation():
        supervisor.page.get_by_role("button", name="Fälle anzeigen").click()
    for case in cases:
        assert supervisor.page.get_by_label(f"Fall #{case.pk}", exact=True).is_checked()
    supervisor.page.get_by_label("alle Fälle dieser Person").check()
    supervisor.page.get_by_label("Neue:r Integrationsmanager:in").select_option(str(successor.pk))
    assert supervisor.page.get_by_label("Grund der Übergabe").input_value() == "LEAVING"
    supervisor.assert_every_control_is_labelled()
    supervisor.assert_fits_the_screen()
    supervisor.shot("reassign-cases")
    with supervisor.page.expect_navigation():
        supervisor.page.get_by_role("button", name="Fälle neu zuweisen").click()
    assert supervisor.page.get_by_text("3 Fälle wurden an Sami Bleibt übergeben.").count() == 1
    supervisor.shot("reassigned")
    supervisor.sign_out()

    for case in cases:
        case.refresh_from_db()
        assert case.owner_id == successor.pk
    assert {t.owner_id for t in open_tasks(cases[0]) if t.flow_task_type == "HUMAN"} == {
        successor.pk
    }
    assert not Notification.objects.filter(recipient=leaving).exists()

    # --- the leaving manager sees none of them -----------------------------------
    after = Screen(browser, live_server.url)
    after.sign_in(leaving.username)
    after.go("/arbeitsplatz/faelle/")
    for case in cases:
        assert after.page.locator(f"a[href='/faelle/{case.pk}/']").count() == 0
    for case in cases:
        response = after.page.request.get(f"{live_server.url}/faelle/{case.pk}/")
        assert response.status == 404
    after.go("/benachrichtigungen/")
    after.shot("leaving-manager-notifications")
    after.sign_out()

    # --- the successor has them ----------------------------------------------------
    successor_screen = Screen(browser, live_server.url)
    successor_screen.sign_in(successor.username)
    successor_screen.go(f"/faelle/{cases[0].pk}/")
    assert successor_screen.page.get_by_role("heading", name="Integrationsplan").count() == 1
    successor_screen.sign_out()
