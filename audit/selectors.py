"""Reads of the audit trail, and verification of the hash chains."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case as DbCase
from django.db.models import CharField, Count, F, Max, Min, Q, QuerySet, Value, When

from audit.models import AuditEvent, ReadAccess, ReportRead
from audit.services import GENESIS_HASH, event_digest, event_seal, hashed_fields


def case_events(*, case_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(chain_key=f"case:{case_id}").order_by("seq")


def case_read_accesses(*, case_id: int) -> QuerySet[ReadAccess]:
    return ReadAccess.objects.filter(case_id=case_id).order_by("accessed_at", "pk")


@dataclass(frozen=True)
class BrokenLink:
    chain_key: str
    seq: int
    event_id: int | None
    problem: str


def audit_chain_verify(
    *, chain_key: str | None = None, heads: dict[str, str] | None = None
) -> list[BrokenLink]:
    """Return the first broken link of each chain (empty when all hold).

    A changed field breaks the event's own hash, a deleted row leaves a gap
    in `seq`, swapped rows break the predecessor links. Events cut off at
    the end of a chain leave no trace in the chain itself: `heads` maps
    chain keys to a head hash kept elsewhere, which the chain must reach.
    """
    events = AuditEvent.objects.order_by("chain_key", "seq")
    if chain_key is not None:
        events = events.filter(chain_key=chain_key)
    broken: list[BrokenLink] = []
    heads = dict(heads or {})
    seen: dict[str, tuple[int, str]] = {}
    current_chain, expected_seq, prev_hash, skip = None, 1, GENESIS_HASH, False
    sealed = False
    for event in events.iterator(chunk_size=2000):
        if event.chain_key != current_chain:
            current_chain, expected_seq, prev_hash, skip = event.chain_key, 1, GENESIS_HASH, False
            sealed = False
        if skip:
            continue
        problem = ""
        if event.seq != expected_seq:
            problem = f"sequence gap: expected {expected_seq}, found {event.seq}"
        elif event.prev_hash != prev_hash:
            problem = "link to the previous event does not match"
        elif event_digest(prev_hash=event.prev_hash, fields=hashed_fields(event)) != event.hash:
            problem = "event content does not match its hash"
        elif event.seal and not hmac.compare_digest(event.seal, event_seal(event.hash)):
            problem = "seal does not match: the event was rewritten without the key"
        elif not event.seal and sealed:
            problem = "unsealed event after sealed ones: rewritten with plain SHA-256"
        if problem:
            broken.append(BrokenLink(event.chain_key, event.seq, event.pk, problem))
            skip = True
            seen.pop(event.chain_key, None)
            heads.pop(event.chain_key, None)
            continue
        expected_seq, prev_hash = event.seq + 1, event.hash
        sealed = sealed or bool(event.seal)
        seen[event.chain_key] = (expected_seq, prev_hash)
    for key, head in heads.items():
        next_seq, last_hash = seen.get(key, (1, GENESIS_HASH))
        if head != last_hash:
            broken.append(
                BrokenLink(key, next_seq, None, "missing: the chain ends before the known head")
            )
    return broken


@dataclass
class Replay:
    """The rows rebuilt from a chain's recorded changes.

    `rows`: {model label: {id: {field: value or {"digest": ..}}}} for rows
    created (or snapshotted) in the chain; `outside`: changes of rows the
    chain did not create (for example a consent of the person recorded in
    another case); `conflicts`: updates whose recorded old value is not
    what the replay had at that point.
    """

    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    outside: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def chain_replay(*, chain_key: str) -> Replay:
    """Replay the changes recorded in a chain's events, in order."""
    replay = Replay()
    events = AuditEvent.objects.filter(chain_key=chain_key).order_by("seq")
    for seq, data in events.values_list("seq", "data").iterator(chunk_size=2000):
        for change in (data or {}).get("changes", ()):
            label, pk, op = change["model"], str(change["id"]), change["op"]
            if op == "delete":
                # A row removed (a member leaving the household).
                replay.rows.get(label, {}).pop(pk, None)
                replay.outside.get(label, {}).pop(pk, None)
                continue
            if op in ("create", "snapshot"):
                row = replay.rows.setdefault(label, {}).setdefault(pk, {})
                row.clear()
            elif pk in replay.rows.get(label, {}):
                row = replay.rows[label][pk]
            else:
                row = replay.outside.setdefault(label, {}).setdefault(pk, {})
            for name, delta in change["fields"].items():
                if "digest" in delta:
                    row[name] = {"digest": delta["digest"]}
                    continue
                if op == "update" and name in row and row[name] != delta.get("old"):
                    replay.conflicts.append(
                        f"#{seq} {label} {pk} {name}: recorded old value differs from the replay"
                    )
                row[name] = delta["new"]
    return replay


def case_replay(*, case_id: int) -> Replay:
    """Replay the case chain of `case_id` from its creation."""
    return chain_replay(chain_key=f"case:{case_id}")


# --- the auditor's case timeline ---------------------------------------------

KIND_TRANSITION = "transition"
KIND_EDIT = "edit"
KIND_TASK = "task"
KIND_READ = "read"
KINDS = (KIND_TRANSITION, KIND_EDIT, KIND_TASK, KIND_READ)


@dataclass(frozen=True)
class TimelineFilter:
    kind: str = ""
    actor_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _event_kind() -> Any:
    return DbCase(
        When(event_type__startswith="workflows.task.", then=Value(KIND_TASK)),
        When(~Q(transition=""), then=Value(KIND_TRANSITION)),
        default=Value(KIND_EDIT),
        output_field=CharField(),
    )


