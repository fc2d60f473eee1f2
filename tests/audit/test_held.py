"""Held events (audit.services.held_events): a case transition's UPDATE and
audit event ride in the flow restart's write, and nothing is ever read
before it is written or left unwritten at the end of the transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import (
    SYSTEM_ROLE,
    audit_event_record,
    held_events,
    held_kept,
)
from cases import services
from cases.models import Case, CaseStatus
from tests.cases.factories import T0, journey_to

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(days=3)


def _event(case: Case, kind: str) -> dict[str, object]:
    return {
        "event_type": kind,
        "actor": None,
        "actor_role": SYSTEM_ROLE,
        "now": LATER,
        "object_type": "case",
        "object_id": case.pk,
        "case_id": case.pk,
        "chain_locked": True,
    }


def _events(case: Case) -> list[str]:
    return list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def test_a_transition_sends_its_update_and_event_with_the_restart() -> None:
    case = journey_to(CaseStatus.ACTIVE)

    with CaptureQueriesContext(connection) as queries:
        services.case_transition(
            case=case.pk, name="pause", actor=case.owner, now=LATER, reason="OTHER"
        )

    writes = [q["sql"] for q in queries if "INSERT INTO audit_auditevent" in q["sql"]]
    if connection.vendor == "postgresql":
        # The case UPDATE, the transition's event, the cancel, the new
        # process and its task events: one statement.
        assert len(writes) == 1
        assert "UPDATE cases_case" in writes[0]
        assert "INSERT INTO viewflow_task" in writes[0]
    else:  # elsewhere every event is written at once
        assert len(writes) >= 2
    case.refresh_from_db()
    assert case.status == CaseStatus.DORMANT
    # The ACTIVE case's open work was timers (cancelled without an event);
    # the DORMANT case's resume task is assigned after the pause.
    assert _events(case)[-2:] == ["cases.case.pause", "workflows.task.assigned"]
    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []


def test_another_statement_sends_the_held_event_first() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    before = len(_events(case))

    with transaction.atomic(), held_events():
        audit_event_record(hold=True, **_event(case, "test.held"))
        # Any statement sent meanwhile, here a read of the chain itself,
        # finds the event written.
        assert _events(case)[before:] == ["test.held"]

    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []


def test_a_read_under_held_kept_leaves_it_held_until_the_end_of_the_scope() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    before = len(_events(case))

    with transaction.atomic():
        with held_events():
            audit_event_record(hold=True, **_event(case, "test.held"))
            with held_kept():
                seen = _events(case)[before:]
        written = _events(case)[before:]

    # On PostgreSQL the read under held_kept() does not see it (it is still
    # held); the end of held_events() wrote it. Elsewhere nothing is held.
    assert seen == ([] if connection.vendor == "postgresql" else ["test.held"])
    assert written == ["test.held"]
    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []


def test_an_error_in_the_scope_writes_nothing() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    before = _events(case)

    def failing_change() -> None:
        with transaction.atomic(), held_events():
            audit_event_record(hold=True, **_event(case, "test.held"))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    assert _events(case) == before
    with transaction.atomic(), held_events():  # the next scope starts empty
        audit_event_record(hold=True, **_event(case, "test.next"))
    assert _events(case) == [*before, "test.next"]
    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []


def test_without_a_scope_hold_writes_at_once() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    before = len(_events(case))

    with transaction.atomic():
        audit_event_record(hold=True, **_event(case, "test.unheld"))
        assert _events(case)[before:] == ["test.unheld"]


def test_when_the_events_cannot_ride_along_they_go_one_by_one_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An event whose fields happen to hold a sentinel cannot be appended
    inside another statement (`append_statement` returns None): the held
    transition event is then sent before the restart's write, the task
    events after it, and the chain stays in order."""
    from audit import services as audit_services

    case = journey_to(CaseStatus.ACTIVE)
    monkeypatch.setattr(audit_services, "append_statement", lambda *args, **kwargs: None)

    services.case_transition(
        case=case.pk, name="pause", actor=case.owner, now=LATER, reason="OTHER"
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.DORMANT
    assert _events(case)[-2:] == ["cases.case.pause", "workflows.task.assigned"]
    assert audit_chain_verify(chain_key=f"case:{case.pk}") == []
