"""Verify an exported case history offline (Python standard library only).

Usage::

    python audit/verify_export.py case-12-history.json [--head HASH]
    python -m audit.verify_export case-12-history.json [--head HASH]

The JSON export of a case history (Lotse: audit timeline, "Export JSON")
holds every event of the case's hash chain with the fields that were
hashed, the hash of its predecessor and its own hash. This script
recomputes the chain exactly as Lotse does when it appends an event:

    hash = SHA-256( prev_hash + "|" + canonical JSON of the fields )

canonical JSON being the fields sorted by key, no spaces, UTF-8. The first
event links to 64 zeros. It checks that the sequence numbers run 1, 2, 3,
... without gap, that every event names its predecessor's hash and that
every hash matches its content, and names the first broken link.

A chain alone cannot show that events were cut off at its end: pass the
chain head kept elsewhere (an earlier export, `manage.py verify_audit`
output shipped off the machine) with --head; without it the export's own
`head_hash` is compared, which whoever cut the events could also change.

Exit status 0: intact (the chain head is printed so it can be kept for the
next check); 1: broken; 2: unreadable file or wrong arguments.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

GENESIS_HASH = "0" * 64


def event_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """Return the SHA-256 of the previous hash and the event's fields."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{payload}".encode()).hexdigest()


def first_broken_link(export: dict[str, Any], *, head: str | None = None) -> tuple[int, str] | None:
    """Return (position, problem) of the first broken link, or None.

    `position` is the 1-based place of the event in the export; the
    problem text names the event's sequence number. `head`: the hash the
    chain is known to have reached (default: the export's `head_hash`).
    """
    prev_hash, expected_seq = GENESIS_HASH, 1
    events = export.get("events", [])
    for position, event in enumerate(events, start=1):
        fields = event.get("fields", {})
        seq = fields.get("seq")
        if seq != expected_seq:
            return position, f"event #{seq}: sequence gap: expected {expected_seq}, found {seq}"
        if event.get("prev_hash") != prev_hash:
            return position, f"event #{seq}: link to the previous event does not match"
        if event_digest(event.get("prev_hash", ""), fields) != event.get("hash"):
            return position, f"event #{seq}: event content does not match its hash"
        if fields.get("chain_key") != export.get("chain_key"):
            return position, f"event #{seq}: belongs to another chain"
        prev_hash, expected_seq = event["hash"], expected_seq + 1
    known_head = head if head is not None else export.get("head_hash", prev_hash)
    if known_head != prev_hash:
        return (
            len(events) + 1,
            f"event #{expected_seq}: missing: the chain ends before the known head",
        )
    return None


def main(argv: list[str]) -> int:
    head = None
    if len(argv) == 4 and argv[2] == "--head":
        head = argv[3]
    elif len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as handle:
            export = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"cannot read {argv[1]}: {error}", file=sys.stderr)
        return 2
    broken = first_broken_link(export, head=head)
    count = len(export.get("events", []))
    if broken is not None:
        position, problem = broken
        chain = export.get("chain_key")
        print(f"BROKEN {chain}: first broken link at position {position}: {problem}")
        return 1
    head = export["events"][-1]["hash"] if count else GENESIS_HASH
    print(f"OK {export.get('chain_key')}: {count} events, chain head {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
