"""Reads of persons and households for their integration managers: the
household view (members, their own cases with clock and plan) and one
person's data for an edit.

Access is the case's: a household or person is visible to whoever may read
the content (owner or current deputy) of one of its cases that are not
restricted (`cases.selectors.content_case_ids`); everyone else gets 404.
Within the household view, each member's cases show only when the viewer
may read them; other managers' cases are not shown at all. Every case shown
is logged as read (`read_accesses_record`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import read_accesses_record
from cases.models import (
    FINAL_STATES,
    OPEN_STATES,
    Case,
    Consultation,
    Household,
    HouseholdMembership,
    IntegrationPlan,
    Person,
)
from cases.selectors import (
    CaseClock,
    case_clock,
    cases_visible_to,
    content_case_ids,
    household_members,
    parse_pk,
)
from cases.services.intake import is_minor
from config.errors import NotFound


class HouseholdNotVisible(NotFound):
    default_code = "not_found"


class PersonNotVisible(NotFound):
    default_code = "not_found"


@dataclass(frozen=True)
class MemberCase:
    case: Case
    clock: CaseClock
    plan: IntegrationPlan | None
    goals: int


@dataclass(frozen=True)
class Member:
    membership: HouseholdMembership
    person: Person
    cases: list[MemberCase]
    may_open_case: bool


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    members: list[Member]
    # Consultations of the visible cases with more than one participant.
    family_consultations: Sequence[Consultation]


def _readable_cases(*, user: Any, now: datetime, scope: Q) -> list[Case]:
    cases = list(
        cases_visible_to(user=user, now=now)
        .filter(scope)
        .exclude(status__in=[s.value for s in FINAL_STATES])
        .select_related("owner")
        .order_by("pk")
    )
    readable = content_case_ids(user=user, cases=cases, now=now)
    return [case for case in cases if case.pk in readable]


def household_get_for_user(
    *, user: Any, household_id: Any, now: datetime, view: str
) -> HouseholdView:
    """Return the household with its members and the members' cases the
    user may read; HouseholdNotVisible (404) unless the user reads one of
    the household's cases. Logs the read of every case shown."""
    missing = HouseholdNotVisible(_("This household does not exist."))
    number = parse_pk(household_id)
    household = None if number is None else Household.objects.filter(pk=number).first()
    if household is None:
        raise missing
    own = _readable_cases(user=user, now=now, scope=Q(household=household))
    if not own:
        raise missing
    probe = own[0]
    memberships = household_members(case=probe)
    person_ids = [m.person_id for m in memberships]
    cases = _readable_cases(
        user=user, now=now, scope=Q(household=household) | Q(person_id__in=person_ids)
    )
    plans: dict[int, IntegrationPlan] = {}
    for plan in (
        IntegrationPlan.objects.filter(case__in=cases)
        .exclude(status=IntegrationPlan.Status.SUPERSEDED)
        .annotate(goal_count=Count("goals"))
        .order_by("case_id", "version")
    ):
        plans[plan.case_id] = plan
    open_people = set(
        Case.objects.filter(
            person_id__in=person_ids,
            programme=probe.programme,
            status__in=[s.value for s in OPEN_STATES],
        ).values_list("person_id", flat=True)
    )
    today = timezone.localdate(now)
    members = []
    for membership in memberships:
        shown = [
            MemberCase(
                case=case,
                clock=case_clock(case=case, now=now),
                plan=plans.get(case.pk),
                goals=getattr(plans.get(case.pk), "goal_count", 0),
            )
            for case in cases
            if case.person_id == membership.person_id
        ]
        members.append(
            Member(
                membership=membership,
                person=membership.person,
                cases=shown,
                may_open_case=membership.person_id not in open_people
                and not is_minor(membership.person, today=today),
            )
        )
    family = list(
        Consultation.objects.filter(case__in=cases)
        .annotate(heads=Count("participants"))
        .filter(heads__gt=1)
        .prefetch_related("participants")
        .select_related("form", "case")
        .order_by("-held_on", "-pk")[:20]
    )
    read_accesses_record(user=user, case_ids=[c.pk for c in cases], view=view, now=now)
    return HouseholdView(household=household, members=members, family_consultations=family)


def person_get_for_user(*, user: Any, person_id: Any, now: datetime, view: str) -> Person:
    """Return the person if the user reads one of their cases or one of
    their household's cases (PersonNotVisible, 404, otherwise); logs it."""
    missing = PersonNotVisible(_("This person does not exist."))
    number = parse_pk(person_id)
    person = (
        None
        if number is None
        else Person.objects.filter(pk=number, anonymised_at__isnull=True)
        .select_related("residence_status", "benefit_status", "accommodation_stage")
        .first()
    )
    if person is None:
        raise missing
    households = HouseholdMembership.objects.filter(person=person).values("household_id")
    cases = _readable_cases(
        user=user, now=now, scope=Q(person=person) | Q(household_id__in=households)
    )
    if not cases:
        raise missing
    read_accesses_record(user=user, case_ids=[c.pk for c in cases], view=view, now=now)
    return person


def household_check_for_user(*, user: Any, household_id: Any, now: datetime) -> None:
    """Raise HouseholdNotVisible (404) unless one of the household's cases is
    visible to the user; logs nothing. The write paths call it first, so a
    stranger gets 404 before the body is read (the service then decides
    between 403 and the change)."""
    number = parse_pk(household_id)
    if (
        number is None
        or not cases_visible_to(user=user, now=now).filter(household_id=number).exists()
    ):
        raise HouseholdNotVisible(_("This household does not exist."))


def person_check_for_user(*, user: Any, person_id: Any, now: datetime) -> None:
    """Raise PersonNotVisible (404) unless one of the person's cases or their
    household's cases is visible to the user; logs nothing (see
    `household_check_for_user`)."""
    missing = PersonNotVisible(_("This person does not exist."))
    number = parse_pk(person_id)
    person = (
        None
        if number is None
        else Person.objects.filter(pk=number, anonymised_at__isnull=True).first()
    )
    if person is None:
        raise missing
    households = HouseholdMembership.objects.filter(person=person).values("household_id")
    scope = Q(person=person) | Q(household_id__in=households)
    if not cases_visible_to(user=user, now=now).filter(scope).exists():
        raise missing
