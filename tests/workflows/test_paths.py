"""One path per branch of the case flow, driven through the web views.

Every path starts from a new case and moves it only through the task
screens (`/aufgaben/ablauf/...`) and the case actions
(`/aufgaben/fall/<pk>/aktion/<name>/`); only what the system does itself is
called directly: the period expiry (`case_transition(..., actor=None)`, as
the deadline sweep will) and the timer dispatcher (`fire_due_timers_task`).

After every step `expect` checks the case's status, its exact open work
(with the invariant table of flows.py) and the exact audit events the step
wrote, in chain order.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from audit.models import AuditEvent
from cases import services
from cases.models import (
    Case,
    CaseStatus,
    Consent,
    Consultation,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    IntegrationPlan,
    Referral,
)
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, manager_in, new_case, supervisor_of
from workflows import engine
from workflows.flows import extension_check_due, review_due
from workflows.invariants import open_work, open_work_problems
from workflows.models import CaseProcess
from workflows.tasks import fire_due_timers_task

pytestmark = pytest.mark.django_db

S = CaseStatus
ASSIGNED, COMPLETED, CANCELLED = (
    "workflows.task.assigned",
    "workflows.task.completed",
    "workflows.task.cancelled",
)
SYSTEM = object()  # `expect(..., actor=SYSTEM)`: every event of the step by the system


# --- helpers -------------------------------------------------------------------


def new_events(case: Case) -> list[AuditEvent]:
    """The audit events of `case` written since the last call, in chain order."""
    last = getattr(case, "_seen_seq", 0)
    rows = list(AuditEvent.objects.filter(case_id=case.pk, seq__gt=last).order_by("seq"))
    if rows:
        case._seen_seq = rows[-1].seq
    return rows


def expect(case: Case, status: str, work: list[str], events: list[tuple[str, str]], actor=None):
    """Check the case after one step: status, open work, the step's events.

    `actor`: None checks nothing; a user or SYSTEM checks every new event's actor.
    """
    case.refresh_from_db()
    rows = new_events(case)
    assert case.status == status
    assert open_work(case) == sorted(work)
    assert open_work_problems(case) == []
    assert [(row.event_type, row.reason) for row in rows] == events
    if actor is SYSTEM:
        assert {row.actor_id for row in rows} == {None}
    elif actor is not None:
        assert {row.actor_id for row in rows} == {actor.pk}


def unchanged(case: Case, status: str, work: list[str]) -> None:
    """A refused step: same status, same open work, no event."""
    expect(case, status, work, [])


def url_of(case: Case, name: str, kind: str = "execute") -> str:
    task = next(t for t in engine.open_tasks(case) if t.flow_task.name == name)
    return task.flow_task.reverse(kind, args=[task.process_id, task.pk])


def action_url(case: Case, name: str) -> str:
    return f"/aufgaben/fall/{case.pk}/aktion/{name}/"


def ok(response) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]


def login(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def fire_timers_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return fire_due_timers_task()


def the_goal(case: Case) -> Goal:
    """The one goal of the current plan version."""
    return Goal.objects.get(
        plan__case=case,
        plan__status__in=[IntegrationPlan.Status.DRAFT, IntegrationPlan.Status.AGREED],
    )


GOAL = {
    "action": "add_goal",
    "field_of_action": "language",
    "title": "Deutschkurs B1",
    "success_criterion": "Zertifikat B1",
    "target_date": "2026-12-01",
    "measure": "Anmeldung VHS",
    "responsible": "CLIENT",
}
AGREE = {"action": "agree", "agreement_form": "SIGNATURE", "agreement_language": "ar"}
CONSULTATION = {
    "held_on": "2026-01-05",
    "duration_minutes": "45",
    "consultation_form": "office",
    "topics": ["language", "work"],
}
EXTENSION = {
    "action": "request",
    "reason": "illiteracy",
    "months": "6",
    "justification": "Alphabetisierung läuft",
}


def start(manager) -> Case:
    case = new_case(owner=manager)
    expect(
        case,
        S.REGISTERED,
        ["accept_handover"],
        [("cases.case.created", "HANDOVER_FSA"), (ASSIGNED, "accept_handover")],
        actor=manager,
    )
    return case


def to_planning(web: Client, case: Case, manager) -> None:
    """Accept the handover, first consultation with consent, assessment."""
    ok(web.post(url_of(case, "accept_handover"), {"action": "accept"}))
    expect(
        case,
        S.REGISTERED,
        ["first_consultation"],
        [
            ("cases.case.handover_accepted", ""),
            (COMPLETED, "accept_handover"),
            (ASSIGNED, "first_consultation"),
        ],
        actor=manager,
    )
    ok(
        web.post(
            url_of(case, "first_consultation"),
            {
                "action": "consult",
                "consent_given": "on",
                "consent_form": "SIGNED_PAPER",
                "consent_language": "ar",
                **CONSULTATION,
                "eligibility_basis": "FOLLOW_UP_ACCOMMODATION",
                "benefit_status": "asylblg",
            },
        )
    )
    expect(
        case,
        S.INITIAL_COUNSELLING,
        ["extension_timer", "needs_assessment"],
        [
            ("cases.consent.recorded", "CASE_PROCESSING"),
            ("cases.consultation.recorded", "COMPLETED"),
            ("cases.case.record_first_consultation", "FOLLOW_UP_ACCOMMODATION"),
            (COMPLETED, "first_consultation"),
            (ASSIGNED, "needs_assessment"),
        ],
        actor=manager,
    )
    assert case.consultation_start == date(2026, 1, 5)
    assert case.regular_end == case.effective_end == date(2029, 1, 4)
    ok(
        web.post(
            url_of(case, "needs_assessment"),
            {"action": "assess", "assessed_on": "2026-01-05", "need_language": "HIGH"},
        )
    )
    expect(
        case,
        S.PLANNING,
        ["extension_timer", "integration_plan"],
        [
            ("cases.assessment.recorded", ""),
            ("cases.case.draft_plan", ""),
            (COMPLETED, "needs_assessment"),
            (ASSIGNED, "integration_plan"),
        ],
        actor=manager,
    )


def add_goal(web: Client, case: Case, manager) -> None:
    plan = url_of(case, "integration_plan")
    ok(web.post(plan, GOAL))
    expect(
        case,
        S.PLANNING,
        ["extension_timer", "integration_plan"],
        [("cases.goal.added", ""), ("cases.measure.added", "")],
        actor=manager,
    )
    assert "Deutschkurs B1" in web.get(plan).content.decode()


def to_active(web: Client, case: Case, manager, *, next_review_at: str = "") -> None:
    """From a new case to ACTIVE with an agreed plan of one goal."""
    to_planning(web, case, manager)
    add_goal(web, case, manager)
    agree = {**AGREE, "next_review_at": next_review_at} if next_review_at else AGREE
    ok(web.post(url_of(case, "integration_plan"), agree))
    expect(
        case,
        S.ACTIVE,
        ["extension_timer", "review_timer"],
        [("cases.case.agree_plan", "SIGNATURE"), (COMPLETED, "integration_plan")],
        actor=manager,
    )


def to_extension_request(manager) -> Case:
    """ACTIVE (review on 2028-12-01, after the extension check), extension
    timer fired, extension requested: the approval waits (at the check's
    moment)."""
    case = start(manager)
    web = login(manager)
    to_active(web, case, manager, next_review_at="2028-12-01")
    assert review_due(case) > extension_check_due(case) + timedelta(days=1)
    moment = extension_check_due(case) + timedelta(days=1)
    assert fire_timers_at(moment) == 1
    expect(
        case,
        S.ACTIVE,
        ["extension_check", "review_timer"],
        [(ASSIGNED, "extension_check")],
        actor=SYSTEM,
    )
    web.force_login(manager)  # two years later: the session has expired
    ok(web.post(url_of(case, "extension_check"), EXTENSION))
    expect(
        case,
        S.ACTIVE,
        ["approve_extension", "review_timer"],
        [("cases.extension_request.submitted", "illiteracy"), (COMPLETED, "extension_check")],
        actor=manager,
    )
    return case


def approval_link(boss: Client, case: Case) -> str:
    """The supervisor opens 'Freigaben' and follows the request's link."""
    page = boss.get("/aufgaben/freigaben/")
    assert page.status_code == 200
    links = re.findall(r'href="([^"]*/approve_extension/\d+/execute/)"', page.content.decode())
    assert links == [url_of(case, "approve_extension")]
    assert boss.get(links[0]).status_code == 200
    return links[0]


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def manager(team):
    return manager_in(team)


