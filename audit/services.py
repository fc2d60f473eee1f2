"""Writes to the audit trail. Callers run inside their own transaction."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from audit.models import AuditEvent, ReadAccess, ReportRead

GENESIS_HASH = "0" * 64
SYSTEM_ROLE = "SYSTEM"


class AuditOutsideTransaction(RuntimeError):
    """An audit event must commit together with the change it describes."""


# How a changed field is recorded in an event (see cases.history):
VALUE = "value"  # old and new value
DIGEST = "digest"  # only "changed" and a keyed digest of the new value


def plain(value: Any) -> Any:
    """Return `value` as canonical JSON data (dates ISO, times in UTC)."""
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


@functools.cache
def _digest_key(secret: str) -> bytes:
    return hashlib.sha256(f"lotse.audit.field-digest|{secret}".encode()).digest()


def field_digest(*, label: str, pk: Any, name: str, value: Any) -> str:
    """Return the keyed digest (HMAC-SHA256) of one field's value.

    The key is derived from SECRET_KEY, so that a reader of the audit
    trail cannot test guesses of the content; the row and field are part
    of the message, so equal texts in two rows do not look alike.
    """
    message = json.dumps([label, str(pk), name, plain(value)], separators=(",", ":"))
    return hmac.new(_digest_key(settings.SECRET_KEY), message.encode(), hashlib.sha256).hexdigest()


def field_change(
    *, label: str, pk: Any, name: str, kind: str, old: Any, new: Any, op: str
) -> dict[str, Any]:
    """Return how an event records one changed field."""
    if kind == DIGEST:
        return {"changed": True, "digest": field_digest(label=label, pk=pk, name=name, value=new)}
    if op in ("update", "delete"):
        return {"old": plain(old), "new": plain(new)}
    return {"new": plain(new)}


def chain_key_for(*, case_id: int | None) -> str:
    return f"case:{case_id}" if case_id is not None else "global"


def event_digest(*, prev_hash: str, fields: dict[str, Any]) -> str:
    """Return the SHA-256 of the previous hash and the event's fields."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{payload}".encode()).hexdigest()


@functools.cache
def _seal_key(secret: str) -> bytes:
    return hashlib.sha256(f"lotse.audit.seal|{secret}".encode()).digest()


def seal_key() -> bytes:
    """The 32-byte HMAC key of the seals (LOTSE_AUDIT_SEAL_KEY, else SECRET_KEY)."""
    return _seal_key(settings.LOTSE_AUDIT_SEAL_KEY or settings.SECRET_KEY)


def event_seal(event_hash: str) -> str:
    """Return the HMAC-SHA256 of an event's hash under the seal key.

    A superuser who rewrites events and recomputes their SHA-256 links
    cannot recompute the seals without the key (`verify_audit` checks them).
    """
    return hmac.new(seal_key(), event_hash.encode(), hashlib.sha256).hexdigest()


def _seal_pads() -> tuple[bytes, bytes]:
    """HMAC's inner and outer key pads, for computing seals inside SQL."""
    key = seal_key().ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "chain_key": event.chain_key,
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "event_type": event.event_type,
        "object_type": event.object_type,
        "object_id": str(event.object_id),
        "case_id": event.case_id,
        "transition": event.transition,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "data": event.data,
    }


def audit_event_record(
    *,
    event_type: str,
    actor: Any,
    actor_role: str,
    now: datetime,
    object_type: str,
    object_id: int | str,
    case_id: int | None = None,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    chain_locked: bool = False,
) -> AuditEvent:
    """Append one event to its hash chain.

    `chain_locked=True` says the caller already holds a lock that
    serialises every append to this chain (the case row lock for a case
    chain); otherwise an advisory lock on the chain is taken.

    Raises AuditOutsideTransaction when no transaction is open: an event
    committed apart from its change could survive the change's rollback.
    """
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_event_record needs an open transaction")
    chain_key = chain_key_for(case_id=case_id)
    if connection.vendor == "postgresql" and not chain_locked:
        # Serialise appends per chain across processes; released at commit.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [chain_key])
    event = AuditEvent(
        chain_key=chain_key,
        occurred_at=now,
        actor=actor,
        actor_role=actor_role,
        event_type=event_type,
        object_type=object_type,
        object_id=str(object_id),
        case_id=case_id,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )
    if connection.vendor == "postgresql" and _append_in_one_statement(event):
        return event
    with connection.cursor() as cursor:
        # Plain SQL: this runs inside every transition (see `make bench`).
        cursor.execute(
            "SELECT seq, hash FROM audit_auditevent WHERE chain_key = %s ORDER BY seq DESC LIMIT 1",
            [chain_key],
        )
        last = cursor.fetchone()
        event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.hash = event_digest(prev_hash=event.prev_hash, fields=hashed_fields(event))
        event.seal = event_seal(event.hash)
        _insert(event, cursor)
    return event


