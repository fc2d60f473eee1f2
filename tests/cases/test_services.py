"""Every case transition and guard, through the service layer.

Each denial also shows that nothing happened: the case row, its audit
chain and its plans are exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.forms.models import model_to_dict

from accounts.models import Role
from audit.models import AuditEvent
from cases import services
from cases.models import (
    Case,
    CaseStatus,
    Consent,
    ExtensionRequest,
    IntegrationPlan,
)
from config.errors import ApplicationError
from tests.accounts.factories import DeputyGrantFactory, TeamFactory, UserFactory
from tests.cases.factories import (
    AGREEMENT,
    ELIGIBLE,
    T0,
    add_complete_goal,
    consult,
    finish_goals,
    give_consent,
    journey_to,
    manager_in,
    new_case,
    supervisor_of,
    to_initial_counselling,
    to_planning,
)

pytestmark = pytest.mark.django_db

S = CaseStatus


def snapshot(case: Case) -> dict[str, Any]:
    fresh = Case.objects.get(pk=case.pk)
    return {
        "case": model_to_dict(fresh),
        "events": list(
            AuditEvent.objects.filter(case_id=case.pk)
            .exclude(event_type__startswith="workflows.")
            .order_by("seq")
            .values_list("pk", flat=True)
        ),
        "plans": list(IntegrationPlan.objects.filter(case=case).order_by("pk").values()),
        "extensions": list(ExtensionRequest.objects.filter(case=case).order_by("pk").values()),
    }


def assert_refused(call: Callable[[], Any], case: Case, code: str, status: int) -> ApplicationError:
    before = snapshot(case)
    with pytest.raises(ApplicationError) as excinfo:
        call()
    assert excinfo.value.code == code
    assert excinfo.value.http_status == status
    assert snapshot(case) == before
    return excinfo.value


def fire(case: Case, name: str, *, actor: Any = "owner", now: Any = T0, **args: Any) -> Case:
    who = case.owner if actor == "owner" else actor
    return services.case_transition(case=case, name=name, actor=who, now=now, **args)


def last_event(case: Case) -> AuditEvent:
    return (
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("-seq")
        .first()
    )


def assert_one_event(case: Case, before: int, name: str, source: str, target: str) -> None:
    events = AuditEvent.objects.filter(case_id=case.pk).exclude(event_type__startswith="workflows.")
    assert events.count() == before + 1
    event = last_event(case)
    assert (event.event_type, event.transition, event.from_state, event.to_state) == (
        f"cases.case.{name}",
        name,
        source,
        target,
    )
    assert event.actor_id == (case.owner_id if event.actor_role != "SYSTEM" else None) or (
        event.actor_role in (Role.SUPERVISOR, Role.DATA_PROTECTION_OFFICER)
    )


def count_events(case: Case) -> int:
    return (
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .count()
    )


# --- T1 create -------------------------------------------------------------


def test_case_create_registers_case_with_created_event() -> None:
    case = new_case()

    assert case.status == S.REGISTERED
    assert case.registered_at == T0
    event = last_event(case)
    assert (event.event_type, event.to_state, event.actor_id) == (
        "cases.case.created",
        S.REGISTERED,
        case.owner_id,
    )


def test_case_create_refuses_second_open_case_for_same_person() -> None:
    case = new_case()

    with pytest.raises(services.GuardFailed) as excinfo:
        services.case_create(
            person=case.person,
            owner=case.owner,
            actor=case.owner,
            now=T0,
            intake_channel="SELF_REFERRAL",
        )

    assert excinfo.value.code == "open_case_exists"
    assert Case.objects.filter(person=case.person).count() == 1


def test_case_create_by_manager_of_other_team_is_forbidden() -> None:
    owner = manager_in(TeamFactory())
    stranger = manager_in(TeamFactory())
    from tests.cases.factories import PersonFactory

    person = PersonFactory(traeger=owner.traeger)
    with pytest.raises(services.TransitionForbidden):
        services.case_create(
            person=person, owner=owner, actor=stranger, now=T0, intake_channel="SELF_REFERRAL"
        )
    assert Case.objects.filter(person=person).count() == 0


# --- T2 record_first_consultation -----------------------------------------


def test_record_first_consultation_starts_the_clock() -> None:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0, held_on=date(2026, 1, 5))
    before = count_events(case)

    case = fire(case, "record_first_consultation", consultation_id=first.pk, **ELIGIBLE)

    assert case.status == S.INITIAL_COUNSELLING
    assert case.consultation_start == date(2026, 1, 5)
    assert case.regular_end == date(2029, 1, 4)
    assert case.effective_end == date(2029, 1, 4)
    assert case.eligibility_basis == "FOLLOW_UP_ACCOMMODATION"
    assert_one_event(case, before, "record_first_consultation", S.REGISTERED, S.INITIAL_COUNSELLING)


def test_record_first_consultation_keeps_an_earlier_start_from_another_gemeinde() -> None:
    case = new_case()
    case.person.prior_consultation_start = date(2025, 6, 1)
    case.person.save()
    give_consent(case)
    first = consult(case, now=T0)

    case = fire(case, "record_first_consultation", consultation_id=first.pk, **ELIGIBLE)

    assert case.consultation_start == date(2025, 6, 1)
    assert case.regular_end == date(2028, 5, 31)


def test_record_first_consultation_needs_consent() -> None:
    case = new_case()
    # Before any consent no consultation with content can be recorded.
    assert_refused(lambda: consult(case, now=T0), case, "consent_missing", 409)
    # A consent that lapsed before the step is taken does not do either.
    services.consent_record(
        case=case,
        actor=case.owner,
        now=T0,
        scope=Consent.Scope.CASE_PROCESSING,
        form=Consent.Form.SIGNED_PAPER,
        language="ar",
        valid_until=T0 + timedelta(hours=1),
    )
    first = consult(case, now=T0)
    later = T0 + timedelta(hours=2)

    assert_refused(
        lambda: fire(
            case, "record_first_consultation", now=later, consultation_id=first.pk, **ELIGIBLE
        ),
        case,
        "consent_missing",
        409,
    )


def test_record_first_consultation_in_anonymous_mode_needs_no_consent() -> None:
    case = new_case(anonymous_mode=True)
    first = consult(case, now=T0)

    case = fire(case, "record_first_consultation", consultation_id=first.pk, **ELIGIBLE)

    assert case.status == S.INITIAL_COUNSELLING


@pytest.mark.parametrize(
    "facts",
    [
        {"eligibility_basis": "NONE", "benefit_status": "asylblg"},
        {"eligibility_basis": "UKRAINE", "benefit_status": "none"},
        {
            "eligibility_basis": "FOLLOW_UP_ACCOMMODATION",
            "benefit_status": "sgb2",
            "obliged_to_leave": True,
        },
    ],
    ids=["no-target-group", "no-qualifying-benefit", "obliged-to-leave"],
)
def test_record_first_consultation_refuses_ineligible_person(facts: dict[str, Any]) -> None:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0)

    assert_refused(
        lambda: fire(case, "record_first_consultation", consultation_id=first.pk, **facts),
        case,
        "not_eligible",
        409,
    )


def test_record_first_consultation_needs_a_completed_consultation() -> None:
    case = new_case()
    give_consent(case)
    missed = services.consultation_record(
        case=case,
        actor=case.owner,
        now=T0,
        held_on=T0.date(),
        duration_minutes=10,
        form="office",
        topics=["language"],
        status="NO_SHOW",
    )

    assert_refused(
        lambda: fire(case, "record_first_consultation", consultation_id=missed.pk, **ELIGIBLE),
        case,
        "consultation_missing",
        409,
    )


def test_record_first_consultation_with_unknown_benefit_is_invalid_input() -> None:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0)

    error = assert_refused(
        lambda: fire(
            case,
            "record_first_consultation",
            consultation_id=first.pk,
            eligibility_basis="UKRAINE",
            benefit_status="lottery",
        ),
        case,
        "invalid",
        400,
    )
    assert list(error.fields) == ["benefit_status"]


def test_record_first_consultation_by_deputy_within_grant() -> None:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0)
    deputy = manager_in(case.owner.team)
    DeputyGrantFactory(
        principal=case.owner,
        deputy=deputy,
        valid_from=T0 - timedelta(days=1),
        valid_until=T0 + timedelta(days=1),
    )

    case = fire(
        case, "record_first_consultation", actor=deputy, consultation_id=first.pk, **ELIGIBLE
    )

    assert case.status == S.INITIAL_COUNSELLING
    assert last_event(case).actor_id == deputy.pk


def test_deputy_after_grant_expiry_gets_not_found() -> None:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0)
    deputy = manager_in(case.owner.team)
    DeputyGrantFactory(
        principal=case.owner, deputy=deputy, valid_from=T0 - timedelta(days=2), valid_until=T0
    )

    assert_refused(
        lambda: fire(
            case, "record_first_consultation", actor=deputy, consultation_id=first.pk, **ELIGIBLE
        ),
        case,
        "not_found",
        404,
    )


def test_supervisor_may_not_record_first_consultation() -> None:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0)
    lead = supervisor_of(case.owner.team)

    assert_refused(
        lambda: fire(
            case, "record_first_consultation", actor=lead, consultation_id=first.pk, **ELIGIBLE
        ),
        case,
        "forbidden",
        403,
    )


def test_manager_of_another_team_gets_not_found() -> None:
    case = new_case()
    other = manager_in(TeamFactory())

    assert_refused(
        lambda: fire(case, "reject_ineligible", actor=other, reason="NOT_TARGET_GROUP"),
        case,
        "not_found",
        404,
    )


def test_auditor_cannot_fire_anything() -> None:
    case = new_case()
    auditor = UserFactory(role=Role.AUDITOR, team=None, traeger=case.traeger)

    assert_refused(
        lambda: fire(case, "reject_ineligible", actor=auditor, reason="NOT_TARGET_GROUP"),
        case,
        "forbidden",
        403,
    )


# --- T3 reject_ineligible / T4 no_show_timeout -----------------------------


def test_reject_ineligible_by_supervisor_records_reason() -> None:
    case = new_case()
    lead = supervisor_of(case.owner.team)
    before = count_events(case)

    case = fire(case, "reject_ineligible", actor=lead, reason="OBLIGED_TO_LEAVE")

    assert case.status == S.REJECTED
    assert case.rejection_reason == "OBLIGED_TO_LEAVE"
    event = last_event(case)
    assert count_events(case) == before + 1
    assert (event.transition, event.reason, event.actor_id) == (
        "reject_ineligible",
        "OBLIGED_TO_LEAVE",
        lead.pk,
    )


def test_reject_ineligible_needs_a_valid_reason() -> None:
    case = new_case()

    assert_refused(lambda: fire(case, "reject_ineligible", reason="NO_SHOW"), case, "invalid", 400)


def test_reject_ineligible_after_first_consultation_is_not_available() -> None:
    case = journey_to(S.INITIAL_COUNSELLING)

    assert_refused(
        lambda: fire(case, "reject_ineligible", reason="NOT_TARGET_GROUP"),
        case,
        "transition_not_allowed",
        409,
    )


def test_no_show_timeout_rejects_after_the_deadline() -> None:
    case = new_case()
    before = count_events(case)

    case = fire(case, "no_show_timeout", actor=None, now=T0 + timedelta(days=90))

    assert case.status == S.REJECTED
    assert case.rejection_reason == "NO_SHOW"
    event = last_event(case)
    assert count_events(case) == before + 1
    assert (event.actor_id, event.actor_role) == (None, "SYSTEM")


def test_no_show_timeout_waits_for_the_deadline() -> None:
    case = new_case()

    assert_refused(
        lambda: fire(case, "no_show_timeout", actor=None, now=T0 + timedelta(days=89)),
        case,
        "no_show_deadline_not_reached",
        409,
    )


@pytest.mark.parametrize("name", services.SYSTEM_TRANSITIONS)
def test_system_transitions_are_refused_for_users(name: str) -> None:
    case = new_case()

    assert_refused(lambda: fire(case, name), case, "system_only", 403)


# --- T5 draft_plan / T6 agree_plan / T6a decline_plan ----------------------


def test_draft_plan_creates_plan_version_one() -> None:
    case = journey_to(S.INITIAL_COUNSELLING)
    services.assessment_record(
        case=case,
        actor=case.owner,
        now=T0,
        assessed_on=T0.date(),
        items=[{"field_of_action": "work", "need_level": "MEDIUM"}],
    )
    before = count_events(case)

    case = fire(case, "draft_plan")

    assert case.status == S.PLANNING
    plan = case.plans.get()
    assert (plan.version, plan.status) == (1, "DRAFT")
    assert_one_event(case, before, "draft_plan", S.INITIAL_COUNSELLING, S.PLANNING)


def test_draft_plan_needs_an_assessment() -> None:
    case = journey_to(S.INITIAL_COUNSELLING)

    assert_refused(lambda: fire(case, "draft_plan"), case, "assessment_missing", 409)


def test_agree_plan_activates_case_and_plan() -> None:
    case = journey_to(S.PLANNING)
    goal = add_complete_goal(case, T0)
    before = count_events(case)

    case = fire(case, "agree_plan", next_review_at="2026-07-01", **AGREEMENT)

    assert case.status == S.ACTIVE
    assert case.next_review_at == date(2026, 7, 1)
    plan = case.plans.get()
    assert (plan.status, plan.agreed_at, plan.agreement_form) == ("AGREED", T0, "SIGNATURE")
    goal.refresh_from_db()
    assert (goal.status, goal.agreed_at) == ("AGREED", T0)
    assert_one_event(case, before, "agree_plan", S.PLANNING, S.ACTIVE)


def test_agree_plan_defaults_review_to_six_months() -> None:
    case = journey_to(S.PLANNING)
    add_complete_goal(case, T0)

    case = fire(case, "agree_plan", **AGREEMENT)

    assert case.next_review_at == date(2026, 7, 5)


def test_agree_plan_refuses_plan_without_goals() -> None:
    case = journey_to(S.PLANNING)

    error = assert_refused(
        lambda: fire(case, "agree_plan", **AGREEMENT), case, "plan_has_no_goals", 409
    )
    assert isinstance(error, services.PlanHasNoGoals)


def test_agree_plan_refuses_plan_without_measures() -> None:
    case = journey_to(S.PLANNING)
    services.goal_add(
        case=case,
        actor=case.owner,
        now=T0,
        field_of_action="work",
        title="Arbeitsstelle finden",
        success_criterion="Arbeitsvertrag",
        target_date=date(2026, 12, 1),
    )

    assert_refused(lambda: fire(case, "agree_plan", **AGREEMENT), case, "plan_has_no_measures", 409)


def test_agree_plan_needs_documented_agreement() -> None:
    case = journey_to(S.PLANNING)
    add_complete_goal(case, T0)

    error = assert_refused(
        lambda: fire(case, "agree_plan", agreement_form="SIGNATURE"), case, "invalid", 400
    )
    assert list(error.fields) == ["agreement_language"]


def test_goal_beyond_period_end_is_refused() -> None:
    case = journey_to(S.PLANNING)

    with pytest.raises(services.GuardFailed) as excinfo:
        services.goal_add(
            case=case,
            actor=case.owner,
            now=T0,
            field_of_action="work",
            title="Meisterbrief",
            success_criterion="Urkunde",
            target_date=date(2030, 1, 1),
        )
    assert excinfo.value.code == "goal_after_period_end"


def test_decline_plan_keeps_counselling_without_plan() -> None:
    case = journey_to(S.PLANNING)
    before = count_events(case)

    case = fire(case, "decline_plan", reason="Möchte keinen schriftlichen Plan")

    assert case.status == S.ACTIVE
    assert case.plan_declined is True
    assert case.plans.get().status == "CLOSED"
    assert_one_event(case, before, "decline_plan", S.PLANNING, S.ACTIVE)


def test_decline_plan_by_deputy_is_forbidden() -> None:
    case = journey_to(S.PLANNING)
    deputy = manager_in(case.owner.team)
    DeputyGrantFactory(
        principal=case.owner,
        deputy=deputy,
        valid_from=T0 - timedelta(days=1),
        valid_until=T0 + timedelta(days=1),
    )

    assert_refused(
        lambda: fire(case, "decline_plan", actor=deputy, reason="x"), case, "forbidden", 403
    )


# --- T7 review_plan ----------------------------------------------------------


def test_review_plan_creates_a_new_version_with_goal_updates() -> None:
    case = journey_to(S.ACTIVE)
    old_plan = case.plans.get()
    goal = old_plan.goals.get()
    later = T0 + timedelta(days=180)
    before = count_events(case)

    case = fire(
        case,
        "review_plan",
        now=later,
        next_review_at="2027-01-01",
        goal_updates=[{"goal_id": goal.pk, "status": "IN_PROGRESS"}],
    )

    assert case.status == S.ACTIVE
    assert case.next_review_at == date(2027, 1, 1)
    old_plan.refresh_from_db()
    new_plan = case.plans.get(status="AGREED")
    assert (old_plan.status, new_plan.version) == ("SUPERSEDED", 2)
    copied = new_plan.goals.get()
    assert (copied.origin_id, copied.status) == (goal.pk, "IN_PROGRESS")
    assert copied.measures.count() == 1
    assert new_plan.review.reviewed_on == later.date()
    assert_one_event(case, before, "review_plan", S.ACTIVE, S.ACTIVE)


def test_review_plan_without_agreed_plan_is_refused() -> None:
    case = journey_to(S.PLANNING)
    case = fire(case, "decline_plan", reason="kein Plan gewünscht")

    assert_refused(lambda: fire(case, "review_plan"), case, "no_agreed_plan", 409)


def test_review_plan_rejects_goal_of_another_case() -> None:
    case = journey_to(S.ACTIVE)
    foreign = journey_to(S.ACTIVE, owner=case.owner).plans.get().goals.get()

    assert_refused(
        lambda: fire(
            case, "review_plan", goal_updates=[{"goal_id": foreign.pk, "status": "DROPPED"}]
        ),
        case,
        "invalid",
        400,
    )


# --- T8 pause / T9 resume ---------------------------------------------------


def test_pause_and_resume_after_a_consultation() -> None:
    case = journey_to(S.ACTIVE)
    case = fire(case, "pause", reason="HOSPITAL_STAY")
    assert (case.status, case.paused_at) == (S.DORMANT, T0)
    later = T0 + timedelta(days=20)
    consult(case, now=later)
    before = count_events(case)

    case = fire(case, "resume", now=later)

    assert (case.status, case.paused_at) == (S.ACTIVE, None)
    assert_one_event(case, before, "resume", S.DORMANT, S.ACTIVE)


def test_pause_needs_a_reason() -> None:
    case = journey_to(S.ACTIVE)

    assert_refused(lambda: fire(case, "pause"), case, "invalid", 400)


def test_resume_needs_a_consultation_after_the_pause() -> None:
    case = journey_to(S.DORMANT)
    consult(case, now=T0, held_on=T0.date() - timedelta(days=1))

    assert_refused(
        lambda: fire(case, "resume", now=T0 + timedelta(days=3)), case, "consultation_missing", 409
    )


# --- T10 start_closing / T11 period_expired / T12 no_contact_timeout --------


@pytest.mark.parametrize("ground", ["CLIENT_REQUEST", "MOVED_AWAY", "TRANSFER"])
def test_start_closing_on_client_grounds(ground: str) -> None:
    case = journey_to(S.DORMANT)
    before = count_events(case)

    case = fire(case, "start_closing", ground=ground)

    assert (case.status, case.closing_ground) == (S.CLOSING, ground)
    assert_one_event(case, before, "start_closing", S.DORMANT, S.CLOSING)


def test_start_closing_for_goals_needs_every_goal_final() -> None:
    case = journey_to(S.ACTIVE)

    assert_refused(
        lambda: fire(case, "start_closing", ground="ALL_GOALS_FINAL"), case, "goals_not_final", 409
    )


def test_start_closing_for_goals_needs_goals() -> None:
    case = journey_to(S.PLANNING)
    case = fire(case, "decline_plan", reason="kein Plan")

    assert_refused(
        lambda: fire(case, "start_closing", ground="ALL_GOALS_FINAL"),
        case,
        "plan_has_no_goals",
        409,
    )


@pytest.mark.parametrize("state", [S.INITIAL_COUNSELLING, S.PLANNING, S.ACTIVE, S.DORMANT])
def test_period_expired_moves_every_running_case_to_closing(state: str) -> None:
    case = journey_to(state)
    day_after = case.effective_end + timedelta(days=1)
    now = T0.replace(year=day_after.year, month=day_after.month, day=day_after.day)
    before = count_events(case)

    case = fire(case, "period_expired", actor=None, now=now)

    assert (case.status, case.closing_ground) == (S.CLOSING, "PERIOD_EXPIRED")
    assert_one_event(case, before, "period_expired", state, S.CLOSING)


def test_period_expired_waits_for_the_last_day() -> None:
    case = journey_to(S.ACTIVE)
    end = case.effective_end
    now = T0.replace(year=end.year, month=end.month, day=end.day)

    assert_refused(
        lambda: fire(case, "period_expired", actor=None, now=now), case, "period_not_expired", 409
    )


def test_no_contact_timeout_after_six_months_without_consultation() -> None:
    case = journey_to(S.DORMANT)
    before = count_events(case)

    case = fire(case, "no_contact_timeout", actor=None, now=T0 + timedelta(days=190))

    assert (case.status, case.closing_ground) == (S.CLOSING, "NO_CONTACT")
    assert_one_event(case, before, "no_contact_timeout", S.DORMANT, S.CLOSING)


def test_no_contact_timeout_counts_from_the_last_consultation() -> None:
    case = journey_to(S.DORMANT)
    consult(case, now=T0 + timedelta(days=100))

    assert_refused(
        lambda: fire(case, "no_contact_timeout", actor=None, now=T0 + timedelta(days=190)),
        case,
        "contact_within_deadline",
        409,
    )


# --- T13 close ---------------------------------------------------------------


def test_close_with_final_referral() -> None:
    case = journey_to(S.CLOSING)
    services.referral_record(
        case=case,
        actor=case.owner,
        now=T0,
        referred_on=T0.date(),
        target_service="jobcenter",
        mode="APPOINTMENT_ARRANGED",
        is_final=True,
        outcome="TAKEN_UP",
    )
    before = count_events(case)

    case = fire(case, "close", closure_reason="goals_achieved")

    assert case.status == S.CLOSED
    assert (case.closure_reason.key, case.closed_at) == ("goals_achieved", T0)
    assert case.plans.get().status == "CLOSED"
    assert_one_event(case, before, "close", S.CLOSING, S.CLOSED)
    assert last_event(case).reason == "goals_achieved"


def test_close_with_no_further_need_statement() -> None:
    case = journey_to(S.CLOSING)

    case = fire(case, "close", closure_reason="period_expired", no_further_need=True)

    assert (case.status, case.no_further_need) == (S.CLOSED, True)


def test_close_by_supervisor() -> None:
    case = journey_to(S.CLOSING)
    lead = supervisor_of(case.owner.team)
    # A move away hands data on: only with the transfer consent (issue 18).
    give_consent(case, scope=Consent.Scope.HANDOVER_OUT)

    case = fire(case, "close", actor=lead, closure_reason="moved_away")

    assert case.status == S.CLOSED
    assert last_event(case).actor_id == lead.pk


@pytest.mark.parametrize("reason", ["goals_achieved", "period_expired", "transferred"])
def test_close_without_final_referral_is_refused(reason: str) -> None:
    case = journey_to(S.CLOSING)

    assert_refused(
        lambda: fire(case, "close", closure_reason=reason), case, "final_referral_missing", 409
    )


def test_close_with_open_referral_is_refused() -> None:
    case = journey_to(S.CLOSING)
    services.referral_record(
        case=case,
        actor=case.owner,
        now=T0,
        referred_on=T0.date(),
        target_service="mbe",
        mode="INFORMATION_ONLY",
        is_final=True,
    )

    assert_refused(
        lambda: fire(case, "close", closure_reason="goals_achieved"), case, "referrals_open", 409
    )


def test_close_with_open_goal_is_refused() -> None:
    case = journey_to(S.DORMANT)
    case = fire(case, "start_closing", ground="CLIENT_REQUEST")

    assert_refused(
        lambda: fire(case, "close", closure_reason="client_ended"), case, "goals_not_final", 409
    )


def test_close_with_unknown_reason_is_invalid() -> None:
    case = journey_to(S.CLOSING)

    assert_refused(lambda: fire(case, "close", closure_reason="bored"), case, "invalid", 400)


# --- T14 withdraw_consent ----------------------------------------------------


@pytest.mark.parametrize("state", [S.REGISTERED, S.ACTIVE, S.CLOSING])
def test_withdraw_consent_closes_any_open_case(state: str) -> None:
    case = journey_to(state)
    if state == S.REGISTERED:
        give_consent(case)
    before = count_events(case)

    case = fire(case, "withdraw_consent", now=T0 + timedelta(days=1), channel="WRITTEN")

    assert (case.status, case.closure_reason.key) == (S.CLOSED, "consent_withdrawn")
    assert not Consent.objects.filter(
        person=case.person, scope="CASE_PROCESSING", withdrawn_at__isnull=True
    ).exists()
    assert_one_event(case, before, "withdraw_consent", state, S.CLOSED)


def test_withdraw_consent_by_data_protection_officer() -> None:
    case = journey_to(S.ACTIVE)
    dpo = UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=case.traeger)

    case = fire(case, "withdraw_consent", actor=dpo, channel="EMAIL")

    assert case.status == S.CLOSED


def test_withdraw_consent_on_closed_case_is_not_available() -> None:
    case = journey_to(S.CLOSED)

    assert_refused(
        lambda: fire(case, "withdraw_consent", channel="PHONE"), case, "transition_not_allowed", 409
    )


# --- T15 reopen ----------------------------------------------------------------


def test_reopen_within_period_after_new_consultation() -> None:
    case = journey_to(S.CLOSED)
    later = T0 + timedelta(days=30)
    consult(case, now=later)
    before = count_events(case)

    case = fire(case, "reopen", now=later, reason="CLIENT_RETURNED")

    assert (case.status, case.closed_at, case.closure_reason) == (S.ACTIVE, None, None)
    assert case.consultation_start == T0.date()  # the clock does not restart
    assert case.plans.get().status == "AGREED"
    assert_one_event(case, before, "reopen", S.CLOSED, S.ACTIVE)


def test_reopen_needs_a_new_consultation() -> None:
    case = journey_to(S.CLOSED)

    assert_refused(
        lambda: fire(case, "reopen", now=T0 + timedelta(days=30), reason="CLIENT_RETURNED"),
        case,
        "consultation_missing",
        409,
    )


def test_reopen_on_the_last_day_of_the_period() -> None:
    case = journey_to(S.CLOSED)
    end = case.effective_end
    now = T0.replace(year=end.year, month=end.month, day=end.day)
    consult(case, now=now)

    case = fire(case, "reopen", now=now, reason="CLIENT_RETURNED")

    assert case.status == S.ACTIVE


def test_reopen_after_period_end_is_refused_as_the_case_is_restricted() -> None:
    """The day after the period's end a closed case is in the archive: its
    manager and supervisor no longer find it (404), nothing is recorded."""
    case = journey_to(S.CLOSED)
    end = case.effective_end + timedelta(days=1)
    now = T0.replace(year=end.year, month=end.month, day=end.day)
    lead = supervisor_of(case.owner.team)

    assert_refused(lambda: consult(case, now=now), case, "not_found", 404)
    for who in ("owner", lead):
        assert_refused(
            lambda who=who: fire(case, "reopen", actor=who, now=now, reason="CLIENT_RETURNED"),
            case,
            "not_found",
            404,
        )


def test_reopen_after_consent_withdrawal_needs_new_consent() -> None:
    case = journey_to(S.ACTIVE)
    case = fire(case, "withdraw_consent", channel="IN_PERSON")
    later = T0 + timedelta(days=10)

    def talk() -> Any:
        return services.consultation_record(
            case=case,
            actor=case.owner,
            now=later,
            held_on=later.date(),
            duration_minutes=20,
            form="phone",
            topics=["other"],
        )

    # Without consent neither the talk nor the reopening can be recorded.
    assert_refused(talk, case, "consent_missing", 409)
    assert_refused(
        lambda: fire(case, "reopen", now=later, reason="CLIENT_RETURNED"),
        case,
        "consent_missing",
        409,
    )

    give_consent(case, now=later)
    talk()
    case = fire(case, "reopen", now=later, reason="CLIENT_RETURNED")
    assert case.status == S.ACTIVE


def test_reopen_after_death_is_refused_as_the_case_is_restricted_at_once() -> None:
    case = journey_to(S.CLOSING)
    case = fire(case, "close", closure_reason="deceased")
    later = T0 + timedelta(days=1)

    assert_refused(lambda: consult(case, now=later), case, "not_found", 404)
    assert_refused(
        lambda: fire(case, "reopen", now=later, reason="CLOSED_IN_ERROR"), case, "not_found", 404
    )


def test_reopen_guard_refuses_a_case_closed_on_death() -> None:
    """The guard of T15 stays, below the restriction: a deceased person's
    case is never reopened, whoever could reach it."""
    case = journey_to(S.CLOSING)
    case = fire(case, "close", closure_reason="deceased")
    ctx = services.Ctx(case=case, actor=case.owner, now=T0 + timedelta(days=1), args={})

    with pytest.raises(services.GuardFailed) as excinfo:
        services._pre_reopen(ctx)

    assert excinfo.value.code == "reopen_not_allowed"


# --- T16 retention_elapsed -----------------------------------------------------


def test_retention_elapsed_anonymises_after_three_calendar_years() -> None:
    case = journey_to(S.CLOSED)
    now = T0.replace(year=2030, month=1, day=1)
    before = count_events(case)

    case = fire(case, "retention_elapsed", actor=None, now=now)

    assert (case.status, case.deleted_at) == (S.DELETED, now)
    case.person.refresh_from_db()
    assert (case.person.family_name, case.person.given_names, case.person.date_of_birth) == (
        "—",
        "",
        None,
    )
    goal = case.plans.get().goals.get()
    assert (goal.title, goal.success_criterion) == ("—", "")
    assert_one_event(case, before, "retention_elapsed", S.CLOSED, S.DELETED)


def test_retention_elapsed_of_rejected_case() -> None:
    case = journey_to(S.REJECTED)

    case = fire(case, "retention_elapsed", actor=None, now=T0.replace(year=2030, month=1, day=1))

    assert case.status == S.DELETED


def test_retention_elapsed_waits_until_the_end_of_the_third_year() -> None:
    case = journey_to(S.CLOSED)

    assert_refused(
        lambda: fire(
            case, "retention_elapsed", actor=None, now=T0.replace(year=2029, month=12, day=31)
        ),
        case,
        "retention_not_elapsed",
        409,
    )


def test_retention_elapsed_respects_legal_hold() -> None:
    case = journey_to(S.CLOSED)
    Case.objects.filter(pk=case.pk).update(legal_hold=True)

    assert_refused(
        lambda: fire(
            case, "retention_elapsed", actor=None, now=T0.replace(year=2031, month=1, day=1)
        ),
        case,
        "legal_hold",
        409,
    )


@pytest.mark.parametrize(
    "name", ["record_first_consultation", "pause", "reopen", "close", "draft_plan"]
)
def test_deleted_case_is_final(name: str) -> None:
    case = journey_to(S.REJECTED)
    case = fire(case, "retention_elapsed", actor=None, now=T0.replace(year=2030, month=1, day=1))
    dpo = UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=case.traeger)

    assert_refused(lambda: fire(case, name, actor=dpo), case, "forbidden", 403)
    assert_refused(
        lambda: services.case_transition(
            case=case, name=name, actor=None, now=T0.replace(year=2031)
        ),
        case,
        "forbidden",
        403,
    )


# --- stale callers and unknown names ----------------------------------------------


def test_stale_case_object_gets_concurrent_change() -> None:
    case = journey_to(S.ACTIVE)
    stale = Case.objects.get(pk=case.pk)
    fire(case, "pause", reason="CLIENT_REQUEST")

    assert_refused(
        lambda: services.case_transition(
            case=stale, name="start_closing", actor=case.owner, now=T0, ground="CLIENT_REQUEST"
        ),
        case,
        "concurrent_change",
        409,
    )


def test_unknown_transition_name_is_not_found() -> None:
    case = new_case()

    assert_refused(lambda: fire(case, "teleport"), case, "unknown_transition", 404)


# --- allowed transitions ------------------------------------------------------------


def test_allowed_transitions_for_owner_of_active_case() -> None:
    case = journey_to(S.ACTIVE)

    allowed = services.case_allowed_transitions(case=case, actor=case.owner, now=T0)

    assert allowed == ["review_plan", "pause", "start_closing", "withdraw_consent"]


def test_allowed_transitions_for_supervisor_of_closing_case() -> None:
    case = journey_to(S.CLOSING)

    allowed = services.case_allowed_transitions(
        case=case, actor=supervisor_of(case.owner.team), now=T0
    )

    assert allowed == ["close"]


def test_allowed_transitions_hide_failed_preconditions() -> None:
    case = new_case()

    allowed = services.case_allowed_transitions(case=case, actor=case.owner, now=T0)

    assert allowed == ["reject_ineligible", "withdraw_consent"]


# --- clock arithmetic ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "regular", "latest"),
    [
        (date(2026, 1, 5), date(2029, 1, 4), date(2030, 1, 4)),
        (date(2024, 2, 29), date(2027, 2, 27), date(2028, 2, 28)),
        (date(2026, 3, 1), date(2029, 2, 28), date(2030, 2, 28)),
    ],
)
def test_period_ends(start: date, regular: date, latest: date) -> None:
    assert services.regular_end_for(start) == regular
    assert services.latest_end_for(start) == latest


def test_goals_of_finished_case_need_final_status_before_close_helper() -> None:
    case = journey_to(S.ACTIVE)
    finish_goals(case, T0)

    assert set(case.plans.get().goals.values_list("status", flat=True)) == {"ACHIEVED"}


def test_planning_helpers_chain() -> None:
    case = to_planning(to_initial_counselling(new_case(), T0), T0)

    assert case.status == S.PLANNING


def test_consultation_participants_come_only_from_the_case_and_its_household() -> None:
    case = new_case()
    other = new_case(owner=case.owner)
    before = snapshot(case)

    with pytest.raises(services.InvalidArguments) as excinfo:
        services.consultation_record(
            case=case,
            actor=case.owner,
            now=T0,
            held_on=T0.date(),
            duration_minutes=30,
            form="office",
            topics=["language"],
            participant_ids=[other.person_id],
        )

    assert list(excinfo.value.fields) == ["participants"]
    assert snapshot(case) == before
    assert not other.person.consultations.exists()