@pytest.fixture
def supervisor(team):
    return supervisor_of(team)


# --- the paths -------------------------------------------------------------------


def test_extension_approved(manager, supervisor):
    with time_machine.travel(T0, tick=False):
        case = to_extension_request(manager)
    with time_machine.travel(extension_check_due(case) + timedelta(days=1), tick=False):
        boss = login(supervisor)
        ok(boss.post(approval_link(boss, case), {"decision": "approve", "note": ""}))
        expect(
            case,
            S.ACTIVE,
            ["review_timer"],  # the extension branch has ended
            [
                (ASSIGNED, "approve_extension"),  # taken from the queue, then decided
                ("cases.extension_request.approved", "illiteracy"),
                (COMPLETED, "approve_extension"),
            ],
            actor=supervisor,
        )
        request = ExtensionRequest.objects.get(case=case)
        assert (request.status, request.decided_by) == (ExtensionStatus.APPROVED, supervisor)
        assert case.regular_end == date(2029, 1, 4)
        assert case.effective_end == request.resulting_effective_end == date(2029, 7, 4)
        assert "approve_extension" not in boss.get("/aufgaben/freigaben/").content.decode()
    # nothing brings the check back; the review timer fires as planned
    assert fire_timers_at(review_due(case) - timedelta(minutes=1)) == 0
    expect(case, S.ACTIVE, ["review_timer"], [])
    assert fire_timers_at(review_due(case) + timedelta(minutes=1)) == 1
    expect(case, S.ACTIVE, ["review_plan"], [(ASSIGNED, "review_plan")], actor=SYSTEM)


