"""Finding 4 of issue 22: every cut of the audit trail is seen.

As a superuser with the triggers bypassed: a whole case chain deleted,
the last event of a chain deleted, a tail rewritten with recomputed plain
SHA-256 links, read-log rows deleted. Each leaves the chains themselves
looking whole; `verify_audit` names each against the signed anchors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.anchors import audit_anchors_verify
from audit.models import AuditEvent, ReadAccess
from audit.selectors import audit_chain_verify
from audit.services import event_digest, event_seal, hashed_fields, read_access_record
from cases.models import CaseStatus
from tests.audit.test_tamper import _as_superuser, _chain
from tests.cases.factories import journey_to

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def trail():
    first, second = journey_to(CaseStatus.ACTIVE), journey_to(CaseStatus.ACTIVE)
    for case in (first, second):
        read_access_record(user=case.owner, case_id=case.pk, view="test", now=timezone.now())
    call_command("audit_anchor")
    call_command("verify_audit")  # intact against the anchor
    return first, second


def _verify_fails() -> str:
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit")
    return str(failed.value)


def test_a_deleted_chain_is_named(trail, capsys) -> None:
    first, _second = trail
    _as_superuser([("DELETE FROM audit_auditevent WHERE chain_key = %s", [f"case:{first.pk}"])])

    _verify_fails()

    assert f"case:{first.pk}: deleted chain" in capsys.readouterr().err


def test_a_deleted_last_event_is_named(trail, capsys) -> None:
    _first, second = trail
    last = _chain(second.pk)[-1]
    _as_superuser([("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])])

    _verify_fails()

    assert f"case:{second.pk} #{last.seq}: deleted last event(s)" in capsys.readouterr().err


def test_a_rehashed_tail_is_named(trail, capsys) -> None:
    _first, second = trail
    last = _chain(second.pk)[-1]
    last.reason = "FORGED"
    forged = event_digest(prev_hash=last.prev_hash, fields=hashed_fields(last))
    _as_superuser(
        [
            (
                "UPDATE audit_auditevent SET reason = %s, hash = %s WHERE id = %s",
                ["FORGED", forged, last.pk],
            )
        ]
    )

    [link] = audit_chain_verify()  # the links hold; the seal, keyed, does not
    _verify_fails()

    assert (link.seq, link.problem) == (
        last.seq,
        "seal does not match: the event was rewritten without the key",
    )
    err = capsys.readouterr().err
    assert f"case:{second.pk} #{last.seq}: rewritten" in err


def test_a_tail_rewritten_without_seals_is_named(trail) -> None:
    _first, second = trail
    last = _chain(second.pk)[-1]
    last.reason = "FORGED"
    forged = event_digest(prev_hash=last.prev_hash, fields=hashed_fields(last))
    _as_superuser(
        [
            (
                "UPDATE audit_auditevent SET reason = %s, hash = %s, seal = '' WHERE id = %s",
                ["FORGED", forged, last.pk],
            )
        ]
    )

    [link] = audit_chain_verify()

    assert link.problem == "unsealed event after sealed ones: rewritten with plain SHA-256"


def test_every_event_is_sealed_as_the_verifier_computes_it(trail) -> None:
    events = list(AuditEvent.objects.all())

    assert events
    assert all(event.seal == event_seal(event.hash) for event in events)


def test_chains_written_before_seals_still_verify(trail) -> None:
    """The migration path: events of an existing chain carry no seal; the
    chain verifies, and new events are sealed from then on."""
    first, _second = trail
    _as_superuser(
        [("UPDATE audit_auditevent SET seal = '' WHERE chain_key = %s", [f"case:{first.pk}"])]
    )
    call_command("audit_anchor")

    assert audit_chain_verify() == []


def test_deleted_read_log_rows_are_named(trail, capsys) -> None:
    row = ReadAccess.objects.order_by("id").first()
    _as_superuser([("DELETE FROM audit_readaccess WHERE id = %s", [row.pk])])

    _verify_fails()

    assert "read log: deleted read-log rows: 1 of the 2 anchored remain" in capsys.readouterr().err


def test_a_forged_anchor_is_refused(trail) -> None:
    [path] = Path(settings.LOTSE_AUDIT_ANCHOR_DIR).glob("anchor-*.json")
    document = json.loads(path.read_text())
    document["body"]["events_count"] -= 1
    path.write_text(json.dumps(document))

    problems = audit_anchors_verify()

    assert [p.problem for p in problems] == [f"{path.name}: signature invalid"]


def test_new_events_after_the_anchor_are_fine(trail) -> None:
    journey_to(CaseStatus.ACTIVE)
    call_command("verify_audit")
    call_command("audit_anchor")
    call_command("verify_audit")
    assert AuditEvent.objects.count() > 0
