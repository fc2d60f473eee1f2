"""A case from the handover to its closure, in a real browser.

Playwright drives Debian's Chromium (`/usr/bin/chromium`; Playwright's own
browser download is not used) against Django's live server, at the size
of a tablet held upright: a manager signs in, accepts a handover, records
the first consultation, completes the needs assessment, agrees a plan with
two goals, records a consultation through the quick entry (by keyboard),
records an Art. 9 consent with its scan and requests a health-related
extension; a supervisor approves it (four eyes); the manager makes the
final referral and closes the case. Screenshots of the main pages land in
`var/artifacts/playwright/` (git-ignored).

`make test` installs Chromium when it is missing (scripts/ensure_chromium.sh).
Without it the test is skipped on a developer's machine and fails in CI.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from cases.models import (
    Case,
    CaseStatus,
    Consent,
    Consultation,
    ExtensionRequest,
    ExtensionStatus,
    Person,
)
from tests.cases.factories import ensure_catalogues
from tests.handover.factories import member, submitted
from tests.handover.factories import world as handover_world

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "playwright"
PASSWORD = "pw-test-123"  # tests.accounts.factories.UserFactory
TABLET = {"width": 820, "height": 1180}


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing browser is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(
            "Chromium is not installed at /usr/bin/chromium "
            "(make test installs it: scripts/ensure_chromium.sh)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is missing (requirements-dev.txt)")
    # Playwright's sync API keeps an event loop in this thread; the ORM
    # calls of the test itself are plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-dev-shm-usage", "--lang=de-DE"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # The ORM calls of the test ran in Playwright's greenlet, whose
            # context has database connections of its own: close them, or
            # the test database cannot be dropped at the end of the run.
            connections.close_all()


class Screen:
    """One browser tab of one user, with screenshots in order."""

    shots = 0

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport=TABLET, locale="de-DE")
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.base = base

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        Screen.shots += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{Screen.shots:02d}-{name}.png"), full_page=True)

    def sign_in(self, username: str) -> None:
        self.go("/accounts/login/")
        self.page.get_by_label("Benutzername").fill(username)
        self.page.get_by_label("Passwort").fill(PASSWORD)
        self.page.get_by_role("button", name="Anmelden").click()
        self.page.wait_for_url(re.compile(r".*/$"))

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Abmelden").click()
        self.context.close()

    def form(self, action: str) -> Any:
        return self.page.locator(f"form:has(input[name=action][value={action}])")

    def submit(self, form: Any) -> None:
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()

    def assert_fits_the_screen(self) -> None:
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{self.page.url} is {overflow}px wider than the tablet"

    def assert_every_control_is_labelled(self) -> None:
        unlabelled = self.page.evaluate(
            """() => [...document.querySelectorAll('main input, main select, main textarea')]
                 .filter(el => el.type !== 'hidden' && el.labels.length === 0)
                 .map(el => el.name)"""
        )
        assert unlabelled == [], unlabelled


def test_a_missing_browser_fails_in_ci_and_is_skipped_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        _unavailable("no chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        _unavailable("no chromium")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_case_from_handover_to_closure_in_the_browser(browser: Any, live_server: Any) -> None:
    from workflows.tasks import fire_due_timers_task

    ensure_catalogues()
    hw = handover_world()
    submitted(hw, members=[member(family_name="Haddad", given_names="Amal")])
    today = timezone.localdate()
    # The period must be near its end for the extension check to be due:
    # the first consultation took place almost three years ago.
    first_day = today.replace(year=today.year - 3) + timedelta(days=60)
    target_day = (today + timedelta(days=30)).isoformat()

    # --- the manager accepts the handover -------------------------------------
    manager = Screen(browser, live_server.url)
    manager.sign_in(hw.manager.username)
    manager.shot("start-manager")
    manager.go("/uebergaben/")
    manager.page.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    manager.shot("handover")
    accept = manager.page.locator("form[action$='/annehmen/']")
    accept.get_by_label("Integrationsmanager:in").select_option("")  # myself
    with manager.page.expect_navigation():
        accept.get_by_role("button", name="Annehmen und Fall registrieren").click()
    case = Case.objects.get(person__family_name="Haddad")
    case_page = f"/faelle/{case.pk}/"
    assert manager.page.url.endswith(case_page)
    # The period must be near its end, so the story began three years ago:
    # the handover and the arrival lie before the first consultation (the
    # forms refuse dates before them, cases.dates).
    began = timezone.make_aware(datetime.combine(first_day - timedelta(days=7), time(9)))
    Case.objects.filter(pk=case.pk).update(registered_at=began)
    Person.objects.filter(pk=case.person_id).update(au_allocation_date=began.date())

    # --- first consultation (from the case page's main action) -----------------
    manager.page.get_by_role("link", name="Nächster Schritt: Erstberatung").click()
    consult = manager.form("consult")
    consult.get_by_label("Die Person willigt in die Verarbeitung ihrer Falldaten ein").check()
    consult.get_by_label("Form der Einwilligung").select_option("SIGNED_PAPER")
    consult.get_by_label("Sprache des Aufklärungsgesprächs").fill("Arabisch")
    consult.get_by_label("Datum der Beratung").fill(first_day.isoformat())
    consult.get_by_label("Dauer (Minuten)").fill("60")
    consult.locator("select[name=consultation_form]").select_option("outreach")
    consult.get_by_label("Sprache / Sprachkurse / Integrationskurs").check()
    consult.locator("select[name=eligibility_basis]").select_option("FOLLOW_UP_ACCOMMODATION")
    consult.get_by_label("Leistungsbezug", exact=True).select_option("asylblg")
    manager.shot("first-consultation")
    manager.submit(consult)
    case.refresh_from_db()
    assert case.status == CaseStatus.INITIAL_COUNSELLING
    assert case.consultation_start == first_day

    # --- needs assessment -------------------------------------------------------
    manager.go(case_page)
    manager.page.get_by_role("link", name="Nächster Schritt: Bedarfsermittlung").click()
    assess = manager.form("assess")
    assess.locator("select[name=need_language]").select_option("HIGH")
    assess.locator("select[name=need_work]").select_option("MEDIUM")
    manager.shot("assessment")
    manager.submit(assess)

    # --- the plan with two goals, agreed ---------------------------------------
    manager.go(case_page)
    manager.page.get_by_role("link", name=re.compile("Nächster Schritt: Integrationsplan")).click()
    for field, title, criterion, step in (
        ("language", "Deutschkurs B1 abschließen", "B1-Zertifikat liegt vor", "Anmeldung VHS"),
        ("work", "Praktikum im Handwerk finden", "Praktikumsvertrag", "Bewerbung schreiben"),
    ):
        goal = manager.form("add_goal")
        goal.get_by_label("Handlungsfeld").select_option(field)
        goal.get_by_label("Ziel", exact=True).fill(title)
        goal.get_by_label("Erfolgskriterium").fill(criterion)
        goal.get_by_label("Zieldatum").fill(target_day)
        goal.get_by_label("Erster Schritt").fill(step)
        goal.get_by_label("Wer erledigt ihn").select_option("CLIENT")
        manager.submit(goal)
    agree = manager.form("agree")
    agree.get_by_label("Wie der Plan vereinbart wurde").select_option("SIGNATURE")
    agree.get_by_label("Sprache des Gesprächs").fill("Arabisch")
    manager.shot("plan")
    manager.submit(agree)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE

    # --- a consultation by quick entry, keyboard only ----------------------------
    manager.go(case_page)
    manager.shot("case-page-active")
    manager.assert_fits_the_screen()
    manager.page.get_by_role("link", name="Beratung erfassen").click()
    manager.assert_every_control_is_labelled()
    manager.assert_fits_the_screen()
    page = manager.page
    focused = page.evaluate("[document.activeElement.name, document.activeElement.checked]")
    assert focused == ["consultation_form", True]  # the most used form, ready
    before = Consultation.objects.filter(case=case).count()
    offered = page.locator("input[name=topics]").first.get_attribute("value")
    page.keyboard.press("ArrowRight")  # the next form
    page.keyboard.press("Tab")  # to the topics
    page.keyboard.press("Space")  # the first (most used) topic
    manager.shot("quick-entry")
    page.keyboard.press("Tab")  # past the remaining topics to the duration
    while page.evaluate("document.activeElement.name") == "topics":
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "duration_minutes"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "other_minutes"
    page.keyboard.type("20")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(case_page + "#beratungen")
    quick = Consultation.objects.filter(case=case).order_by("-pk").first()
    assert Consultation.objects.filter(case=case).count() == before + 1
    assert (quick.held_on, quick.duration_minutes, quick.form.key) == (today, 20, "office")
    assert [t.key for t in quick.topics.all()] == [offered]

    # --- the extension check is due: the manager requests an extension ---------
    fire_due_timers_task()  # what the beat does every minute
    manager.go(case_page)
    manager.page.get_by_role(
        "link", name=re.compile("Nächster Schritt: Prüfen, ob eine Verlängerung")
    ).click()
    # A health-related reason needs the Art. 9 consent: the step says so and
    # leads to the consent page, which returns to the step (issue 18).
    task_url = manager.page.url
    with manager.page.expect_navigation():
        manager.page.get_by_role("link", name="Zuerst die Art.-9-Einwilligung erfassen").click()
    record = manager.form("record")
    assert record.get_by_label("Wozu die Klient:in einwilligt").input_value() == (
        "SPECIAL_CATEGORIES_ART9"
    )
    record.get_by_label("Form der Einwilligung").select_option("SIGNED_PAPER")
    record.get_by_label("Sprache der Aufklärung").fill("Arabisch")
    manager.assert_every_control_is_labelled()
    manager.shot("consent-art9")
    manager.submit(record)
    assert manager.page.url == task_url
    art9 = Consent.objects.get(case=case, scope=Consent.Scope.SPECIAL_CATEGORIES_ART9)
    assert art9.legal_basis == Consent.LegalBasis.CONSENT_ART9_2A
    assert "Die Art.-9-Einwilligung liegt vor." in manager.page.content()
    # The signed form's scan goes with it (checked by content, stored as Art. 9).
    manager.go(f"{case_page}einwilligungen/")
    scan = ARTIFACTS / "einwilligung-art9.pdf"
    scan.write_bytes(b"%PDF-1.4\n% Einwilligung Art. 9\n%%EOF\n")
    evidence = manager.page.locator(f"form:has(input[name=consent][value='{art9.pk}'])")
    evidence.get_by_label("Scan der unterschriebenen Einwilligung").set_input_files(str(scan))
    manager.submit(evidence)
    art9.refresh_from_db()
    assert art9.evidence is not None
    assert art9.evidence.sensitivity == "ART9"
    manager.go(task_url.removeprefix(live_server.url))
    request = manager.form("request")
    request.get_by_label("Grund").select_option("chronic_illness")
    request.get_by_label("Monate").fill("12")
    request.get_by_label("Begründung").fill("Chronische Erkrankung, Therapie läuft bis zum Sommer.")
    manager.shot("extension-request")
    manager.submit(request)
    assert ExtensionRequest.objects.get(case=case).status == ExtensionStatus.SUBMITTED
    assert ExtensionRequest.objects.get(case=case).reason.key == "chronic_illness"
    manager.sign_out()

    # --- the supervisor approves it ----------------------------------------------
    supervisor = Screen(browser, live_server.url)
    supervisor.sign_in(hw.supervisor.username)
    supervisor.page.get_by_role("link", name="Freigaben", exact=True).click()
    supervisor.shot("approvals")
    supervisor.page.get_by_role("link", name="Verlängerungsantrag entscheiden").click()
    decide = supervisor.form("decide")
    decide.get_by_label("Genehmigen").check()
    supervisor.shot("approve-extension")
    supervisor.submit(decide)
    extension = ExtensionRequest.objects.get(case=case)
    assert (extension.status, extension.decided_by_id) == (
        ExtensionStatus.APPROVED,
        hw.supervisor.pk,
    )
    supervisor.go(case_page)  # the supervisor's view: metadata, no names
    assert "Haddad" not in supervisor.page.content()
    supervisor.sign_out()

    # --- the manager makes the final referral and closes the case --------------
    manager = Screen(browser, live_server.url)
    manager.sign_in(hw.manager.username)
    manager.go(case_page)
    assert manager.page.get_by_text("verlängert").count() >= 1
    manager.page.get_by_role("link", name="Fallablauf und weitere Schritte").click()
    closing = manager.page.locator("form[action$='/aktion/start_closing/']")
    closing.get_by_label("Warum der Fall abgeschlossen wird").select_option("CLIENT_REQUEST")
    with manager.page.expect_navigation():
        closing.locator("button[type=submit]").click()
    manager.shot("confirm-start-closing")  # an irreversible step asks first
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Ja, Abschluss beginnen").click()
    manager.go(case_page)
    manager.page.get_by_role("link", name=re.compile("Nächster Schritt: Abschließende")).click()
    close = manager.form("close")
    for select in close.locator("select[name^=goal_]").all():
        select.select_option("ACHIEVED")
    close.get_by_label("Grund des Fallabschlusses").select_option("goals_achieved")
    close.get_by_label("Abschließende Verweisung an").select_option("jobcenter")
    close.get_by_label("Wie", exact=True).select_option("APPOINTMENT_ARRANGED")
    manager.shot("final-referral")
    manager.submit(close)
    with manager.page.expect_navigation():
        manager.page.get_by_role("button", name="Ja, Fall abschließen").click()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.referrals.get(is_final=True).target_service.key == "jobcenter"
    manager.go(case_page)
    manager.shot("case-page-closed")
    pdf = manager.page.request.get(f"{live_server.url}{case_page}plan.pdf?sprache=de")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    manager.sign_out()


def test_a_new_case_after_the_persons_period_ends_with_the_final_referral_talk(
    browser: Any, live_server: Any
) -> None:
    """A person whose period is over (a start known from elsewhere more than
    three years back) comes again: the case page and the guided step say
    when the period ended and offer only the talk for the final referral,
    which records the talk and the referral and closes the case."""
    from cases import services
    from cases.models import PersonClockFact
    from tests.accounts.factories import TeamFactory
    from tests.cases.factories import PersonFactory, give_consent, manager_in

    ensure_catalogues()
    owner = manager_in(TeamFactory())
    now = timezone.now()
    today = timezone.localdate(now)
    case = services.case_create(
        person=PersonFactory(traeger=owner.traeger, family_name="Nouri"),
        owner=owner,
        actor=owner,
        now=now,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
    )
    give_consent(case, now=now)
    first_day = today.replace(year=today.year - 3) - timedelta(days=40)
    services.person_clock_fact_record(
        person=case.person,
        actor=owner,
        now=now,
        source=PersonClockFact.Source.MIGRATION,
        evidence="Altakte des Trägers, Az. 7/25",
        first_consultation_on=first_day,
    )
    ended = (first_day.replace(year=first_day.year + 3) - timedelta(days=1)).strftime("%d.%m.%Y")
    case_page = f"/faelle/{case.pk}/"

    manager = Screen(browser, live_server.url)
    manager.sign_in(owner.username)
    manager.go(case_page)
    assert manager.page.get_by_text(f"Der Beratungszeitraum der Person endete am {ended}.").count()
    manager.page.get_by_role("link", name="Nächster Schritt: Erstberatung").click()
    assert manager.page.get_by_role("heading", name="Gespräch zur Abschlussvermittlung").count()
    assert manager.form("consult").count() == 0
    talk = manager.form("final_talk")
    talk.get_by_label("Datum der Beratung").fill(today.isoformat())
    talk.get_by_label("Dauer (Minuten)").fill("30")
    talk.locator("select[name=consultation_form]").select_option("office")
    talk.locator("input[name=topics][value=work]").check()
    talk.locator("select[name=eligibility_basis]").select_option("FOLLOW_UP_ACCOMMODATION")
    talk.get_by_label("Leistungsbezug", exact=True).select_option("asylblg")
    talk.get_by_label("Abschließende Verweisung an").select_option("mbe")
    talk.get_by_label("Wie", exact=True).select_option("APPOINTMENT_ARRANGED")
    talk.get_by_label("Organisation").fill("MBE der Caritas")
    manager.assert_every_control_is_labelled()
    manager.assert_fits_the_screen()
    manager.shot("final-referral-talk")
    manager.submit(talk)
    with manager.page.expect_navigation():
        manager.page.get_by_role(
            "button", name="Ja, Gespräch erfassen und Fall abschließen"
        ).click()

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.closure_reason is not None
    assert case.closure_reason.key == "period_expired"
    assert Consultation.objects.get(case=case).final_referral
    assert case.referrals.get(is_final=True).target_service.key == "mbe"
    assert manager.page.get_by_text("Erledigt: Erstberatung.").count()
    manager.shot("after-final-referral-talk")
    # Closed after its period, the case went to the archive at once
    # (restricted: no longer on the manager's screens).
    manager.go(case_page)
    assert manager.page.get_by_role("heading", name="Seite nicht gefunden").count()
    manager.context.close()