def test_extension_rejected(manager, supervisor):
    with time_machine.travel(T0, tick=False):
        case = to_extension_request(manager)
    with time_machine.travel(extension_check_due(case) + timedelta(days=1), tick=False):
        boss = login(supervisor)
        link = approval_link(boss, case)
        # rejecting without a note: the form refuses (400), nothing changes
        response = boss.post(link, {"decision": "reject", "note": "  "})
        assert response.status_code == 400
        # whatever locale/de says (the workflows screens have no German entries yet)
        with translation.override("de"):
            message = translation.gettext("Please give the reason for the rejection.")
        assert message in response.content.decode()
        unchanged(case, S.ACTIVE, ["approve_extension", "review_timer"])
        assert ExtensionRequest.objects.get(case=case).status == ExtensionStatus.SUBMITTED
        assert url_of(case, "approve_extension") == link  # still in the queue, untaken
        ok(boss.post(link, {"decision": "reject", "note": "Ziele nicht erreichbar"}))
        expect(
            case,
            S.ACTIVE,
            ["review_timer"],
            [
                (ASSIGNED, "approve_extension"),  # taken from the queue, then decided
                ("cases.extension_request.rejected", "illiteracy"),
                (COMPLETED, "approve_extension"),
            ],
            actor=supervisor,
        )
        request = ExtensionRequest.objects.get(case=case)
        assert (request.status, request.decision_note) == (
            ExtensionStatus.REJECTED,
            "Ziele nicht erreichbar",
        )
        assert case.effective_end == case.regular_end == date(2029, 1, 4)


def test_plan_declined(manager):
    with time_machine.travel(T0, tick=False):
        case = start(manager)
        web = login(manager)
        to_planning(web, case, manager)
        # agreeing a plan without goals: the service's guard (409), nothing changes
        response = web.post(url_of(case, "integration_plan"), AGREE)
        assert response.status_code == 409
        assert "Der Integrationsplan enthält noch keine Ziele." in response.content.decode()
        unchanged(case, S.PLANNING, ["extension_timer", "integration_plan"])
        assert IntegrationPlan.objects.get(case=case).status == IntegrationPlan.Status.DRAFT
        # declining needs a reason: the form refuses (400), nothing changes
        response = web.post(url_of(case, "integration_plan"), {"action": "decline"})
        assert response.status_code == 400
        unchanged(case, S.PLANNING, ["extension_timer", "integration_plan"])
        ok(
            web.post(
                url_of(case, "integration_plan"),
                {"action": "decline", "decline_reason": "Möchte nichts unterschreiben"},
            )
        )
        expect(
            case,
            S.ACTIVE,
            ["extension_timer"],  # no review on the main branch
            [("cases.case.decline_plan", "plan_declined"), (COMPLETED, "integration_plan")],
            actor=manager,
        )
        assert case.plan_declined is True
        assert case.plan_declined_reason == "Möchte nichts unterschreiben"
        assert case.next_review_at is None
        assert IntegrationPlan.objects.get(case=case).status == IntegrationPlan.Status.CLOSED
        # no review date to move for a declined plan
        assert "review_date" not in web.get(f"/aufgaben/fall/{case.pk}/").context["actions"]


