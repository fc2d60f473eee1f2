"""Tampering with a copy of the trail is always found (RELIABILITY.md A4).

100 seeded trials each: one field altered, one event deleted or two events
swapped at random positions. The verifier must name exactly the first
broken link: in the database (`verify_audit`, PostgreSQL, edited with
`session_replication_role = replica` as a superuser could) and in an
exported JSON copy (`audit/verify_export.py`, standard library only).
"""

from __future__ import annotations

import ast
import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.exports import case_history_json
from audit.lines import event_line
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.verify_export import first_broken_link
from cases.models import CaseStatus
from tests.cases.factories import T0, journey_to

pytestmark = pytest.mark.django_db

TRIALS = 100
# Hashed fields a superuser could edit in place, with an edit that changes them.
FIELD_EDITS = {
    "event_type": "event_type = event_type || 'x'",
    "reason": "reason = reason || 'x'",
    "actor_role": "actor_role = 'ADMINISTRATOR'",
    "object_type": "object_type = object_type || 'x'",
    "object_id": "object_id = object_id || '0'",
    "case_id": "case_id = case_id + 1000",
    "transition": "transition = transition || 'x'",
    "from_state": "from_state = from_state || 'x'",
    "to_state": "to_state = to_state || 'x'",
    "occurred_at": "occurred_at = occurred_at + interval '1 second'",
    "data": """data = data || '{"forged": true}'::jsonb""",
    "actor_id": "actor_id = NULLIF(COALESCE(actor_id, 0) + 1, 0)",
}


def _chain(case_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain_key=f"case:{case_id}").order_by("seq"))


def _as_superuser(statements: list[tuple[str, list[Any]]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def _tamper_in_database(rng: random.Random, events: list[AuditEvent]) -> tuple[int, Any, str]:
    """Tamper once; return the (seq, event id, problem) that must be named."""
    n = len(events)
    kind = rng.choice(["alter", "delete", "swap"])
    if kind == "alter":
        k = rng.randint(1, n)
        name = rng.choice(sorted(FIELD_EDITS))
        sql = f"UPDATE audit_auditevent SET {FIELD_EDITS[name]} WHERE id = %s"  # noqa: S608
        _as_superuser([(sql, [events[k - 1].pk])])
        return k, events[k - 1].pk, "event content does not match its hash"
    if kind == "delete":
        k = rng.randint(1, n)
        _as_superuser([("DELETE FROM audit_auditevent WHERE id = %s", [events[k - 1].pk])])
        if k == n:  # cut off at the end: only the head kept elsewhere shows it
            return n, None, "missing: the chain ends before the known head"
        return k + 1, events[k].pk, f"sequence gap: expected {k}, found {k + 1}"
    i, j = sorted(rng.sample(range(1, n + 1), 2))
    first, second = events[i - 1].pk, events[j - 1].pk
    _as_superuser(
        [
            ("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [10**12, first]),
            ("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [i, second]),
            ("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [j, first]),
        ]
    )
    return i, second, "link to the previous event does not match"


@pytest.mark.postgres
def test_verify_audit_finds_every_tampering_with_the_right_first_link() -> None:
    case = journey_to(CaseStatus.CLOSED)
    events = _chain(case.pk)
    chain_key, head = f"case:{case.pk}", events[-1].hash
    rng = random.Random(4711)
    assert len(events) >= 20
    assert audit_chain_verify(chain_key=chain_key, heads={chain_key: head}) == []

    for trial in range(TRIALS):
        with transaction.atomic():
            expected = _tamper_in_database(rng, events)
            broken = audit_chain_verify(chain_key=chain_key, heads={chain_key: head})
            transaction.set_rollback(True)  # the next trial starts from the intact copy
        assert [(b.seq, b.event_id, b.problem) for b in broken] == [expected], trial

    assert audit_chain_verify(chain_key=chain_key, heads={chain_key: head}) == []


@pytest.mark.postgres
def test_verify_audit_command_names_a_chain_cut_off_at_its_end() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    events = _chain(case.pk)
    head = events[-1].hash
    _as_superuser([("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])])

    call_command("verify_audit", "--chain", f"case:{case.pk}")  # the chain alone looks whole
    with pytest.raises(Exception, match="1 audit chain"):
        call_command(
            "verify_audit", "--chain", f"case:{case.pk}", "--head", f"case:{case.pk}={head}"
        )


def _export() -> dict[str, Any]:
    case = journey_to(CaseStatus.CLOSED, now=T0)
    document = case_history_json(
        case_id=case.pk, exported_by=case.owner, now=T0, describe=event_line
    )
    # The copy an auditor files: JSON text, read back.
    return json.loads(json.dumps(document, default=str))


def _altered(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, dict):
        return {**value, "forged": True}
    return "forged"  # None


def test_export_verifier_finds_every_tampering_with_the_right_first_link() -> None:
    original = _export()
    n = len(original["events"])
    rng = random.Random(1234)
    assert n >= 20
    assert first_broken_link(original) is None

    for trial in range(TRIALS):
        export = copy.deepcopy(original)
        events = export["events"]
        kind = rng.choice(["alter", "delete", "swap"])
        if kind == "alter":
            k = rng.randint(1, n)
            event = events[k - 1]
            name = rng.choice([*sorted(event["fields"]), "prev_hash", "hash"])
            if name in ("prev_hash", "hash"):
                event[name] = _altered(event[name])
            else:
                event["fields"][name] = _altered(event["fields"][name])
            expected = k
        elif kind == "delete":
            k = rng.randint(1, n)
            del events[k - 1]
            expected = k  # at the end: position n, the missing event
        else:
            i, j = sorted(rng.sample(range(1, n + 1), 2))
            events[i - 1], events[j - 1] = events[j - 1], events[i - 1]
            expected = i
        broken = first_broken_link(export, head=original["head_hash"])
        assert broken is not None, (trial, kind)
        assert broken[0] == expected, (trial, kind, broken)


def test_verify_export_runs_standalone_on_a_file(tmp_path: Path) -> None:
    export = _export()
    intact = tmp_path / "intact.json"
    intact.write_text(json.dumps(export), encoding="utf-8")
    export["events"][3]["fields"]["reason"] = "forged"
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(export), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]

    ok = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-I", "audit/verify_export.py", str(intact)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    bad = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "audit.verify_export", str(altered)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )

    assert ok.returncode == 0
    assert ok.stdout.startswith(f"OK case:{export['case_id']}: {len(export['events'])} events")
    assert bad.returncode == 1
    assert "first broken link at position 4: event #4: event content does not match its hash" in (
        bad.stdout
    )


def test_verify_export_needs_only_the_standard_library() -> None:
    source = Path(__file__).resolve().parents[2] / "audit" / "verify_export.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