_INSERT_COLUMNS = (
    "chain_key",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_role",
    "event_type",
    "object_type",
    "object_id",
    "case_id",
    "transition",
    "from_state",
    "to_state",
    "reason",
    "data",
    "prev_hash",
    "hash",
    "seal",
)
_INSERT_SQL = "INSERT INTO audit_auditevent ({}) VALUES ({}) RETURNING id".format(  # noqa: S608
    ", ".join(_INSERT_COLUMNS), ", ".join(["%s"] * len(_INSERT_COLUMNS))
)


# PostgreSQL appends in one round trip: the head of the chain is read, and
# the event's seq, prev_hash and hash are computed, inside the INSERT. The
# hash is the same SHA-256 over the same canonical JSON as `event_digest`
# (which `verify_audit` recomputes): Python serialises the fields with a
# sentinel in place of the seq, SQL puts the real seq there.
_SEQ_SENTINEL = 918273645546372819
_APPEND_SQL = """
WITH head AS (
    SELECT seq, hash FROM audit_auditevent WHERE chain_key = %s ORDER BY seq DESC LIMIT 1
), nxt AS (
    SELECT COALESCE((SELECT seq FROM head), 0) + 1 AS seq,
           COALESCE((SELECT hash FROM head), %s::text) AS prev
), calc AS (
    SELECT nxt.seq, nxt.prev, encode(sha256(convert_to(
               nxt.prev || '|' || %s::text || nxt.seq::text || %s::text, 'UTF8'
           )), 'hex') AS hash
    FROM nxt
)
INSERT INTO audit_auditevent ({columns}, seq, prev_hash, hash, seal)
SELECT {values}, calc.seq, calc.prev, calc.hash,
       encode(sha256(%s::bytea || sha256(%s::bytea || convert_to(calc.hash, 'UTF8'))), 'hex')
FROM calc
RETURNING id, seq, prev_hash, hash, seal
"""


def _append_in_one_statement(event: AuditEvent) -> bool:
    fields = hashed_fields(event)
    fields["seq"] = _SEQ_SENTINEL
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    marker = f'"seq":{_SEQ_SENTINEL}'
    if payload.count(marker) != 1:  # the data happens to hold the sentinel
        return False
    before, after = payload.split(marker)
    columns = [c for c in _INSERT_COLUMNS if c not in ("seq", "prev_hash", "hash", "seal")]
    sql = _APPEND_SQL.format(columns=", ".join(columns), values=", ".join(["%s"] * len(columns)))
    values = _values(event)
    by_column = dict(zip(_INSERT_COLUMNS, values, strict=True))
    inner, outer = _seal_pads()
    params = [
        event.chain_key,
        GENESIS_HASH,
        before + '"seq":',
        after,
        *[by_column[c] for c in columns],
        outer,
        inner,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.pk, event.seq, event.prev_hash, event.hash, event.seal = cursor.fetchone()
    event._state.adding = False
    return True


def _values(event: AuditEvent) -> list[Any]:
    ops = connection.ops
    return [
        event.chain_key,
        event.seq,
        ops.adapt_datetimefield_value(event.occurred_at),
        event.actor_id,
        event.actor_role,
        event.event_type,
        event.object_type,
        event.object_id,
        event.case_id,
        event.transition,
        event.from_state,
        event.to_state,
        event.reason,
        ops.adapt_json_value(event.data, None),
        event.prev_hash,
        event.hash,
        event.seal,
    ]


def _insert(event: AuditEvent, cursor: Any) -> None:
    """Insert with one prepared statement instead of the ORM's save().

    Every transition writes one event; this path is measured by
    `make bench`. Values are adapted by the backend like the ORM would.
    """
    values = _values(event)
    cursor.execute(_INSERT_SQL, values)
    event.pk = cursor.fetchone()[0]
    event._state.adding = False


def read_access_record(*, user: Any, case_id: int, view: str, now: datetime) -> ReadAccess:
    """Log one read of a case's data (its own short transaction if none)."""
    with transaction.atomic():
        return ReadAccess.objects.create(
            user=user, user_role=user.role, case_id=case_id, view=view, accessed_at=now
        )


def report_read_record(
    *,
    user: Any,
    report: str,
    scope: tuple[str, int],
    period: tuple[date, date],
    view: str,
    now: datetime,
) -> ReportRead:
    """Log one read of report figures (its own short transaction if none):
    `report` of `scope` (unit kind and id) for `period` (first and last
    day), through `view`."""
    with transaction.atomic():
        return ReportRead.objects.create(
            user=user,
            user_role=user.role,
            report=report,
            scope_kind=scope[0],
            scope_id=scope[1],
            period_from=period[0],
            period_to=period[1],
            view=view,
            accessed_at=now,
        )


def read_accesses_record(*, user: Any, case_ids: list[int], view: str, now: datetime) -> None:
    """Log that a list page showed personal data of these cases."""
    ReadAccess.objects.bulk_create(
        ReadAccess(user=user, user_role=user.role, case_id=case_id, view=view, accessed_at=now)
        for case_id in case_ids
    )