def test_consent_withdrawn(manager):
    with time_machine.travel(T0, tick=False):
        case = start(manager)
        web = login(manager)
        to_active(web, case, manager)
    moment = review_due(case) + timedelta(minutes=1)
    assert fire_timers_at(moment) == 1
    expect(
        case,
        S.ACTIVE,
        ["extension_timer", "review_plan"],
        [(ASSIGNED, "review_plan")],
        actor=SYSTEM,
    )
    processes = CaseProcess.objects.filter(case=case).count()
    with time_machine.travel(moment, tick=False):
        web.force_login(manager)
        # without the confirmation: 400, nothing changes
        response = web.post(action_url(case, "withdraw_consent"), {})
        assert response.status_code == 400
        unchanged(case, S.ACTIVE, ["extension_timer", "review_plan"])
        ok(
            web.post(
                action_url(case, "withdraw_consent"),
                {"channel": "IN_PERSON", "confirm": "on", "confirmed": "1"},
            )
        )
        expect(
            case,
            S.CLOSED,
            [],
            [
                ("cases.case.withdraw_consent", "consent_withdrawn"),
                (CANCELLED, "review_plan"),  # the timer goes without an event
            ],
            actor=manager,
        )
    assert case.closure_reason.key == "consent_withdrawn"
    consent = Consent.objects.get(person_id=case.person_id)
    assert consent.withdrawn_at is not None
    assert IntegrationPlan.objects.get(case=case).status == IntegrationPlan.Status.CLOSED
    # the process was cancelled and none started for the closed case
    assert CaseProcess.objects.filter(case=case).count() == processes
    assert engine.open_process(case) is None


def test_period_expiry(manager):
    with time_machine.travel(T0, tick=False):
        case = start(manager)
        web = login(manager)
        to_active(web, case, manager)
    # the plan review: goal in progress, next review after the extension check
    moment = review_due(case) + timedelta(minutes=1)
    assert fire_timers_at(moment) == 1
    expect(
        case,
        S.ACTIVE,
        ["extension_timer", "review_plan"],
        [(ASSIGNED, "review_plan")],
        actor=SYSTEM,
    )
    with time_machine.travel(moment, tick=False):
        web.force_login(manager)
        goal = the_goal(case)
        ok(
            web.post(
                url_of(case, "review_plan"),
                {
                    "action": "review",
                    "reviewed_on": "2026-06-21",
                    "notes": "",
                    "next_review_at": "2028-12-20",
                    f"goal_{goal.pk}": "IN_PROGRESS",
                },
            )
        )
        expect(
            case,
            S.ACTIVE,
            ["extension_timer", "review_timer"],
            [("cases.case.review_plan", ""), (COMPLETED, "review_plan")],
            actor=manager,
        )
    assert the_goal(case).status == "IN_PROGRESS"
    # the extension check: no extension
    moment = extension_check_due(case) + timedelta(days=1)
    assert fire_timers_at(moment) == 1
    expect(
        case,
        S.ACTIVE,
        ["extension_check", "review_timer"],
        [(ASSIGNED, "extension_check")],
        actor=SYSTEM,
    )
    with time_machine.travel(moment, tick=False):
        web.force_login(manager)
        ok(web.post(url_of(case, "extension_check"), {"action": "none"}))
        expect(case, S.ACTIVE, ["review_timer"], [(COMPLETED, "extension_check")], actor=manager)
    # the review falls due shortly before the end of the period
    assert fire_timers_at(review_due(case) + timedelta(minutes=1)) == 1
    expect(case, S.ACTIVE, ["review_plan"], [(ASSIGNED, "review_plan")], actor=SYSTEM)
    # the deadline sweep, the day after the period's last day
    expired = datetime.combine(case.effective_end + timedelta(days=1), T0.timetz())
    with time_machine.travel(expired, tick=False):
        services.case_transition(case=case, name="period_expired", actor=None, now=expired)
        expect(
            case,
            S.CLOSING,
            ["final_referral"],
            [
                ("cases.case.period_expired", "period_expired"),
                (CANCELLED, "review_plan"),
                (ASSIGNED, "final_referral"),
            ],
            actor=SYSTEM,
        )
        assert engine.open_tasks(case)[0].owner == manager
        web.force_login(manager)
        goal = the_goal(case)
        ok(
            web.post(
                url_of(case, "final_referral"),
                {
                    "action": "close",
                    "confirmed": "1",
                    f"goal_{goal.pk}": "PARTIALLY_ACHIEVED",
                    "target_service": "mbe",
                    "mode": "APPOINTMENT_ARRANGED",
                    "organisation": "MBE Musterstadt",
                    "closure_reason": "period_expired",
                },
            )
        )
        expect(
            case,
            S.CLOSED,
            [],
            [
                ("cases.goal.updated", "PARTIALLY_ACHIEVED"),
                ("cases.referral.recorded", "mbe"),
                ("cases.case.close", "period_expired"),
                (COMPLETED, "final_referral"),
            ],
            actor=manager,
        )
        assert case.closure_reason.key == "period_expired"
        referral = Referral.objects.get(case=case)
        assert (referral.is_final, referral.target_service.key) == (True, "mbe")
        # closed after the period's end, the case cannot be reopened (T15): it
        # is restricted at once, so its manager no longer finds it and a
        # reopen records nothing
        consultations = Consultation.objects.filter(case=case).count()
        response = web.post(
            action_url(case, "reopen"),
            {**CONSULTATION, "held_on": expired.date().isoformat(), "reason": "CLIENT_RETURNED"},
        )
        assert response.status_code == 404
        assert web.get(f"/aufgaben/fall/{case.pk}/").status_code == 404
        unchanged(case, S.CLOSED, [])
        assert Consultation.objects.filter(case=case).count() == consultations


