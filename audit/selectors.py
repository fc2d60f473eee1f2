"""Reads of the audit trail, and verification of the hash chains."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from audit.models import AuditEvent, ReadAccess
from audit.services import GENESIS_HASH, event_digest, hashed_fields


def case_events(*, case_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(chain_key=f"case:{case_id}").order_by("seq")


def case_read_accesses(*, case_id: int) -> QuerySet[ReadAccess]:
    return ReadAccess.objects.filter(case_id=case_id).order_by("accessed_at", "pk")


@dataclass(frozen=True)
class BrokenLink:
    chain_key: str
    seq: int
    event_id: int
    problem: str


def audit_chain_verify(*, chain_key: str | None = None) -> list[BrokenLink]:
    """Return the first broken link of each chain (empty when all hold).

    A changed field breaks the event's own hash, a deleted row leaves a gap
    in `seq`, swapped rows break the predecessor links.
    """
    events = AuditEvent.objects.order_by("chain_key", "seq")
    if chain_key is not None:
        events = events.filter(chain_key=chain_key)
    broken: list[BrokenLink] = []
    current_chain, expected_seq, prev_hash, skip = None, 1, GENESIS_HASH, False
    for event in events.iterator(chunk_size=2000):
        if event.chain_key != current_chain:
            current_chain, expected_seq, prev_hash, skip = event.chain_key, 1, GENESIS_HASH, False
        if skip:
            continue
        problem = ""
        if event.seq != expected_seq:
            problem = f"sequence gap: expected {expected_seq}, found {event.seq}"
        elif event.prev_hash != prev_hash:
            problem = "link to the previous event does not match"
        elif event_digest(prev_hash=event.prev_hash, fields=hashed_fields(event)) != event.hash:
            problem = "event content does not match its hash"
        if problem:
            broken.append(BrokenLink(event.chain_key, event.seq, event.pk, problem))
            skip = True
            continue
        expected_seq, prev_hash = event.seq + 1, event.hash
    return broken
