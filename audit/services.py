"""Writes to the audit trail. Callers run inside their own transaction."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
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
    return _pads(seal_key())


@functools.cache
def _pads(key: bytes) -> tuple[bytes, bytes]:
    padded = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


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


def audit_event_new(
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
) -> AuditEvent:
    """Return the event `audit_event_record` would append, unsaved (for
    `append_statement`, which appends it within another statement)."""
    return AuditEvent(
        chain_key=chain_key_for(case_id=case_id),
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


@dataclass
class Preceding:
    """A write the event describes, sent in the event's own statement:
    one data-modifying SQL statement with RETURNING (run as a CTE on
    PostgreSQL, alone before the event elsewhere); `rows` is set to the
    number of rows it returned."""

    sql: str
    params: list[Any]
    rows: int | None = None

    def run(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            self.rows = len(cursor.fetchall())


def audit_event_record(
    *,
    chain_locked: bool = False,
    preceding: Preceding | None = None,
    written: Callable[[], None] | None = None,
    hold: bool = False,
    **fields: Any,
) -> AuditEvent:
    """Append one event (the fields of `audit_event_new`) to its hash chain.

    `chain_locked=True` says the caller already holds a lock that
    serialises every append to this chain (the case row lock for a case
    chain); otherwise an advisory lock on the chain is taken. `preceding`
    is a write the event describes, sent in the same round trip; `written`
    runs once the event's statement ran (it checks `preceding.rows`).

    `hold=True` inside `held_events()` (PostgreSQL, `chain_locked` only)
    keeps the event back for a later statement of the transaction to carry
    (see `held_events`); the event's pk, seq and hashes are then unset on
    the returned instance.

    Raises AuditOutsideTransaction when no transaction is open: an event
    committed apart from its change could survive the change's rollback.
    """
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_event_record needs an open transaction")
    event = audit_event_new(**fields)
    holder = _holder.get()
    if hold and chain_locked and holder is not None and connection.vendor == "postgresql":
        holder.held.append(Held(event, preceding, written))
        return event
    if connection.vendor == "postgresql" and not chain_locked:
        # Serialise appends per chain across processes; released at commit.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [event.chain_key])
    _send(event, preceding)
    if written is not None:
        written()
    return event


def _send(event: AuditEvent, preceding: Preceding | None) -> None:
    """Append `event` (and send `preceding` first) in one statement on
    PostgreSQL; elsewhere `preceding`, the chain's head and the event."""
    if connection.vendor == "postgresql":
        appended = append_statement([event], prefix="a")
        if appended is not None:
            ctes, params = appended
            count = "NULL"
            if preceding is not None:
                ctes = [f"w AS ({preceding.sql})", *ctes]
                params = [*preceding.params, *params]
                count = "(SELECT count(*) FROM w)"
            with connection.cursor() as cursor:
                cursor.execute(f"WITH {', '.join(ctes)} SELECT {count}, * FROM ai1", params)  # noqa: S608
                rows, event.pk, event.seq, event.prev_hash, event.hash, event.seal = (
                    cursor.fetchone()
                )
            if preceding is not None:
                preceding.rows = rows
            event._state.adding = False
            return
    if preceding is not None:
        preceding.run()
    with connection.cursor() as cursor:
        # Plain SQL: this runs inside every transition (see `make bench`).
        cursor.execute(
            "SELECT seq, hash FROM audit_auditevent WHERE chain_key = %s ORDER BY seq DESC LIMIT 1",
            [event.chain_key],
        )
        last = cursor.fetchone()
        event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.hash = event_digest(prev_hash=event.prev_hash, fields=hashed_fields(event))
        event.seal = event_seal(event.hash)
        _insert(event, cursor)