def test_reopen(manager):
    with time_machine.travel(T0, tick=False):
        case = start(manager)
        web = login(manager)
        to_active(web, case, manager)
        ok(
            web.post(
                action_url(case, "start_closing"), {"ground": "CLIENT_REQUEST", "confirmed": "1"}
            )
        )
        expect(
            case,
            S.CLOSING,
            ["final_referral"],
            [("cases.case.start_closing", "CLIENT_REQUEST"), (ASSIGNED, "final_referral")],
            actor=manager,
        )
        goal = the_goal(case)
        ok(
            web.post(
                url_of(case, "final_referral"),
                {
                    "action": "close",
                    "confirmed": "1",
                    f"goal_{goal.pk}": "ACHIEVED",
                    "closure_reason": "goals_achieved",
                    "no_further_need": "on",
                },
            )
        )
        expect(
            case,
            S.CLOSED,
            [],
            [
                ("cases.goal.updated", "ACHIEVED"),
                ("cases.case.close", "goals_achieved"),
                (COMPLETED, "final_referral"),
            ],
            actor=manager,
        )
        assert engine.open_process(case) is None
        closed_process = CaseProcess.objects.filter(case=case).latest("pk")
    # a week later the client comes back, well before the period ends
    later = T0 + timedelta(days=7)
    with time_machine.travel(later, tick=False):
        web.force_login(manager)
        page = web.get(f"/aufgaben/fall/{case.pk}/")
        assert "reopen" in page.context["actions"]
        ok(
            web.post(
                action_url(case, "reopen"),
                {**CONSULTATION, "held_on": "2026-01-12", "reason": "CLIENT_RETURNED"},
            )
        )
        expect(
            case,
            S.ACTIVE,
            ["extension_timer", "review_timer"],
            [
                ("cases.consultation.recorded", "COMPLETED"),
                ("cases.case.reopen", "CLIENT_RETURNED"),
            ],
            actor=manager,
        )
    assert (case.closure_reason, case.closed_at, case.closing_ground) == (None, None, "")
    process = engine.open_process(case)
    assert process is not None
    assert process.pk > closed_process.pk
    assert {t.process_id for t in engine.open_tasks(case)} == {process.pk}
    plan = IntegrationPlan.objects.get(case=case)
    assert plan.status == IntegrationPlan.Status.AGREED
    # the review timer of the new process fires as before
    assert fire_timers_at(review_due(case) + timedelta(minutes=1)) == 1
    expect(
        case,
        S.ACTIVE,
        ["extension_timer", "review_plan"],
        [(ASSIGNED, "review_plan")],
        actor=SYSTEM,
    )
