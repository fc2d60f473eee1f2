"""Writes about users' rights: deputy grants (Vertretungen).

A grant opens the principal's cases to the deputy, so each grant and each
revocation writes one audit event (global chain) in its transaction, with
what changed: ids and times by value, the free-text reason as a keyed
digest only (see `cases.history` for the same rule on case data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import DeputyGrant, Role, User
from audit.services import DIGEST, VALUE, audit_event_record, field_change
from config.errors import Conflict, Forbidden, InvalidInput

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
    ):
        raise DeputyGrantInvalid(
            _("A deputy is another active integration manager of the same Träger."),
            fields={"deputy": [_("Choose another integration manager.")]},
        )
    if valid_until <= valid_from:
        raise DeputyGrantInvalid(
            _("The deputy arrangement must end after it starts."),
            fields={"valid_until": [_("Choose a later time.")]},
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