def case_timeline(*, case_id: int, filters: TimelineFilter) -> QuerySet[Any]:
    """Return the case's events and read accesses as one ordered stream.

    Each row is a dict with `at`, `kind`, `user_id` and `ref` (the event
    or read-access id); `timeline_rows` loads the page's rows. One UNION
    query, so that a page of a case with a long read log stays cheap.
    """
    events = AuditEvent.objects.filter(chain_key=f"case:{case_id}")
    reads = ReadAccess.objects.filter(case_id=case_id)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
        reads = reads.filter(user_id=filters.actor_id)
    if filters.since is not None:
        events = events.filter(occurred_at__gte=filters.since)
        reads = reads.filter(accessed_at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(occurred_at__lt=filters.until)
        reads = reads.filter(accessed_at__lt=filters.until)
    events = events.annotate(kind=_event_kind())
    if filters.kind in (KIND_TRANSITION, KIND_EDIT, KIND_TASK):
        events = events.filter(kind=filters.kind)
    # Events of one moment keep their chain order (ids grow with seq);
    # reads of that moment follow them.
    event_rows = events.annotate(
        at=F("occurred_at"), user_id=F("actor_id"), ref=F("pk"), src=Value(0)
    ).values("at", "src", "ref", "kind", "user_id")
    read_rows = reads.annotate(
        at=F("accessed_at"),
        src=Value(1),
        ref=F("pk"),
        kind=Value(KIND_READ, output_field=CharField()),
    ).values("at", "src", "ref", "kind", "user_id")
    if filters.kind == KIND_READ:
        return read_rows.order_by("at", "ref")
    if filters.kind:
        return event_rows.order_by("at", "ref")
    return event_rows.union(read_rows, all=True).order_by("at", "src", "ref")


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    user_id: int | None
    event: AuditEvent | None = None
    read: ReadAccess | None = None


def timeline_rows(rows: list[dict[str, Any]]) -> list[TimelineRow]:
    """Load the events and read accesses of one page of `case_timeline`."""
    event_ids = [row["ref"] for row in rows if row["kind"] != KIND_READ]
    read_ids = [row["ref"] for row in rows if row["kind"] == KIND_READ]
    events = AuditEvent.objects.select_related("actor").in_bulk(event_ids)
    reads = ReadAccess.objects.select_related("user").in_bulk(read_ids)
    return [
        TimelineRow(
            at=row["at"],
            kind=row["kind"],
            user_id=row["user_id"],
            event=events.get(row["ref"]) if row["kind"] != KIND_READ else None,
            read=reads.get(row["ref"]) if row["kind"] == KIND_READ else None,
        )
        for row in rows
    ]


# --- access reports ----------------------------------------------------------


@dataclass(frozen=True)
class AccessSummary:
    user_id: int
    user_role: str
    reads: int
    first_at: datetime
    last_at: datetime


def case_access_summary(*, case_id: int, since: datetime, until: datetime) -> list[AccessSummary]:
    """Who accessed case `case_id` in [since, until): one row per user."""
    rows = (
        ReadAccess.objects.filter(case_id=case_id, accessed_at__gte=since, accessed_at__lt=until)
        .values("user_id", "user_role")
        .annotate(reads=Count("*"), first_at=Min("accessed_at"), last_at=Max("accessed_at"))
        .order_by("-reads", "user_id", "user_role")
    )
    return [AccessSummary(**row) for row in rows]


def case_accesses(*, case_id: int, since: datetime, until: datetime) -> QuerySet[ReadAccess]:
    """Every read of case `case_id` in [since, until), oldest first."""
    return ReadAccess.objects.filter(
        case_id=case_id, accessed_at__gte=since, accessed_at__lt=until
    ).order_by("accessed_at", "pk")


def user_accesses(
    *, user_id: int, since: datetime, until: datetime, case_ids: QuerySet[Any] | None = None
) -> QuerySet[ReadAccess]:
    """Every read by user `user_id` in [since, until), oldest first,
    restricted to `case_ids` (a subquery of the cases the reader may see)."""
    reads = ReadAccess.objects.filter(
        user_id=user_id, accessed_at__gte=since, accessed_at__lt=until
    )
    if case_ids is not None:
        reads = reads.filter(case_id__in=case_ids)
    return reads.order_by("accessed_at", "pk")


def user_report_reads(*, user_id: int, since: datetime, until: datetime) -> QuerySet[ReportRead]:
    """Every read of report figures by user `user_id` in [since, until),
    oldest first (figures only: any auditor of the user's Träger may see
    them)."""
    return ReportRead.objects.filter(
        user_id=user_id, accessed_at__gte=since, accessed_at__lt=until
    ).order_by("accessed_at", "pk")


def case_access_report_floor_sql() -> tuple[str, str]:
    """The report's two queries in hand-written SQL (the bench's floor)."""
    summary = (
        "SELECT user_id, user_role, count(*), min(accessed_at), max(accessed_at) "
        "FROM audit_readaccess WHERE case_id = %s AND accessed_at >= %s AND accessed_at < %s "
        "GROUP BY user_id, user_role ORDER BY 3 DESC, 1, 2"
    )
    page = (
        "SELECT id, user_id, user_role, view, accessed_at FROM audit_readaccess "
        "WHERE case_id = %s AND accessed_at >= %s AND accessed_at < %s "
        "ORDER BY accessed_at, id LIMIT %s"
    )
    return summary, page
