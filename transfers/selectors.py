"""Reads of the transfers app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import Role, User
from cases.models import Case
from cases.selectors import cases_visible_to
from cases.services.transfer import TRANSFERABLE_STATES
from transfers import signing
from transfers.models import TransferPackage


def transfer_targets() -> list[str]:
    """The installations this one exchanges packages with (by name)."""
    own = signing.installation_name()
    return sorted({k.installation for k in signing.trusted_keys().values()} - {own})


def transfer_owner_choices(*, actor: User) -> QuerySet[User]:
    """The integration managers a supervisor may hand a case to: every
    active manager of the installation, their own team first."""
    return (
        User.objects.filter(role=Role.INTEGRATION_MANAGER, is_active=True, team__isnull=False)
        .select_related("team", "traeger")
        .order_by("traeger__name", "team__name", "last_name", "first_name", "pk")
    )


def team_managers(*, actor: User) -> QuerySet[User]:
    """The integration managers of the supervisor's team (leaving or not)."""
    if actor.team_id is None:
        return User.objects.none()
    return User.objects.filter(role=Role.INTEGRATION_MANAGER, team_id=actor.team_id).order_by(
        "last_name", "first_name", "pk"
    )


def cases_of_manager(*, actor: User, manager: User, now: datetime) -> QuerySet[Case]:
    """The cases of `manager` the supervisor sees (metadata only)."""
    return (
        cases_visible_to(user=actor, now=now)
        .filter(owner_id=manager.pk, status__in=[s.value for s in TRANSFERABLE_STATES])
        .order_by("effective_end", "pk")
    )


def imported_package_of_case(*, case: Case) -> TransferPackage | None:
    """The package a case was taken over from, if any (the caller has
    opened the case through `case_get_for_user`)."""
    return (
        TransferPackage.objects.filter(case=case, direction=TransferPackage.Direction.IMPORTED)
        .select_related("recorded_by")
        .first()
    )


def packages_exported(*, case: Case) -> list[Any]:
    return list(
        TransferPackage.objects.filter(
            case=case, direction=TransferPackage.Direction.EXPORTED
        ).order_by("-recorded_at")
    )


def _day(value: Any) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def received_file_display(*, payload: dict[str, Any]) -> dict[str, Any]:
    """The received case file with labels instead of keys and dates as
    dates, for the screen (keys unknown here are shown as sent)."""
    from cases.models import Catalogue, CatalogueEntry, GoalStatus, HouseholdMembership

    labels = {
        (e.catalogue, e.key): e.label_de
        for e in CatalogueEntry.objects.filter(
            catalogue__in=[
                Catalogue.FIELD_OF_ACTION,
                Catalogue.CONSULTATION_TOPIC,
                Catalogue.EXTENSION_REASON,
            ]
        )
    }

    def label(catalogue: str, key: Any) -> Any:
        return labels.get((catalogue, key), key)

    clock = dict(payload.get("clock") or {})
    for name in ("first_consultation_on", "regular_end", "effective_end"):
        clock[name] = _day(clock.get(name))
    if clock.get("extension"):
        extension = dict(clock["extension"])
        extension["reason"] = label(Catalogue.EXTENSION_REASON, extension.get("reason"))
        clock["extension"] = extension
    plan = payload.get("plan")
    if plan:
        statuses = dict(GoalStatus.choices)
        plan = {
            **plan,
            "goals": [
                {
                    **goal,
                    "field_of_action": label(
                        Catalogue.FIELD_OF_ACTION, goal.get("field_of_action")
                    ),
                    "target_date": _day(goal.get("target_date")),
                    "status": statuses.get(goal.get("status"), goal.get("status")),
                }
                for goal in plan.get("goals") or []
            ],
        }
    relations = dict(HouseholdMembership.Relation.choices)
    household = [
        {
            **member,
            "relation": relations.get(str(member.get("relation")), member.get("relation")),
            "date_of_birth": _day(member.get("date_of_birth")),
        }
        for member in payload.get("household") or []
        if isinstance(member, dict)
    ]
    return {
        "household": household,
        "clock": clock,
        "plan": plan,
        "consultations": [
            {
                **c,
                "held_on": _day(c.get("held_on")),
                "topics": [label(Catalogue.CONSULTATION_TOPIC, t) for t in c.get("topics") or []],
            }
            for c in payload.get("consultations") or []
        ],
        "referrals": payload.get("referrals") or [],
    }
