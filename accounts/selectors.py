"""Reads about users, roles and deputies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import DeputyGrant, Role, User


def deputy_principals(*, user: User, now: datetime) -> QuerySet[DeputyGrant, Any]:
    """Return (as a subquery of principal ids) the managers whose cases
    `user` may act on right now."""
    if user.role != Role.INTEGRATION_MANAGER:
        return DeputyGrant.objects.none().values("principal_id")
    return DeputyGrant.objects.filter(
        deputy=user,
        valid_from__lte=now,
        valid_until__gt=now,
        revoked_at__isnull=True,
        principal__is_active=True,
    ).values("principal_id")


def deputy_principal_ids(*, user: User, now: datetime) -> list[int]:
    """Return the ids of managers whose cases `user` may act on right now."""
    return [row["principal_id"] for row in deputy_principals(user=user, now=now)]


def team_members(*, user: User) -> QuerySet[User]:
    """Return the active members of `user`'s team (empty without a team)."""
    if user.team_id is None:
        return User.objects.none()
    return User.objects.filter(team_id=user.team_id, is_active=True).order_by("username")
