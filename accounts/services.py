"""Writes about users: the second factor of a sign-in, session bookkeeping,
and deputy grants (Vertretungen).

A grant opens the principal's cases to the deputy, so each grant and each
revocation writes one audit event (global chain) in its transaction, with
what changed: ids and times by value, the free-text reason as a keyed
digest only (see `cases.history` for the same rule on case data).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, DeputyGrant, Role, User
from accounts.tokens import api_token_create
from audit.services import DIGEST, VALUE, audit_event_record, field_change
from config.errors import Conflict, Forbidden, InvalidInput, NotFound

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator-App"
BACKUP_DEVICE_NAME = "Backup-Codes"


class SecondFactorInvalid(InvalidInput):
    default_code = "otp_invalid"


class SecondFactorAlreadySetUp(InvalidInput):
    default_code = "otp_already_set_up"
    http_status = 409


def has_second_factor(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_setup_device(*, user: User) -> TOTPDevice:
    """Return the user's unconfirmed authenticator device, creating it once.

    Refused once a device is confirmed: whoever knows only the password
    must not be able to enrol a second authenticator of their own.
    """
    if has_second_factor(user=user):
        raise SecondFactorAlreadySetUp(
            _("Two-factor sign-in is already set up for this account."),
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an app."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with its first code; issue backup codes.

    Returns the device and the backup codes in clear text, which are shown
    exactly once. Each backup code works once.
    """
    device = totp_setup_device(user=user)
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(_normalise(code)):
        raise SecondFactorInvalid(
            _("The code is wrong or has expired. Enter the current code from the app."),
            fields={"otp": [_("The code is wrong or has expired.")]},
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=backup, token=c) for c in codes])
    return device, codes


def second_factor_check(*, user: User, code: str) -> TOTPDevice | StaticDevice:
    """Return the device that accepts `code`, else raise SecondFactorInvalid.

    A TOTP code is accepted once (a replayed code is refused), a backup code
    is used up; repeated failures slow the devices down (django-otp).
    """
    device = match_token(user, _normalise(code)) if code else None
    if device is None:
        raise SecondFactorInvalid(
            _("The code is wrong or has expired. Enter the current code from the app."),
            fields={"otp": [_("The code is wrong or has expired.")]},
        )
    return device


def api_token_issue(*, user: User, otp: str | None, require_mfa: bool, now: datetime) -> str:
    """Issue a new API token for `user`, after the second factor if required;
    return its key, which is shown this once and stored only hashed."""
    if require_mfa:
        if not has_second_factor(user=user):
            raise SecondFactorInvalid(
                _("Set up two-factor sign-in in the browser before requesting an API token."),
                code="otp_not_set_up",
            )
        second_factor_check(user=user, code=otp or "")
    _token, key = api_token_create(user=user, mfa_verified=require_mfa, now=now)
    return key


