"""Factories and journeys for cases (synthetic data only).

`journey_to(state, ...)` drives a fresh case through the real services to
any state of DOMAIN.md §14.1, so tests start from states reached the way
users reach them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from cases import demo, services
from cases.catalogues import catalogues_load
from cases.demo import (  # noqa: F401 - re-exported for tests
    AGREEMENT,
    ELIGIBLE,
    PATH,
    add_complete_goal,
    case_drive_to,
    consult,
    finish_goals,
    to_active,
    to_closed,
    to_closing,
    to_initial_counselling,
    to_planning,
)
from cases.goal_catalogue import goal_catalogue_load
from cases.models import Case, CatalogueEntry, Consent, GoalCatalogueEntry, Person
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
    if not GoalCatalogueEntry.objects.exists():
        goal_catalogue_load(goal_model=GoalCatalogueEntry, entry_model=CatalogueEntry)


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


def journey_to(state: str, *, owner: User | None = None, now: datetime = T0) -> Case:
    """Return a new case driven through the services into `state`."""
    case = case_drive_to(case=new_case(owner=owner, now=now), state=state, now=now)
    case.refresh_from_db()
    return case


def give_consent(
    case: Case, *, scope: str = Consent.Scope.CASE_PROCESSING, now: datetime = T0
) -> Any:
    return demo.give_consent(case, scope=scope, now=now)
