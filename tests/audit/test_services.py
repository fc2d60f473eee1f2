"""The audit trail is append-only and its hash chain shows tampering."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AppendOnlyError, AuditEvent, ReadAccess
from audit.selectors import audit_chain_verify
from audit.services import AuditOutsideTransaction, audit_event_record
from cases.models import CaseStatus
from tests.cases.factories import T0, journey_to

pytestmark = pytest.mark.django_db


def test_chain_of_a_journey_verifies() -> None:
    case = journey_to(CaseStatus.CLOSED)

    events = list(AuditEvent.objects.filter(case_id=case.pk).order_by("seq"))

    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))
    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []


def _raw(sql: str, params: list[object]) -> None:
    # Simulates a superuser editing the table behind the application's back.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_verifier_names_a_changed_event() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    third = AuditEvent.objects.get(case_id=case.pk, seq=3)

    _raw("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["forged", third.pk])

    broken = audit_chain_verify(chain_key=f"case:{case.pk}")
    assert [(b.seq, b.event_id, b.problem) for b in broken] == [
        (3, third.pk, "event content does not match its hash")
    ]


def test_verifier_names_a_deleted_event() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    second = AuditEvent.objects.get(case_id=case.pk, seq=2)

    _raw("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])

    broken = audit_chain_verify(chain_key=f"case:{case.pk}")
    assert [(b.seq, b.problem) for b in broken] == [(3, "sequence gap: expected 2, found 3")]


def test_verify_command_fails_on_a_broken_chain() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    _raw(
        "UPDATE audit_auditevent SET to_state = %s WHERE case_id = %s AND seq = 1",
        ["CLOSED", case.pk],
    )

    with pytest.raises(Exception, match="1 audit chain"):
        call_command("verify_audit")


def test_orm_cannot_change_or_delete_audit_rows() -> None:
    case = journey_to(CaseStatus.REGISTERED)
    event = AuditEvent.objects.get(case_id=case.pk, event_type="cases.case.created")

    event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        ReadAccess.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "HANDOVER_FSA"


@pytest.mark.django_db(transaction=True)
def test_audit_event_needs_an_open_transaction() -> None:
    with pytest.raises(AuditOutsideTransaction):
        audit_event_record(
            event_type="x", actor=None, actor_role="SYSTEM", now=T0, object_type="x", object_id=1
        )
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "note": "Überprüfung – ärztliches Attest 🩺",
            "seq": 3,
            "nested": {"b": [1, 2], "a": None},
        },
        {"seq": 918273645546372819},  # the one-statement append's sentinel: falls back
    ],
)
def test_appended_events_verify_whatever_their_data(data) -> None:
    """On PostgreSQL the chain head, seq and hash are computed inside the
    INSERT; the verifier recomputes them in Python and must agree."""
    from audit.services import event_digest, hashed_fields

    events = [
        audit_event_record(
            event_type="test.event",
            actor=None,
            actor_role="SYSTEM",
            now=T0,
            object_type="test",
            object_id=n,
            case_id=None,
            reason="Grüße",
            data=data,
        )
        for n in range(3)
    ]

    stored = list(AuditEvent.objects.filter(chain_key="global").order_by("seq"))
    assert [(e.seq, e.prev_hash, e.hash) for e in stored[-3:]] == [
        (e.seq, e.prev_hash, e.hash) for e in events
    ]
    for event in stored:
        assert event.hash == event_digest(prev_hash=event.prev_hash, fields=hashed_fields(event))
    assert audit_chain_verify(chain_key="global") == []
