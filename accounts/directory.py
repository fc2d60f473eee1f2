"""Sign-in through the organisation's directory: LDAP / Active Directory and OIDC.

Both are switched on by environment variables (settings: `LOTSE_LDAP_*`,
`OIDC_*`); local accounts keep working beside them. The directory decides
who may sign in and in which role: each group it reports is looked up in
`DirectoryGroup` (kept in the admin), and the user gets that group's role,
Träger, team or Kreis, at every sign-in. A user in no mapped group is
refused, so removing someone from the group in the directory ends their
access at the next sign-in; a user in groups naming different roles is
refused too (Lotse's roles are exclusive).

Directory accounts carry no usable local password. A local account (one
with a password) is never taken over by a directory sign-in of the same
name: it stays local.

The second factor: Lotse's own (TOTP) is required as for everyone, unless
an OIDC provider asserts one in the signed ID token (`amr` lists one of
LOTSE_OIDC_MFA_AMR, or `acr` is one of LOTSE_OIDC_MFA_ACR); the session
then records that the provider verified it. LDAP cannot assert anything.

No log line names the user: only the outcome and the source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_auth_ldap.backend import LDAPBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.models import DirectoryGroup, Role, User
from accounts.services import PROVIDER_MFA_SESSION_KEY

logger = logging.getLogger(__name__)


class DirectoryAccessRefused(Exception):
    """The directory user may not use Lotse (no group, or conflicting groups)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Assignment:
    role: str
    traeger_id: int | None
    team_id: int | None
    kreis_id: int | None


def directory_assignment(*, groups: Iterable[str]) -> Assignment:
    """Return the role and unit the directory `groups` name, or refuse."""
    wanted = {str(group).strip().lower() for group in groups if str(group).strip()}
    if not wanted:
        raise DirectoryAccessRefused("no_group")
    mapped = [
        entry
        for entry in DirectoryGroup.objects.select_related("team")
        if entry.name.strip().lower() in wanted
    ]
    assignments = {
        Assignment(
            role=entry.role,
            traeger_id=entry.team.traeger_id if entry.team is not None else entry.traeger_id,
            team_id=entry.team_id,
            kreis_id=entry.kreis_id,
        )
        for entry in mapped
    }
    if not assignments:
        raise DirectoryAccessRefused("no_mapped_group")
    if len(assignments) > 1:
        raise DirectoryAccessRefused("conflicting_groups")
    return assignments.pop()


def _apply(user: User, assignment: Assignment) -> None:
    user.role = assignment.role
    user.traeger_id = assignment.traeger_id  # not a copied source
    user.team_id = assignment.team_id
    user.kreis_id = assignment.kreis_id
    user.is_staff = user.is_superuser = assignment.role == Role.ADMINISTRATOR


def _refuse(source: str, reason: str) -> None:
    logger.warning("directory sign-in refused", extra={"source": source, "reason": reason})


@transaction.atomic
def directory_user_sync(
    *,
    source: str,
    username: str,
    groups: Iterable[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User | None:
    """Create or update the Lotse user of a directory sign-in (OIDC).

    Returns None (and logs why, without the name) when the user may not
    sign in: no user name, no mapped group, conflicting groups, an inactive
    account, or a local account of that name.
    """
    username = (username or "").strip()
    if not username:
        _refuse(source, "no_username")
        return None
    try:
        assignment = directory_assignment(groups=groups)
    except DirectoryAccessRefused as exc:
        _refuse(source, exc.reason)
        return None
    user = User.objects.select_for_update().filter(username__iexact=username).first()
    if user is None:
        user = User(username=username)
        user.set_unusable_password()
    elif user.has_usable_password():
        _refuse(source, "local_account")
        return None
    elif not user.is_active:
        _refuse(source, "inactive")
        return None
    user.email = email or user.email
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    _apply(user, assignment)
    user.save()
    return user


def provider_asserts_mfa(claims: Mapping[str, Any]) -> bool:
    """Whether the (signed) ID token says the provider checked a second factor."""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    accepted_amr = {value.lower() for value in settings.LOTSE_OIDC_MFA_AMR}
    if any(str(method).lower() in accepted_amr for method in amr):
        return True
    acr = claims.get("acr")
    return acr is not None and str(acr) in set(settings.LOTSE_OIDC_MFA_ACR)


# --- LDAP / Active Directory ---------------------------------------------------


class DirectoryLDAPBackend(LDAPBackend):
    """django-auth-ldap, with Lotse's group mapping and no local takeover."""

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        # Called after the password bind succeeded; the groups are read now.
        try:
            assignment = directory_assignment(groups=ldap_user.group_dns)
        except DirectoryAccessRefused as exc:
            _refuse("ldap", exc.reason)
            raise ldap_user.AuthenticationFailed(exc.reason) from None
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and user.has_usable_password():
            _refuse("ldap", "local_account")
            raise ldap_user.AuthenticationFailed("local_account")
        _apply(user, assignment)
        return user, built

    def authenticate(self, request: Any, username: Any = None, password: Any = None, **kw: Any):
        user = super().authenticate(request, username=username, password=password, **kw)
        if user is not None and not user.is_active:
            return None
        return user

    # Permissions come from the role (accounts.backends.RolePermissionBackend).
    def get_all_permissions(self, user: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user: Any, obj: Any = None) -> set[str]:
        return set()


# --- OpenID Connect (Keycloak, Entra ID, ...) ----------------------------------


class DirectoryOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow with Lotse's mapping and MFA rule."""

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> User | None:
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # Groups and names may come in the ID token or from userinfo; the
        # second factor only from the signed ID token.
        claims = {**userinfo, **payload}
        groups = claims.get(settings.LOTSE_OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        user = directory_user_sync(
            source="oidc",
            username=str(claims.get(settings.LOTSE_OIDC_USERNAME_CLAIM) or ""),
            groups=groups,
            email=str(claims.get("email") or ""),
            first_name=str(claims.get("given_name") or ""),
            last_name=str(claims.get("family_name") or ""),
        )
        if user is not None:
            user.lotse_provider_mfa = provider_asserts_mfa(payload)  # type: ignore[attr-defined]  # read by the sign-in view
        return user

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get(settings.LOTSE_OIDC_USERNAME_CLAIM))


class DirectoryOIDCCallbackView(OIDCAuthenticationCallbackView):
    def login_failure(self) -> HttpResponse:
        messages.error(
            self.request,
            _(
                "Sign-in through your organisation did not succeed. Your account may "
                "not be enabled for Lotse; ask your administrator."
            ),
        )
        return HttpResponseRedirect(reverse("accounts:login"))

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if getattr(self.user, "lotse_provider_mfa", False):
            self.request.session[PROVIDER_MFA_SESSION_KEY] = True
        return response


def oidc_authenticate(request: HttpRequest) -> HttpResponse:
    """Start the sign-in at the provider (404 while OIDC is off)."""
    if not settings.LOTSE_OIDC_ENABLED:
        raise Http404
    return OIDCAuthenticationRequestView.as_view()(request)


def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer (404 while OIDC is off)."""
    if not settings.LOTSE_OIDC_ENABLED:
        raise Http404
    return DirectoryOIDCCallbackView.as_view()(request)
