"""Factories and journeys for cases (synthetic data only).

`journey_to(state, ...)` drives a fresh case through the real services to
any state of DOMAIN.md §14.1, so tests start from states reached the way
users reach them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from cases import services
from cases.catalogues import catalogues_load
from cases.models import Case, CaseStatus, CatalogueEntry, Consent, Person
from tests.accounts.factories import TeamFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    traeger = factory.SubFactory("tests.accounts.factories.TraegerFactory")
    family_name = factory.Sequence(lambda n: f"Testname{n}")
    given_names = "Amal"
    date_of_birth = date(1990, 3, 1)
    sex = Person.Sex.FEMALE
    nationality = "SY"
    au_allocation_date = date(2025, 12, 1)


def manager_in(team: Any, **kwargs: Any) -> User:
    return UserFactory(role=Role.INTEGRATION_MANAGER, team=team, **kwargs)


def supervisor_of(team: Any, **kwargs: Any) -> User:
    return UserFactory(role=Role.SUPERVISOR, team=team, **kwargs)


def ensure_catalogues() -> None:
    """Reload the catalogues after a transactional test flushed the tables."""
    if not CatalogueEntry.objects.exists():
        catalogues_load(entry_model=CatalogueEntry)


def new_case(*, owner: User | None = None, now: datetime = T0, **kwargs: Any) -> Case:
    ensure_catalogues()
    owner = owner or manager_in(TeamFactory())
    person = PersonFactory(traeger=owner.traeger)
    return services.case_create(
        person=person,
        owner=owner,
        actor=owner,
        now=now,
        intake_channel=Case.IntakeChannel.HANDOVER_FSA,
        **kwargs,
    )


def give_consent(
    case: Case, *, scope: str = Consent.Scope.CASE_PROCESSING, now: datetime = T0
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
        held_on=held_on or now.date(),
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
        assessed_on=now.date(),
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
        target_date=now.date() + timedelta(days=300),
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
        referred_on=now.date(),
        target_service="mbe",
        mode="WRITTEN_REFERRAL",
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


def journey_to(state: str, *, owner: User | None = None, now: datetime = T0) -> Case:
    """Return a new case driven through the services into `state`."""
    if state == CaseStatus.DORMANT:
        case = journey_to(CaseStatus.ACTIVE, owner=owner, now=now)
        return services.case_transition(
            case=case, name="pause", actor=case.owner, now=now, reason="CLIENT_REQUEST"
        )
    if state == CaseStatus.REJECTED:
        case = new_case(owner=owner, now=now)
        return services.case_transition(
            case=case,
            name="reject_ineligible",
            actor=case.owner,
            now=now,
            reason="NOT_TARGET_GROUP",
        )
    case = new_case(owner=owner, now=now)
    for step in PATH[CaseStatus(state)]:
        case = step(case, now)
    case.refresh_from_db()
    return case
