"""A team's working day for the workspace tests (synthetic data only).

Case rows are written directly in the state a test needs, with dates
relative to TODAY (the tests freeze the clock at NOW), as the report tests
do; cases that need open guided tasks are made through the services
(`new_case`), which start their flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import Gemeinde, Role, User
from cases.models import Case, CaseStatus, Catalogue, CatalogueEntry, ExtensionRequest
from handover import services as handover_services
from handover.models import Handover
from tests.accounts.factories import DeputyGrantFactory, GemeindeFactory, TeamFactory, UserFactory
from tests.cases.factories import PersonFactory, ensure_catalogues, manager_in, supervisor_of
from tests.handover.factories import handover_data, member

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
TODAY = NOW.date()


def case_row(
    owner: User,
    *,
    status: str = CaseStatus.ACTIVE,
    family_name: str = "Testperson",
    given_names: str = "Amal",
    gemeinde: Gemeinde | None = None,
    review: date | None = None,
    end: date | None = None,
) -> Case:
    """Write one case of `owner` in `status`; `end` is the effective end
    of a running period (started three years before)."""
    person = PersonFactory(traeger=owner.traeger, family_name=family_name, given_names=given_names)
    fields: dict[str, Any] = {}
    if end is not None:
        start = end - timedelta(days=3 * 365 - 1)
        fields.update(consultation_start=start, regular_end=end, effective_end=end)
    if status == CaseStatus.CLOSED:
        fields.update(
            closed_at=NOW - timedelta(days=10),
            closure_reason=CatalogueEntry.objects.filter(catalogue=Catalogue.CLOSURE_REASON)
            .order_by("pk")
            .first(),
        )
    return Case.objects.create(
        person=person,
        owner=owner,
        traeger_id=owner.traeger_id,
        gemeinde=gemeinde,
        status=status,
        intake_channel=Case.IntakeChannel.HANDOVER_FSA,
        registered_at=NOW - timedelta(days=400),
        next_review_at=review,
        **fields,
    )


def waiting_extension(case: Case, *, by: User) -> ExtensionRequest:
    return ExtensionRequest.objects.create(
        case=case,
        reason=CatalogueEntry.objects.filter(catalogue=Catalogue.EXTENSION_REASON)
        .order_by("pk")
        .first(),
        justification="Sprachkurs läuft noch",
        months=6,
        status="SUBMITTED",
        requested_by=by,
        created_at=NOW - timedelta(days=3),
        submitted_at=NOW - timedelta(days=3),
    )


def submitted_handover(gemeinde: Gemeinde, gu: User, family_name: str = "Haddad") -> Handover:
    with transaction.atomic():
        handover, _created = handover_services.handover_create(
            actor=gu,
            now=NOW - timedelta(days=1),
            data=handover_data(gemeinde),
            members=[
                member(family_name=family_name),
                member(
                    family_name=family_name, given_names="Yusuf", date_of_birth=date(2015, 6, 1)
                ),
            ],
        )
    return handover


@dataclass
class Day:
    manager: User
    colleague: User  # the manager deputises for them
    other_colleague: User  # same team, no grant
    supervisor: User
    foreign_manager: User  # another team
    uberlingen: Gemeinde
    aach: Gemeinde
    overdue: Case  # Müller, review overdue
    due: Case  # Haddad, review due in 10 days
    ending: Case  # Ördek, period ends in 20 days
    later: Case  # Şahin, nothing due soon; an extension request waits
    closed: Case
    deputised: Case  # the colleague's Mueller, review due in 3 days
    hidden: Case  # the other colleague's
    foreign: Case
    handover: Handover


def build_day() -> Day:
    ensure_catalogues()
    team = TeamFactory()
    uberlingen = GemeindeFactory(name="Überlingen")
    aach = GemeindeFactory(name="Aach")
    team.traeger.gemeinden.add(uberlingen, aach)
    manager = manager_in(team, first_name="Mira", last_name="Manager")
    colleague = manager_in(team, first_name="Cem", last_name="Kollege")
    other_colleague = manager_in(team, first_name="Olga", last_name="Andere")
    supervisor = supervisor_of(team, first_name="Sara", last_name="Leitung")
    foreign_manager = manager_in(TeamFactory())
    gu = UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=None)
    DeputyGrantFactory(
        principal=colleague,
        deputy=manager,
        granted_by=supervisor,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=14),
    )
    later = case_row(
        manager,
        family_name="Şahin",
        given_names="Émile",
        gemeinde=aach,
        review=TODAY + timedelta(days=60),
        end=TODAY + timedelta(days=500),
    )
    waiting_extension(later, by=manager)
    return Day(
        manager=manager,
        colleague=colleague,
        other_colleague=other_colleague,
        supervisor=supervisor,
        foreign_manager=foreign_manager,
        uberlingen=uberlingen,
        aach=aach,
        overdue=case_row(
            manager,
            family_name="Müller",
            given_names="Amal",
            gemeinde=uberlingen,
            review=TODAY - timedelta(days=5),
            end=TODAY + timedelta(days=400),
        ),
        due=case_row(
            manager,
            family_name="Haddad",
            given_names="Layla",
            gemeinde=aach,
            review=TODAY + timedelta(days=10),
            end=TODAY + timedelta(days=300),
        ),
        ending=case_row(
            manager,
            status=CaseStatus.INITIAL_COUNSELLING,
            family_name="Ördek",
            given_names="Zeynep",
            gemeinde=uberlingen,
            end=TODAY + timedelta(days=20),
        ),
        later=later,
        # Closed within its period: still reopenable, so not yet restricted.
        closed=case_row(
            manager,
            status=CaseStatus.CLOSED,
            family_name="Abgeschlossen",
            end=TODAY + timedelta(days=100),
        ),
        deputised=case_row(
            colleague,
            family_name="Mueller",
            given_names="Sami",
            gemeinde=aach,
            review=TODAY + timedelta(days=3),
            end=TODAY + timedelta(days=200),
        ),
        hidden=case_row(other_colleague, family_name="Versteckt", given_names="Nora"),
        foreign=case_row(foreign_manager, family_name="Fremd", given_names="Omar"),
        handover=submitted_handover(uberlingen, gu),
    )
