"""Signed chain heads kept outside the database (anchors), and their check.

A superuser of the database can delete a whole chain, cut its last events
or rewrite a tail and recompute the plain SHA-256 links: the chain itself
then looks intact. An anchor, written on a schedule (beat task
`audit.tasks.audit_anchor_task`, or `manage.py audit_anchor`) into
LOTSE_AUDIT_ANCHOR_DIR, records what the trail held at that moment:

- the registry of chains: for each chain changed since the last anchor its
  length and head hash (later anchors override earlier ones, so together
  they list every chain);
- the number of audit events and of read-log rows up to the highest id
  seen, so deleted rows anywhere (a whole chain, read-log rows) show as a
  smaller count.

Each anchor is one JSON file, signed with an HMAC-SHA256 under
LOTSE_AUDIT_ANCHOR_KEY (by default derived from SECRET_KEY, which the
database does not hold). In production the directory is a mount the
database and its roles cannot write (another host, a WORM bucket synced
from it). `verify_audit` reads every anchor and reports each deleted
chain, deleted last event, rewritten tail and deleted read-log rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from audit.models import AuditEvent, ReadAccess


@dataclass
class AnchorProblem:
    chain_key: str
    seq: int | None
    problem: str


def _key() -> bytes:
    secret = settings.LOTSE_AUDIT_ANCHOR_KEY or settings.SECRET_KEY
    return hashlib.sha256(f"lotse.audit.anchor|{secret}".encode()).digest()


def _sign(body: dict[str, Any]) -> str:
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def _directory() -> Path:
    return Path(settings.LOTSE_AUDIT_ANCHOR_DIR)


def _anchors() -> list[tuple[Path, dict[str, Any] | None]]:
    """All anchor files in order; None for a file that is not a valid anchor."""
    folder = _directory()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("anchor-*.json")):
        try:
            document = json.loads(path.read_text())
            body, signature = document["body"], document["signature"]
            valid = hmac.compare_digest(_sign(body), str(signature))
        except (OSError, ValueError, KeyError, TypeError):
            valid, body = False, None
        found.append((path, body if valid else None))
    return found


def audit_anchor_write(*, now: datetime) -> Path:
    """Write one signed anchor of the trail as it is now; return its path."""
    previous = [body for _path, body in _anchors() if body is not None]
    since = previous[-1]["events_max_id"] if previous else 0
    events = AuditEvent.objects.aggregate(n=Count("id"), top=Max("id"))
    reads = ReadAccess.objects.aggregate(n=Count("id"), top=Max("id"))
    changed = (
        AuditEvent.objects.filter(id__gt=since)
        .values("chain_key")
        .annotate(length=Max("seq"))
        .order_by("chain_key")
    )
    chains = {}
    for row in changed:
        head = AuditEvent.objects.only("hash").get(chain_key=row["chain_key"], seq=row["length"])
        chains[row["chain_key"]] = [row["length"], head.hash]
    body = {
        "written_at": now.isoformat(),
        "events_max_id": events["top"] or 0,
        "events_count": events["n"],
        "reads_max_id": reads["top"] or 0,
        "reads_count": reads["n"],
        "chains": chains,
    }
    folder = _directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"anchor-{now.strftime('%Y%m%dT%H%M%S%fZ')}-{events['top'] or 0}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"body": body, "signature": _sign(body)}, sort_keys=True))
    os.replace(temporary, path)
    return path


def audit_anchors_verify() -> list[AnchorProblem]:
    """Compare the trail with every anchor; return what is missing or rewritten."""
    problems: list[AnchorProblem] = []
    registry: dict[str, list[Any]] = {}
    latest: dict[str, Any] | None = None
    for path, body in _anchors():
        if body is None:
            problems.append(AnchorProblem("anchor", None, f"{path.name}: signature invalid"))
            continue
        registry.update(body["chains"])
        latest = body
    if latest is None:
        return problems
    heads = {
        row["chain_key"]: row["length"]
        for row in AuditEvent.objects.values("chain_key").annotate(length=Max("seq"))
    }
    for chain_key, (length, head_hash) in sorted(registry.items()):
        now_length = heads.get(chain_key)
        if now_length is None:
            problems.append(
                AnchorProblem(chain_key, None, f"deleted chain: the anchor knows {length} events")
            )
            continue
        if now_length < length:
            problems.append(
                AnchorProblem(
                    chain_key,
                    now_length + 1,
                    f"deleted last event(s): the chain ends at {now_length}, "
                    f"the anchor knows {length}",
                )
            )
            continue
        event = AuditEvent.objects.filter(chain_key=chain_key, seq=length).only("hash").first()
        if event is None or event.hash != head_hash:
            problems.append(
                AnchorProblem(
                    chain_key,
                    length,
                    "rewritten: the event at the anchored head has another hash (re-hashed tail)",
                )
            )
    events = AuditEvent.objects.filter(id__lte=latest["events_max_id"]).count()
    # Fewer rows than anchored is a deletion (more: a transaction that
    # committed after the anchor with a lower id).
    if events < latest["events_count"]:
        problems.append(
            AnchorProblem(
                "events",
                None,
                f"deleted audit events: {events} of the {latest['events_count']} anchored remain",
            )
        )
    reads = ReadAccess.objects.filter(id__lte=latest["reads_max_id"]).count()
    if reads < latest["reads_count"]:
        problems.append(
            AnchorProblem(
                "read log",
                None,
                f"deleted read-log rows: {reads} of the {latest['reads_count']} anchored remain",
            )
        )
    return problems
