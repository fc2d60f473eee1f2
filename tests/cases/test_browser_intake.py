"""Intake without a handover in a real browser (issue 19).

A manager registers a family that walked into office hours; a second
walk-in is a person already known (spelled differently), the duplicate
warning appears and is answered; the household is edited (a move, a
newborn added); the second adult gets a case of their own from the
household view, which then shows both cases. Uses the browser fixture and
`Screen` of `tests/cases/test_browser_journey.py` (Debian's Chromium).
"""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from cases.models import Case, CaseStatus, HouseholdMembership, Person
from tests.cases.test_browser_journey import Screen, browser  # noqa: F401 - the fixture
from tests.handover.factories import world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_walk_in_family_is_registered_and_kept_current_in_the_browser(
    browser: Any,  # noqa: F811 - the fixture
    live_server: Any,
) -> None:
    w = world()
    manager = Screen(browser, live_server.url)
    manager.sign_in(w.manager.username)
    page = manager.page

    # --- a family walks into office hours ----------------------------------------
    page.get_by_role("link", name="Neue Aufnahme").click()
    page.get_by_label("Zugangsweg").select_option("SELF_REFERRAL")
    page.get_by_label("Gemeinde").select_option(str(w.gemeinde.pk))
    page.locator("input[name=address]").fill("Marktplatz 3")
    first = page.locator("#person-0")
    first.locator("input[name=p0-family_name]").fill("Karimi")
    first.locator("input[name=p0-given_names]").fill("Farid")
    first.locator("input[name=p0-date_of_birth]").fill("1985-06-01")
    second = page.locator("#person-1")
    second.locator("input[name=p1-family_name]").fill("Karimi")
    second.locator("input[name=p1-given_names]").fill("Zahra")
    second.locator("input[name=p1-date_of_birth]").fill("1988-02-11")
    second.locator("select[name=p1-relation]").select_option("SPOUSE")
    manager.assert_every_control_is_labelled()
    manager.assert_fits_the_screen()
    manager.shot("intake-new")
    with page.expect_navigation():
        page.get_by_role("button", name="Erfassen").click()
    case = Case.objects.get(person__given_names="Farid")
    assert case.intake_channel == Case.IntakeChannel.SELF_REFERRAL
    household_page = f"/faelle/haushalt/{case.household_id}/"
    assert page.url.endswith(household_page)

    # --- the same man comes again, spelled differently: a duplicate warning ------
    page.get_by_role("link", name="Neue Aufnahme").click()
    page.get_by_label("Zugangsweg").select_option("REFERRAL_OTHER_SERVICE")
    page.locator("input[name=p0-family_name]").fill("Karimy")
    page.locator("input[name=p0-given_names]").fill("Fareed")
    page.locator("input[name=p0-date_of_birth]").fill("1985-06-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Erfassen").click()
    assert page.get_by_role("heading", name="Möglicherweise bereits bekannt").is_visible()
    manager.shot("intake-duplicate-warning")
    cases = Case.objects.count()
    # It is the known person: linked, not created again (and their case is open).
    page.get_by_label("Ja: Karimi, Farid").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Erfassen").click()
    assert page.get_by_text(
        "Für die Person gibt es in diesem Programm bereits einen offenen Fall."
    ).is_visible()
    assert Case.objects.count() == cases
    assert Person.objects.filter(family_name__in=["Karimy"]).count() == 0

    # --- the household moves and a baby is born -----------------------------------
    manager.go(household_page)
    page.get_by_label("Adresse des Haushalts").fill("Lindenweg 7")
    with page.expect_navigation():
        page.get_by_role("button", name="Adresse speichern").click()
    assert page.get_by_role("heading", name="Haushalt · Lindenweg 7").is_visible()
    add = page.locator("form[action$='/mitglied/']")
    add.get_by_label("Familienname").fill("Karimi")
    add.get_by_label("Vornamen").fill("Lina")
    with page.expect_navigation():
        add.get_by_role("button", name="Mitglied hinzufügen").click()
    assert HouseholdMembership.objects.filter(
        household_id=case.household_id, person__given_names="Lina"
    ).exists()
    assert set(
        Person.objects.filter(households=case.household_id).values_list("address", flat=True)
    ) == {"Lindenweg 7"}

    # --- the second adult gets a case of their own -------------------------------
    zahra = Person.objects.get(given_names="Zahra")
    with page.expect_navigation():
        page.locator(f"#member-{zahra.pk}").get_by_role(
            "button", name="Eigenen Fall anlegen"
        ).click()
    own = Case.objects.get(person=zahra)
    assert own.status == CaseStatus.REGISTERED
    assert own.household_id == case.household_id
    assert page.url.endswith(f"/faelle/{own.pk}/")
    manager.go(household_page)
    manager.shot("household-two-cases")
    manager.assert_fits_the_screen()
    assert (
        page.locator(f"#member-{zahra.pk}").get_by_role("link", name=f"Fall #{own.pk}").is_visible()
    )
    assert page.locator("a", has_text=f"Fall #{case.pk}").count() == 1
    # Both cases' histories hold the move, field by field.
    for each in (case,):
        assert AuditEvent.objects.filter(
            case_id=each.pk, event_type="cases.household.updated"
        ).exists()
    manager.sign_out()
