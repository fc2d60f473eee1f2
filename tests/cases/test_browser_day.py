"""The manager's working day in a real browser (issue 20).

Like tests/cases/test_browser_journey.py (Debian's Chromium, Django's live
server, a tablet held upright): on an active case the manager records a
referral during the case, follows its reminder and records its outcome
in one step, records a network contact in the register, corrects a
consultation (before and after visible in the case's history and
chronology) and re-assesses the needs at the plan review.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.models import Assessment, CaseStatus, Consultation, NetworkContact, Referral
from notifications.services import reminders_run
from tests.accounts.factories import TeamFactory
from tests.cases.factories import ensure_catalogues, journey_to, manager_in
from tests.cases.test_browser_journey import Screen, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_managers_day_in_the_browser(browser: Any, live_server: Any) -> None:  # noqa: F811
    from workflows.tasks import fire_due_timers_task

    ensure_catalogues()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))
    case_page = f"/faelle/{case.pk}/"
    today = timezone.localdate()
    manager = Screen(browser, live_server.url)
    manager.sign_in(case.owner.username)

    # --- a referral during the case --------------------------------------------
    manager.go(case_page)
    manager.page.get_by_role("link", name="Verweisung erfassen").click()
    manager.assert_every_control_is_labelled()
    manager.assert_fits_the_screen()
    manager.page.get_by_label("Datum", exact=True).fill((today - timedelta(days=30)).isoformat())
    manager.page.get_by_label("Verwiesen an").select_option("jobcenter")
    manager.page.get_by_label("Organisation").fill("Jobcenter Biberach")
    manager.page.get_by_label("Wie", exact=True).select_option("ACCOMPANIED")
    manager.page.get_by_label("Thema").select_option("work")
    manager.shot("day-referral")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Verweisung speichern").click()
    referral = Referral.objects.get(case=case, is_final=False)
    assert referral.outcome == Referral.Outcome.PENDING
    assert "Jobcenter Biberach" in manager.page.locator("#chronik").inner_text()

    # --- its reminder, and the outcome in one step from it ----------------------
    reminders_run(now=timezone.now())  # what the beat does
    manager.go("/benachrichtigungen/")
    manager.page.get_by_role("link", name=re.compile("hat noch kein Ergebnis")).click()
    manager.page.get_by_label("wahrgenommen", exact=True).check()
    manager.shot("day-referral-outcome")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Ergebnis speichern").click()
    referral.refresh_from_db()
    assert (referral.outcome, referral.outcome_date) == (Referral.Outcome.TAKEN_UP, today)

    # --- a network contact ------------------------------------------------------
    manager.page.get_by_role("link", name="Netzwerkkontakte").click()
    manager.assert_every_control_is_labelled()
    manager.page.get_by_label("Mit wem").select_option("internal_authorities")
    manager.page.get_by_label("Organisation").fill("Ausländerbehörde Biberach")
    manager.page.get_by_label("Format").select_option("PHONE")
    manager.page.get_by_label("Thema").fill("Sprechzeiten für Geflüchtete")
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Netzwerkkontakt speichern").click()
    assert NetworkContact.objects.get(manager=case.owner).organisation == (
        "Ausländerbehörde Biberach"
    )
    assert "Sprechzeiten für Geflüchtete" in manager.page.content()
    manager.shot("day-network")

    # --- a consultation corrected, before and after in the history --------------
    consultation = Consultation.objects.get(case=case)
    manager.go(case_page)
    manager.page.locator(f"a[href$='/korrektur/beratung/{consultation.pk}/']").click()
    manager.assert_every_control_is_labelled()
    correction = manager.form("correct")
    correction.get_by_label("Minuten").fill("75")
    correction.get_by_label("Notizen").fill("Bewerbungsunterlagen gemeinsam geprüft")
    correction.get_by_label("Grund der Korrektur").fill("Dauer falsch eingegeben")
    manager.shot("day-correction")
    manager.submit(correction)
    consultation.refresh_from_db()
    assert consultation.duration_minutes == 75
    chronology = manager.page.locator("#chronik").inner_text()
    assert "Dauer falsch eingegeben" in chronology
    assert "vorher: 45 · nachher: 75" in chronology
    assert "Bewerbungsunterlagen gemeinsam geprüft" in chronology  # notes readable again
    timeline = manager.page.locator("#verlauf")
    assert "Beratung korrigiert." in timeline.inner_text()
    timeline.get_by_text("Was sich geändert hat").first.click()
    assert re.search(r"45\s*→\s*75", timeline.inner_text()), timeline.inner_text()
    manager.shot("day-history")

    # --- the plan review re-assesses the needs ------------------------------------
    fire_due_timers_task()  # the review is due (the beat fires the timer)
    manager.go(case_page)
    manager.page.get_by_role(
        "link", name=re.compile("Nächster Schritt: .*Integrationsplan")
    ).click()
    review = manager.form("review")
    review.locator("select[name=need_language]").select_option("LOW")
    review.locator("select[name=need_work]").select_option("HIGH")
    review.get_by_label("Notizen").fill("Kurs läuft gut")
    manager.shot("day-review")
    manager.submit(review)
    reassessment = Assessment.objects.get(case=case, plan_review__isnull=False)
    assert dict(reassessment.items.values_list("field_of_action__key", "need_level")) == {
        "language": "LOW",
        "work": "HIGH",
    }
    manager.go(case_page)
    needs = manager.page.locator("#bedarf").inner_text()
    assert "Bedarf gesunken" in needs
    manager.shot("day-needs")
    manager.sign_out()
