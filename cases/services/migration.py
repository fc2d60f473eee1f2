"""Taking over the existing caseload of a Kreis from a previous tool or a
spreadsheet: persons, households, their cases in the state their data says,
the known consultation period and the current plan with its goals.

The `caseload` app reads and checks the file and decides what to take over;
this module writes it, many cases in one transaction (all or nothing), with
bulk inserts for the rows and, per case, the one audit event naming the
source (with the field-by-field record of everything the case starts with,
so `audit.selectors.case_replay` reproduces it) and the dispatch of the
change, which starts the case's flow at its state (`cases.effects`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, Role, User
from cases import history
from cases.clock import extended_end_for, regular_end_for, start_of_day
from cases.effects import CaseChange, ChangeKind, case_changed
from cases.errors import MESSAGES, InvalidArguments, TransitionForbidden
from cases.models import (
    FINAL_GOAL_STATES,
    Case,
    CaseStatus,
    CatalogueEntry,
    Goal,
    GoalStatus,
    Household,
    HouseholdMembership,
    IntegrationPlan,
    Person,
    PersonClockFact,
)
from cases.services.base import _audit
from cases.services.person_clock import person_clock_fact_record

S = CaseStatus
# The states a case can be taken over in: the open states with a clear
# meaning of their data (a case being closed is closed in the old tool).
IMPORT_STATES = (S.REGISTERED, S.INITIAL_COUNSELLING, S.PLANNING, S.ACTIVE, S.DORMANT)


@dataclass(frozen=True)
class MigratedGoal:
    field_of_action: CatalogueEntry
    title: str
    status: str = GoalStatus.AGREED
    target_date: date | None = None


@dataclass(frozen=True)
class MigratedCase:
    """The case of one person as the old tool knew it."""

    owner: User
    status: str
    intake_channel: str
    first_consultation_on: date | None = None
    extension_months: int | None = None
    extension_reason: CatalogueEntry | None = None
    last_review_on: date | None = None
    next_review_on: date | None = None
    goals: list[MigratedGoal] = field(default_factory=list)


@dataclass(frozen=True)
class MigratedPerson:
    """One person (`Person` field names in `facts`), their relation in the
    household and their case (None: a member without a case of their own,
    a child for example)."""

    facts: dict[str, Any]
    relation: str = HouseholdMembership.Relation.HEAD
    case: MigratedCase | None = None
    evidence: str = ""  # where the clock facts come from (file, line, reference)


@dataclass(frozen=True)
class MigratedHousehold:
    """Persons living together (one person: no household row)."""

    people: list[MigratedPerson]
    address: str = ""
    gemeinde: Gemeinde | None = None


@dataclass
class MigratedResult:
    persons: list[list[Person]]  # per household, in input order
    cases: list[list[Case | None]]  # per household and person


def _period(item: MigratedCase) -> dict[str, Any]:
    start = item.first_consultation_on
    if start is None:
        return {}
    regular_end = regular_end_for(start)
    effective_end = regular_end
    if item.extension_months:
        effective_end = extended_end_for(
            start=start, regular_end=regular_end, months=item.extension_months
        )
    return {
        "consultation_start": start,
        "regular_end": regular_end,
        "effective_end": effective_end,
    }


def _check(*, actor: User, households: Sequence[MigratedHousehold]) -> None:
    if actor.role != Role.SUPERVISOR or not actor.team_id or not actor.is_active:
        raise TransitionForbidden(MESSAGES["forbidden"])
    for household in households:
        for person in household.people:
            item = person.case
            if item is None:
                continue
            owner = item.owner
            if (
                owner.role != Role.INTEGRATION_MANAGER
                or not owner.is_active
                or owner.team_id != actor.team_id
            ):
                raise InvalidArguments(
                    _("Cases are owned by an active integration manager."),
                    fields={"owner": [_("Choose an integration manager of your team.")]},
                )
            if item.status not in IMPORT_STATES:
                raise InvalidArguments(
                    _("This state cannot be taken over."), fields={"status": [item.status]}
                )
            if item.status != S.REGISTERED and item.first_consultation_on is None:
                raise InvalidArguments(
                    _("A case past registration needs its first consultation date."),
                    fields={"first_consultation_on": [_("This field is required.")]},
                )
            if item.status in (S.ACTIVE, S.DORMANT) and (
                not item.goals or item.next_review_on is None
            ):
                raise InvalidArguments(
                    _("An active case needs its plan goals and the next review."),
                    fields={"next_review_on": [_("This field is required.")]},
                )


def caseload_import_write(
    *,
    actor: User,
    now: datetime,
    source: str,
    households: Sequence[MigratedHousehold],
    progress: Callable[[int], None] | None = None,
) -> MigratedResult:
    """Create the persons, households, memberships and cases of an
    imported caseload, each case in its state with its consultation period,
    its current plan and goals, one audit event per case (type
    `cases.case.imported`, reason: `source`) and its flow started.

    Only a supervisor of the owners' team (403); owners must be active
    integration managers of that team and each case's data must fit its
    state (400). `progress(n)` is called with the number of households
    written so far. Runs in one transaction: any error writes nothing.
    """
    _check(actor=actor, households=households)
    traeger_id = actor.traeger_id
    with transaction.atomic():
        persons_by_household = [
            [Person(traeger_id=traeger_id, **person.facts) for person in household.people]
            for household in households
        ]
        for household, persons in zip(households, persons_by_household, strict=True):
            for person, item in zip(persons, household.people, strict=True):
                start = item.case.first_consultation_on if item.case else None
                if start is not None:
                    # The start the old tool knew: a later case of the
                    # person keeps the earlier date (the clock rule).
                    person.prior_consultation_start = start
        Person.objects.bulk_create(
            [p for persons in persons_by_household for p in persons], batch_size=1000
        )
        household_rows: list[Household | None] = [
            Household(
                traeger_id=traeger_id,
                address=household.address,
                gemeinde=household.gemeinde,
            )
            if len(household.people) > 1
            else None
            for household in households
        ]
        Household.objects.bulk_create([h for h in household_rows if h is not None], batch_size=1000)
        memberships: list[list[HouseholdMembership]] = []
        for household, row, persons in zip(
            households, household_rows, persons_by_household, strict=True
        ):
            memberships.append(
                []
                if row is None
                else [
                    HouseholdMembership(household=row, person=person, relation=item.relation)
                    for item, person in zip(household.people, persons, strict=True)
                ]
            )
        HouseholdMembership.objects.bulk_create(
            [m for group in memberships for m in group], batch_size=2000
        )
        cases_by_household: list[list[Case | None]] = []
        for household, row, persons in zip(
            households, household_rows, persons_by_household, strict=True
        ):
            cases_by_household.append(
                [
                    None
                    if item.case is None
                    else Case(
                        person=person,
                        programme=Case.Programme.BW_IM,
                        status=item.case.status,
                        traeger_id=traeger_id,
                        gemeinde=person.gemeinde or household.gemeinde,
                        owner=item.case.owner,
                        intake_channel=item.case.intake_channel,
                        household=row,
                        registered_at=now,
                        eligibility_basis=(
                            ""
                            if item.case.status == S.REGISTERED
                            else Case.EligibilityBasis.UKRAINE
                            if person.ukraine_displaced
                            else Case.EligibilityBasis.FOLLOW_UP_ACCOMMODATION
                        ),
                        next_review_at=(
                            item.case.next_review_on
                            if item.case.status in (S.ACTIVE, S.DORMANT)
                            else None
                        ),
                        paused_at=now if item.case.status == S.DORMANT else None,
                        **_period(item.case),
                    )
                    for item, person in zip(household.people, persons, strict=True)
                ]
            )
        all_cases = [c for group in cases_by_household for c in group if c is not None]
        Case.objects.bulk_create(all_cases, batch_size=1000)
        plans: dict[int, IntegrationPlan] = {}
        goals: dict[int, list[Goal]] = {}
        for household, cases in zip(households, cases_by_household, strict=True):
            for item, case in zip(household.people, cases, strict=True):
                if case is None or item.case is None or not item.case.goals:
                    continue
                plans[case.pk] = _plan_of(case=case, item=item.case, now=now)
        IntegrationPlan.objects.bulk_create(list(plans.values()), batch_size=1000)
        for household, cases in zip(households, cases_by_household, strict=True):
            for item, case in zip(household.people, cases, strict=True):
                if case is not None and case.pk in plans and item.case is not None:
                    goals[case.pk] = [
                        _goal_of(plan=plans[case.pk], goal=goal, now=now)
                        for goal in item.case.goals
                    ]
        Goal.objects.bulk_create([g for group in goals.values() for g in group], batch_size=2000)
        written = 0
        for household, row, persons, cases, group in zip(
            households,
            household_rows,
            persons_by_household,
            cases_by_household,
            memberships,
            strict=True,
        ):
            for item, person, case in zip(household.people, persons, cases, strict=True):
                if case is None or item.case is None:
                    continue
                history.begin()
                history.created(case)
                history.created(person, op="snapshot")
                if row is not None:
                    history.created(row, op="snapshot")
                    for membership in group:
                        history.created(membership, op="snapshot")
                if case.pk in plans:
                    history.created(plans[case.pk])
                    for goal in goals[case.pk]:
                        history.created(goal)
                data: dict[str, Any] = {"source": source, "goals": len(item.case.goals)}
                if item.case.extension_months:
                    data["extension_months"] = item.case.extension_months
                    data["extension_reason"] = (
                        item.case.extension_reason.key if item.case.extension_reason else ""
                    )
                _audit(
                    case=case,
                    actor=actor,
                    now=now,
                    event_type="cases.case.imported",
                    transition_name="import",
                    to_state=case.status,
                    reason=item.case.intake_channel,
                    data=data,
                )
                if item.case.first_consultation_on is not None:
                    # The person's clock: the start (and the extension used)
                    # as a fact with its source; the case already has the
                    # period it gives, so nothing else moves. Recorded before
                    # the flow starts, whose extension branch reads it.
                    person_clock_fact_record(
                        person=person,
                        actor=actor,
                        now=now,
                        source=PersonClockFact.Source.MIGRATION,
                        evidence=item.evidence or source,
                        first_consultation_on=item.case.first_consultation_on,
                        extension_months=item.case.extension_months,
                        extension_reason=(
                            item.case.extension_reason.key if item.case.extension_reason else None
                        ),
                    )
                case_changed(CaseChange(case=case, kind=ChangeKind.IMPORTED, actor=actor, now=now))
            written += 1
            if progress is not None and written % 250 == 0:
                progress(written)
        if progress is not None:
            progress(written)
    return MigratedResult(persons=persons_by_household, cases=cases_by_household)


def _plan_of(*, case: Case, item: MigratedCase, now: datetime) -> IntegrationPlan:
    agreed = item.status in (S.ACTIVE, S.DORMANT)
    return IntegrationPlan(
        case=case,
        version=1,
        status=IntegrationPlan.Status.AGREED if agreed else IntegrationPlan.Status.DRAFT,
        created_at=now,
        # The last review is the last time the client agreed the plan; when
        # the old tool did not know it, the plan counts as agreed at import.
        agreed_at=(
            (start_of_day(item.last_review_on) if item.last_review_on else now) if agreed else None
        ),
        next_review_at=item.next_review_on if agreed else None,
    )


def _goal_of(*, plan: IntegrationPlan, goal: MigratedGoal, now: datetime) -> Goal:
    final = goal.status in FINAL_GOAL_STATES
    return Goal(
        plan=plan,
        field_of_action=goal.field_of_action,
        title=goal.title,
        target_date=goal.target_date,
        status=goal.status,
        agreed_at=plan.agreed_at
        if goal.status not in (GoalStatus.NEW, GoalStatus.PROPOSED)
        else None,
        closed_at=now if final else None,
    )
