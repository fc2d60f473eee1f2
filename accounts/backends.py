"""Permissions by role: the floor below every object check.

Lotse's roles are exclusive (DOMAIN.md "Roles"), so a user's model
permissions follow from the role and are declared here, in one place,
instead of being granted row by row. A permission only opens the door to
a kind of work; which cases a user may touch is decided by the case access
selector.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import BaseBackend

from accounts.models import Role

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.INTEGRATION_MANAGER: frozenset({"workflows.work_case"}),
    Role.SUPERVISOR: frozenset({"workflows.decide_extension"}),
}


class RolePermissionBackend(BaseBackend):
    """Grant the permissions of the user's role; authenticates no one."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not getattr(user_obj, "is_active", False) or user_obj.is_anonymous:
            return set()
        return set(ROLE_PERMISSIONS.get(getattr(user_obj, "role", ""), ()))

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every sign-in Lotse offers (the login page, the admin, the API token)
    passes the request, so every one is counted and refused while locked.
    A call without a request (the test client's `login`, a shell) is not an
    attempt over the network and is left to the next backend instead of
    raising.
    """

    def authenticate(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