def second_factor_reset(*, user: User, actor: User, now: datetime) -> None:
    """Remove the user's authenticator and backup codes (lost phone); the
    user sets up a new one at the next sign-in. Ends their API tokens."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        ApiToken.objects.filter(user=user).delete()
        audit_event_record(
            event_type="accounts.second_factor.reset",
            actor=actor,
            actor_role=actor.role,
            now=now,
            object_type="user",
            object_id=user.pk,
        )


def session_started(*, session: object, now: datetime) -> None:
    """Note the sign-in time and the first activity in the session."""
    stamp = now.timestamp()
    session[SIGNED_IN_AT] = stamp  # type: ignore[index]
    session[LAST_SEEN_AT] = stamp  # type: ignore[index]


SIGNED_IN_AT = "lotse_signed_in_at"
LAST_SEEN_AT = "lotse_last_seen_at"
# The organisation's OIDC provider asserted a second factor at sign-in
# (accounts/directory.py): Lotse then asks for no second code.
PROVIDER_MFA_SESSION_KEY = "lotse_provider_mfa"


def _normalise(code: str) -> str:
    return "".join(str(code).split())


# --- deputies (Vertretung) ------------------------------------------------------

DEPUTY_GRANT_FIELDS = {
    "principal_id": VALUE,
    "deputy_id": VALUE,
    "valid_from": VALUE,
    "valid_until": VALUE,
    "reason": DIGEST,
    "granted_by_id": VALUE,
    "revoked_at": VALUE,
}
GRANTERS = (Role.SUPERVISOR, Role.ADMINISTRATOR)


class DeputyGrantInvalid(InvalidInput):
    default_code = "invalid"


class DeputyGrantForbidden(Forbidden):
    default_code = "forbidden"


class DeputyGrantRevoked(Conflict):
    default_code = "already_revoked"


def _changes(grant: DeputyGrant, op: str, old: dict[str, Any]) -> list[dict[str, Any]]:
    label = grant._meta.label_lower
    fields = {}
    for name, kind in DEPUTY_GRANT_FIELDS.items():
        new = getattr(grant, name)
        if op == "update" and old.get(name) == new:
            continue
        fields[name] = field_change(
            label=label, pk=grant.pk, name=name, kind=kind, old=old.get(name), new=new, op=op
        )
    return [{"model": label, "id": grant.pk, "op": op, "fields": fields}]


def _may_grant(actor: User, principal: User) -> bool:
    if actor.role == Role.ADMINISTRATOR:
        return True
    return (
        actor.role == Role.SUPERVISOR and bool(actor.team_id) and actor.team_id == principal.team_id
    )


def deputy_grant_validate(
    *,
    principal: User,
    deputy: User,
    valid_from: datetime,
    valid_until: datetime,
    reason: str,
    actor: User,
) -> str:
    """Check a grant before it is made; return the cleaned reason.

    Raises DeputyGrantForbidden (403), DeputyGrantInvalid (400).
    """
    if not _may_grant(actor, principal):
        raise DeputyGrantForbidden(_("Your role may not set up this deputy arrangement."))
    if (
        principal.role != Role.INTEGRATION_MANAGER
        or deputy.role != Role.INTEGRATION_MANAGER
        or not deputy.is_active
        or principal.pk == deputy.pk
        or principal.traeger_id != deputy.traeger_id
        or principal.team_id is None
        or principal.team_id != deputy.team_id
    ):
        raise DeputyGrantInvalid(
            _("A deputy is another active integration manager of the same team."),
            fields={"deputy": [_("Choose another integration manager of the team.")]},
        )
    if valid_until <= valid_from:
        raise DeputyGrantInvalid(
            _("The deputy arrangement must end after it starts."),
            fields={"valid_until": [_("Choose a later time.")]},
        )
    longest = settings.LOTSE_DEPUTY_MAX_DAYS
    if valid_until - valid_from > timedelta(days=longest):
        raise DeputyGrantInvalid(
            _("A deputy arrangement lasts at most %(days)d days.") % {"days": longest},
            fields={
                "valid_until": [
                    _("Choose an end at most %(days)d days after the start.") % {"days": longest}
                ]
            },
        )
    text = str(reason or "").strip()
    if not text or len(text) > 200:
        raise DeputyGrantInvalid(
            _("Give a short reason (at most 200 characters)."),
            fields={"reason": [_("This field is required.")]},
        )
    return text


def deputy_grant_create(
    *,
    principal: User,
    deputy: User,
    valid_from: datetime,
    valid_until: datetime,
    reason: str,
    actor: User,
    now: datetime,
) -> DeputyGrant:
    """Let `deputy` act on `principal`'s cases from `valid_from` until
    `valid_until` (a supervisor of the principal's team or an administrator).

    Raises DeputyGrantForbidden (403), DeputyGrantInvalid (400).
    """
    text = deputy_grant_validate(
        principal=principal,
        deputy=deputy,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason,
        actor=actor,
    )
    with transaction.atomic():
        grant = DeputyGrant.objects.create(
            principal=principal,
            deputy=deputy,
            valid_from=valid_from,
            valid_until=valid_until,
            reason=text,
            granted_by=actor,
        )
        audit_event_record(
            event_type="accounts.deputy_grant.granted",
            actor=actor,
            actor_role=actor.role,
            now=now,
            object_type="deputygrant",
            object_id=grant.pk,
            data={"changes": _changes(grant, "create", {})},
        )
    return grant


def deputy_grant_revoke(*, grant: DeputyGrant, actor: User, now: datetime) -> DeputyGrant:
    """End a deputy arrangement now. Raises DeputyGrantRevoked (409)."""
    with transaction.atomic():
        row = DeputyGrant.objects.select_for_update().get(pk=grant.pk)
        if not _may_grant(actor, row.principal):
            raise DeputyGrantForbidden(_("Your role may not set up this deputy arrangement."))
        if row.revoked_at is not None:
            raise DeputyGrantRevoked(_("This deputy arrangement has already been revoked."))
        before = {name: getattr(row, name) for name in DEPUTY_GRANT_FIELDS}
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        audit_event_record(
            event_type="accounts.deputy_grant.revoked",
            actor=actor,
            actor_role=actor.role,
            now=now,
            object_type="deputygrant",
            object_id=row.pk,
            data={"changes": _changes(row, "update", before)},
        )
    return row


class DeputyGrantNotFound(NotFound):
    default_code = "not_found"


def deputy_grants_for_supervisor(*, supervisor: User) -> QuerySet[DeputyGrant]:
    """The grants whose absent manager belongs to the supervisor's team."""
    if supervisor.role != Role.SUPERVISOR or supervisor.team_id is None:
        return DeputyGrant.objects.none()
    return DeputyGrant.objects.filter(principal__team_id=supervisor.team_id).select_related(
        "principal", "deputy", "granted_by"
    )


def _team_manager(*, supervisor: User, user_id: Any, field_name: str) -> User:
    manager = User.objects.filter(
        pk=user_id if str(user_id).isdigit() else None,
        role=Role.INTEGRATION_MANAGER,
        is_active=True,
        traeger_id=supervisor.traeger_id,
    ).first()
    if manager is None or manager.team_id != supervisor.team_id:
        raise DeputyGrantInvalid(
            _("Choose an active integration manager of your team."),
            fields={field_name: [_("Choose an active integration manager of your team.")]},
        )
    return manager


def deputy_grant(
    *,
    actor: User,
    now: datetime,
    principal_id: Any,
    deputy_id: Any,
    valid_until: datetime,
    reason: str,
    valid_from: datetime | None = None,
) -> DeputyGrant:
    """The supervisor's page: let `deputy` act on `principal`'s cases from
    `valid_from` (default: at once) until `valid_until`, both managers of
    the supervisor's team (ids as posted). Written by `deputy_grant_create`.
    """
    if actor.role != Role.SUPERVISOR or actor.team_id is None:
        raise DeputyGrantNotFound(_("This page does not exist."))
    principal = _team_manager(supervisor=actor, user_id=principal_id, field_name="principal")
    deputy = _team_manager(supervisor=actor, user_id=deputy_id, field_name="deputy")
    start = valid_from or now
    if principal.pk == deputy.pk:
        raise DeputyGrantInvalid(
            _("A manager cannot deputise for themselves."),
            fields={"deputy": [_("Choose someone else.")]},
        )
    if valid_until <= now:
        raise DeputyGrantInvalid(
            _("The end of the deputyship must lie after its start and in the future."),
            fields={"valid_until": [_("Choose a later end.")]},
        )
    return deputy_grant_create(
        principal=principal,
        deputy=deputy,
        valid_from=start,
        valid_until=valid_until,
        reason=reason,
        actor=actor,
        now=now,
    )


def deputy_revoke(*, actor: User, grant_id: Any, now: datetime) -> DeputyGrant:
    """The supervisor's page: end a deputyship of the team at once.
    Revoking an ended or revoked grant again changes nothing."""
    grant = (
        deputy_grants_for_supervisor(supervisor=actor)
        .filter(pk=grant_id if str(grant_id).isdigit() else None)
        .first()
    )
    if grant is None:
        raise DeputyGrantNotFound(_("This deputyship does not exist."))
    if grant.valid_until <= now:
        return grant
    try:
        return deputy_grant_revoke(grant=grant, actor=actor, now=now)
    except DeputyGrantRevoked:
        return grant