# --- events held back for a later statement of the transaction --------------
# A case transition outside a guided task sends its UPDATE and event, and
# then the flow restart reads the case's open tasks and writes the next
# process (workflows.fastpaths). The restart's write can carry the
# transition's UPDATE and event in its own statement: one round trip less
# on the hottest write of Lotse (see `make bench`). Inside `held_events()`,
# `audit_event_record(hold=True)` keeps the event back; every statement the
# connection sends meanwhile sends the held events first (an execute
# wrapper), except a read under `held_kept()`, whose caller vouches that it
# reads neither the event's chain nor anything the held writes change;
# `held_take` hands the held events of a chain to a writer that appends
# them, in order, before its own events of that chain, in its statement.
# Whatever is still held when `held_events()` ends is sent then, inside the
# transaction. On an error the held events are dropped with the
# transaction (the error rolls the transaction, or the caller's savepoint,
# back).


@dataclass
class Held:
    """An event held back, the write it describes, and the check to run
    once both are written (`audit_event_record`'s `preceding`, `written`)."""

    event: AuditEvent
    preceding: Preceding | None
    written: Callable[[], None] | None

    def sent(self) -> None:
        self.event._state.adding = False
        if self.written is not None:
            self.written()


class _Holder:
    def __init__(self) -> None:
        self.held: list[Held] = []
        self.kept = 0

    def __call__(self, execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        if self.held and not self.kept:
            self.flush()
        return execute(sql, params, many, context)

    def flush(self) -> None:
        held, self.held = self.held, []
        held_send(held)


_holder: ContextVar[_Holder | None] = ContextVar("lotse_audit_holder", default=None)


@contextmanager
def held_events() -> Iterator[None]:
    """The scope in which `audit_event_record(hold=True)` may hold events
    back (see above); sends what is still held at its end. PostgreSQL only:
    elsewhere events are written at once."""
    if connection.vendor != "postgresql":
        yield
        return
    holder = _Holder()
    token = _holder.set(holder)
    try:
        with connection.execute_wrapper(holder):
            yield
            holder.flush()
    finally:
        _holder.reset(token)


@contextmanager
def held_kept() -> Iterator[None]:
    """Statements sent inside leave the held events held: for a read that
    touches neither the held events' chains nor the rows their writes
    change."""
    holder = _holder.get()
    if holder is None:
        yield
        return
    holder.kept += 1
    try:
        yield
    finally:
        holder.kept -= 1


def held_take(chain_key: str) -> list[Held]:
    """Hand the held events of `chain_key` to the caller, who appends them,
    in this order and before any other event of that chain, in its next
    statement (their `preceding` writes with it, each `rows` set), then
    calls `sent()` on each."""
    holder = _holder.get()
    if holder is None or not holder.held:
        return []
    taken = [item for item in holder.held if item.event.chain_key == chain_key]
    holder.held = [item for item in holder.held if item.event.chain_key != chain_key]
    return taken


def held_send(held: list[Held]) -> None:
    """Send taken events now, one by one (a taker that cannot append them)."""
    for item in held:
        _send(item.event, item.preceding)
        item.sent()


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
# each event's seq, prev_hash and hash are computed, inside the statement.
# The hash is the same SHA-256 over the same canonical JSON as
# `event_digest` (which `verify_audit` recomputes): Python serialises the
# fields with a sentinel in place of the seq, SQL puts the real seq there.
# Several events of one chain are chained inside the statement, each on
# the hash of the one before (the statement sees none of its own rows).
_SEQ_SENTINEL = 918273645546372819
_HEAD_CTES = """{p}h AS (
    SELECT seq, hash FROM audit_auditevent WHERE chain_key = %s ORDER BY seq DESC LIMIT 1
), {p}0 AS (
    SELECT COALESCE((SELECT seq FROM {p}h), 0) AS seq,
           COALESCE((SELECT hash FROM {p}h), %s::text) AS hash
)"""
_EVENT_CTES = """{p}{n} AS (
    SELECT c.seq + 1 AS seq, c.hash AS prev, encode(sha256(convert_to(
               c.hash || '|' || {head} || (c.seq + 1)::text || {tail}, 'UTF8'
           )), 'hex') AS hash
    FROM {p}{before} c
), {p}i{n} AS (
    INSERT INTO audit_auditevent ({columns}, seq, prev_hash, hash, seal)
    SELECT {values}, c.seq, c.prev, c.hash,
           encode(sha256(%s::bytea || sha256(%s::bytea || convert_to(c.hash, 'UTF8'))), 'hex')
    FROM {p}{n} c
    RETURNING id, seq, prev_hash, hash, seal
)"""
_APPEND_COLUMNS = [c for c in _INSERT_COLUMNS if c not in ("seq", "prev_hash", "hash", "seal")]


def append_statement(
    events: list[AuditEvent], *, prefix: str, stand_ins: dict[int, str] | None = None
) -> tuple[list[str], list[Any]] | None:
    """Return the CTEs (and their parameters) that append `events`, new
    events of one chain (`audit_event_new`), in this order, on PostgreSQL.

    The CTEs are named after `prefix`; `<prefix>i<n>` returns the id, seq,
    prev_hash, hash and seal of the n-th event (from 1). The caller runs
    them in a statement of its own, inside its transaction and holding the
    lock that serialises the chain (see `audit_event_record`); the
    statement must write no other event of that chain.

    `stand_ins` maps a number that stands in for a pk the same statement
    draws (in an event's `object_id` or as a value in its `data`) to the
    SQL of that pk; the hash, `object_id` and `data` get the pk.

    None when an event's fields happen to hold the seq sentinel or a stand-in
    elsewhere: append those one by one.
    """
    if not events or len({event.chain_key for event in events}) != 1:
        raise ValueError("append_statement appends events of one chain")
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("append_statement needs an open transaction")
    columns = ", ".join(_APPEND_COLUMNS)
    inner, outer = _seal_pads()
    ctes = [_HEAD_CTES.format(p=prefix)]
    params: list[Any] = [events[0].chain_key, GENESIS_HASH]
    for number, event in enumerate(events, start=1):
        fields = hashed_fields(event)
        fields["seq"] = _SEQ_SENTINEL
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
        marker = f'"seq":{_SEQ_SENTINEL}'
        if payload.count(marker) != 1:  # the data happens to hold the sentinel
            return None
        data_text = json.dumps(event.data)
        used = {}
        for stand_in, pk_sql in (stand_ins or {}).items():
            text = str(stand_in)
            expected = (event.object_id == text) + data_text.count(text)
            if payload.count(text) != expected:  # found elsewhere too
                return None
            if expected:
                used[text] = pk_sql
        before, after = payload.split(marker)
        by_column = dict(zip(_INSERT_COLUMNS, _values(event), strict=True))
        cells = []
        for column in _APPEND_COLUMNS:
            if column == "object_id" and event.object_id in used:
                cells.append(f"({used[event.object_id]})::text")
                continue
            if column == "data" and any(text in data_text for text in used):
                cells.append(_replaced("%s::text", used, data_text) + "::jsonb")
                params_value: Any = data_text
            else:
                cells.append("%s")
                params_value = by_column[column]
            by_column[column] = params_value
        ctes.append(
            _EVENT_CTES.format(
                p=prefix,
                n=number,
                before=number - 1,
                columns=columns,
                values=", ".join(cells),
                head=_replaced("%s::text", used, before),
                tail=_replaced("%s::text", used, after),
            )
        )
        params += [
            before + '"seq":',
            after,
            *[
                by_column[c]
                for c in _APPEND_COLUMNS
                if not (c == "object_id" and event.object_id in used)
            ],
            outer,
            inner,
        ]
    return ctes, params


def _replaced(placeholder: str, used: dict[str, str], text: str) -> str:
    """SQL of `placeholder` (a text parameter holding `text`) with each
    stand-in found in `text` replaced by its pk."""
    sql = placeholder
    for stand_in, pk_sql in used.items():
        if stand_in in text:
            sql = f"replace({sql}, '{stand_in}', ({pk_sql})::text)"
    return sql


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
