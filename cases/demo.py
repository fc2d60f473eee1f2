"""Synthetic demo cases, driven through the real services.

The step functions take a case from one state of DOMAIN.md §14.1 to the
next the way a user would; `seed_demo` and the tests use them. All names
are invented.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases import services
from cases.models import Case, CaseStatus, Consent, Person


def give_consent(
    case: Case, *, scope: str = Consent.Scope.CASE_PROCESSING, now: datetime
) -> Consent:
    return services.consent_record(
        case=case,
        actor=case.owner,
        now=now,
        scope=scope,
        form=Consent.Form.SIGNED_PAPER,
        language="ar",
    )


def consult(case: Case, *, now: datetime, held_on: date | None = None) -> Any:
    return services.consultation_record(
        case=case,
        actor=case.owner,
        now=now,
        held_on=held_on or timezone.localdate(now),
        duration_minutes=45,
        form="office",
        topics=["language", "work"],
    )


ELIGIBLE = {"eligibility_basis": "FOLLOW_UP_ACCOMMODATION", "benefit_status": "asylblg"}


def to_initial_counselling(case: Case, now: datetime) -> Case:
    give_consent(case, now=now)
    first = consult(case, now=now)
    return services.case_transition(
        case=case,
        name="record_first_consultation",
        actor=case.owner,
        now=now,
        consultation_id=first.pk,
        **ELIGIBLE,
    )


def to_planning(case: Case, now: datetime) -> Case:
    services.assessment_record(
        case=case,
        actor=case.owner,
        now=now,
        assessed_on=timezone.localdate(now),
        items=[{"field_of_action": "language", "need_level": "HIGH"}],
    )
    return services.case_transition(case=case, name="draft_plan", actor=case.owner, now=now)


def add_complete_goal(case: Case, now: datetime) -> Any:
    goal = services.goal_add(
        case=case,
        actor=case.owner,
        now=now,
        field_of_action="language",
        title="Deutschkurs B1 abschließen",
        success_criterion="B1-Zertifikat liegt vor",
        target_date=timezone.localdate(now) + timedelta(days=300),
    )
    services.measure_add(
        goal=goal, actor=case.owner, now=now, description="Anmeldung VHS-Kurs", responsible="CLIENT"
    )
    return goal


AGREEMENT = {"agreement_form": "SIGNATURE", "agreement_language": "ar"}


def to_active(case: Case, now: datetime) -> Case:
    add_complete_goal(case, now)
    return services.case_transition(
        case=case, name="agree_plan", actor=case.owner, now=now, **AGREEMENT
    )


def finish_goals(case: Case, now: datetime) -> None:
    plan = case.plans.filter(status="AGREED").get()
    for goal in plan.goals.all():
        services.goal_update(goal=goal, actor=case.owner, now=now, status="ACHIEVED")


def to_closing(case: Case, now: datetime) -> Case:
    finish_goals(case, now)
    return services.case_transition(
        case=case, name="start_closing", actor=case.owner, now=now, ground="ALL_GOALS_FINAL"
    )


def to_closed(case: Case, now: datetime) -> Case:
    services.referral_record(
        case=case,
        actor=case.owner,
        now=now,
        referred_on=timezone.localdate(now),
        target_service="mbe",
        mode="APPOINTMENT_ARRANGED",
        is_final=True,
        outcome="TAKEN_UP",
    )
    return services.case_transition(
        case=case, name="close", actor=case.owner, now=now, closure_reason="goals_achieved"
    )


PATH = {
    CaseStatus.REGISTERED: [],
    CaseStatus.INITIAL_COUNSELLING: [to_initial_counselling],
    CaseStatus.PLANNING: [to_initial_counselling, to_planning],
    CaseStatus.ACTIVE: [to_initial_counselling, to_planning, to_active],
    CaseStatus.CLOSING: [to_initial_counselling, to_planning, to_active, to_closing],
    CaseStatus.CLOSED: [to_initial_counselling, to_planning, to_active, to_closing, to_closed],
}


DEMO_PEOPLE = [
    ("Haddad", "Layla", CaseStatus.REGISTERED),
    ("Tesfaye", "Dawit", CaseStatus.INITIAL_COUNSELLING),
    ("Kovalenko", "Olena", CaseStatus.PLANNING),
    ("Rahimi", "Farid", CaseStatus.ACTIVE),
    ("Nouri", "Samira", CaseStatus.ACTIVE),
    ("Abdi", "Hodan", CaseStatus.DORMANT),
    ("Bondarenko", "Iryna", CaseStatus.CLOSING),
    ("Karimi", "Reza", CaseStatus.CLOSED),
    ("Osei", "Kwame", CaseStatus.REJECTED),
]


def case_drive_to(*, case: Case, state: str, now: datetime) -> Case:
    """Drive a registered case through the services into `state`."""
    if state == CaseStatus.REJECTED:
        return services.case_transition(
            case=case,
            name="reject_ineligible",
            actor=case.owner,
            now=now,
            reason=Case.RejectionReason.NOT_TARGET_GROUP,
        )
    if state == CaseStatus.DORMANT:
        case = case_drive_to(case=case, state=CaseStatus.ACTIVE, now=now)
        return services.case_transition(
            case=case, name="pause", actor=case.owner, now=now, reason="CLIENT_REQUEST"
        )
    for step in PATH[CaseStatus(state)]:
        case = step(case, now)
    return case


@transaction.atomic
def seed_demo_cases(*, owner: User, now: datetime) -> int:
    """Give `owner` one demo case in each state, once; return how many."""
    if Case.objects.filter(owner=owner).exists():
        return 0
    started = now - timedelta(days=120)
    for family_name, given_names, state in DEMO_PEOPLE:
        person = Person.objects.create(
            traeger_id=owner.traeger_id,
            family_name=family_name,
            given_names=given_names,
            date_of_birth=date(1988, 5, 17),
            au_allocation_date=started.date(),
        )
        case = services.case_create(
            person=person,
            owner=owner,
            actor=owner,
            now=started,
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
        )
        case = case_drive_to(case=case, state=state, now=started)
        if family_name == "Rahimi":  # the plan review is due next week
            services.case_review_date_set(
                case=case,
                actor=owner,
                now=now,
                next_review_at=timezone.localdate(now) + timedelta(days=7),
            )
        if family_name == "Nouri":  # an extension request waits for the supervisor
            services.extension_request_submit(
                case=case,
                actor=owner,
                now=now,
                reason="illiteracy",
                months=12,
                justification="Alphabetisierungskurs läuft noch bis zum Sommer (Demo).",
            )
    return len(DEMO_PEOPLE)
