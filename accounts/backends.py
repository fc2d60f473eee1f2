"""Permissions by role: the floor below every object check.

Lotse's roles are exclusive (DOMAIN.md "Roles"), so a user's model
permissions follow from the role and are declared here, in one place,
instead of being granted row by row. A permission only opens the door to
a kind of work; which cases a user may touch is decided by the case access
selector.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
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


# --- django-axes: which client, and what the logs may say about it -----------


def _address(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def client_ip_address(request: Any) -> str | None:
    """Return the address a sign-in came from (AXES_CLIENT_IP_CALLABLE).

    With LOTSE_TRUSTED_PROXY_COUNT = 0 (the default, right for `make run`
    and for a server without a reverse proxy) it is REMOTE_ADDR and any
    forwarding header is ignored, so a client cannot choose its address.
    Behind N trusted proxies, each of which appends the address it received
    the request from to LOTSE_CLIENT_IP_HEADER (X-Forwarded-For), the client
    is the N-th entry from the right: entries further left were sent by the
    client and prove nothing. A header with fewer entries, or a malformed
    one, falls back to REMOTE_ADDR (the nearest proxy: stricter, never
    spoofable).
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.LOTSE_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = request.META.get(settings.LOTSE_CLIENT_IP_HEADER, "")
    hops = [hop for hop in str(header).split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    return _address(hops[-count]) or remote


def client_str(
    username: Any, ip_address: Any, user_agent: Any, path_info: Any, request: Any
) -> str:
    """Name a sign-in client in django-axes' log lines (AXES_CLIENT_STR_CALLABLE).

    Staff user names and addresses are personal data and stay out of the
    logs: the line carries a keyed digest of the pair instead, so repeated
    failures of one client can be followed without naming it. The lockout
    itself is recorded in axes' own tables.
    """
    message = f"{username or ''}|{ip_address or ''}".encode()
    key = hashlib.sha256(b"lotse-axes-client:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()[:12]
    return f"{{client: {digest}}}"
