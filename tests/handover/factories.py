"""Handover test data (synthetic only) and the people around it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.models import Gemeinde, Role, User
from handover import services
from handover.models import Handover
from tests.accounts.factories import GemeindeFactory, TeamFactory, UserFactory
from tests.cases.factories import T0, ensure_catalogues


@dataclass
class World:
    gemeinde: Gemeinde
    gu: User
    manager: User
    colleague: User
    supervisor: User
    foreign_manager: User


def world() -> World:
    """A Gemeinde served by one Träger with a team, a GU worker and an outsider."""
    ensure_catalogues()
    team = TeamFactory()
    gemeinde = GemeindeFactory()
    team.traeger.gemeinden.add(gemeinde)
    other_team = TeamFactory()
    return World(
        gemeinde=gemeinde,
        gu=UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=None),
        manager=UserFactory(role=Role.INTEGRATION_MANAGER, team=team),
        colleague=UserFactory(role=Role.INTEGRATION_MANAGER, team=team),
        supervisor=UserFactory(role=Role.SUPERVISOR, team=team),
        foreign_manager=UserFactory(role=Role.INTEGRATION_MANAGER, team=other_team),
    )


def handover_data(gemeinde: Gemeinde, **overrides: Any) -> dict[str, Any]:
    data = {
        "external_reference": "",
        "gemeinde_ags": gemeinde.ags,
        "au_allocation_date": date(2025, 12, 1),
        "consent_given": True,
        "consent_form": "SIGNED_PAPER",
        "consent_language": "ar",
        "consent_given_on": date(2025, 11, 20),
        "known_needs": "Sprachkurs, Kita-Platz",
        "open_matters": "Termin Ausländerbehörde offen",
        "notes": "Familie kommt gut zurecht",
        "phone": "+49 711 000000",
        "address": "Wohnung 3",
        "gu_facility": "GU Teststadt",
        "gu_contact_name": "Gül Test",
        "gu_contact_email": "gu@test.invalid",
    }
    data.update(overrides)
    return data


def member(**overrides: Any) -> dict[str, Any]:
    data = {
        "family_name": "Haddad",
        "given_names": "Amal",
        "date_of_birth": date(1990, 3, 1),
        "sex": "FEMALE",
        "nationality": "SY",
        "languages": "ar",
    }
    data.update(overrides)
    return data


def submitted(
    w: World, *, members: list[dict[str, Any]] | None = None, **overrides: Any
) -> Handover:
    handover, _created = services.handover_create(
        actor=w.gu,
        now=T0,
        data=handover_data(w.gemeinde, **overrides),
        members=members or [member()],
    )
    return handover
