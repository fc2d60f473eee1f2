"""Concurrency and database-enforced invariants (RELIABILITY.md W1, W7, A2, A7).

The races run on PostgreSQL with one connection per thread (Django gives
each thread its own) and real commits (`transaction=True`); SQLite would
serialise them at BEGIN and prove nothing. The flush after each
transactional test empties the catalogues; `new_case` reloads them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from audit.models import AuditEvent
from cases import services
from cases.models import Case, CaseStatus, ExtensionRequest, ExtensionStatus
from tests.cases.factories import T0, journey_to, new_case, supervisor_of
from tests.cases.test_atomicity import NO_DIVERGENCE, audit_state_divergence

N_APPROVERS = 20
CALL_LIMIT_SECONDS = 5.0


def domain_events(case):
    """The case's own events; the task events of its flow come on top."""
    return AuditEvent.objects.filter(case_id=case.pk).exclude(event_type__startswith="workflows.")


def on_postgres_with_commits(test: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test as a real multi-connection race (PostgreSQL only)."""
    test = pytest.mark.django_db(transaction=True)(test)
    return pytest.mark.postgres(test)


def run_concurrently(calls: list[Callable[[], Any]]) -> list[tuple[str, Any, float]]:
    """Start `calls` together, each in its own thread and connection.

    Returns one (outcome, value, seconds) per call, in order: outcome is
    "ok" with the return value, or "error" with the exception raised.
    """
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[tuple[str, Any, float]] = [("missing", None, 0.0)] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            started = time.monotonic()
            try:
                results[index] = ("ok", call(), time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - every outcome is recorded and asserted
                results[index] = ("error", exc, time.monotonic() - started)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing call hung"
    return results


def errors(results: list[tuple[str, Any, float]]) -> list[Exception]:
    return [value for outcome, value, _seconds in results if outcome == "error"]


def assert_chain_gap_free(case_pk: int) -> None:
    seqs = list(
        AuditEvent.objects.filter(chain_key=f"case:{case_pk}")
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


# --- W1: twenty supervisors approve one request at once ------------------


@on_postgres_with_commits
def test_concurrent_approvals_of_one_extension_request_have_exactly_one_winner() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    request = services.extension_request_submit(
        case=case,
        actor=case.owner,
        now=T0 + timedelta(days=30),
        reason="multiple_problems",
        months=6,
        justification="Mehrere Problemlagen, Sprachkurs läuft noch.",
    )
    supervisors = [supervisor_of(case.owner.team) for _ in range(N_APPROVERS)]
    assert request.requested_by_id not in {s.pk for s in supervisors}
    events_before = domain_events(case).count()
    now = T0 + timedelta(days=31)

    results = run_concurrently(
        [
            lambda s=s: services.extension_request_approve(request=request.pk, actor=s, now=now)
            for s in supervisors
        ]
    )

    winners = [value for outcome, value, _ in results if outcome == "ok"]
    assert len(winners) == 1
    losers = errors(results)
    assert len(losers) == N_APPROVERS - 1
    assert all(isinstance(e, services.AlreadyDecided | services.ConcurrentChange) for e in losers)
    assert {e.code for e in losers} <= {"already_decided", "concurrent_change"}
    assert max(seconds for *_, seconds in results) < CALL_LIMIT_SECONDS

    request.refresh_from_db()
    case.refresh_from_db()
    assert request.status == ExtensionStatus.APPROVED
    assert request.decided_by_id == winners[0].decided_by_id
    assert ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.APPROVED).count() == 1
    approved_events = AuditEvent.objects.filter(
        case_id=case.pk, event_type="cases.extension_request.approved"
    )
    assert approved_events.count() == 1
    assert approved_events.get().actor_id == request.decided_by_id
    assert domain_events(case).count() == events_before + 1
    assert case.effective_end == request.resulting_effective_end
    assert case.effective_end > case.regular_end
    assert_chain_gap_free(case.pk)
    assert audit_state_divergence() == NO_DIVERGENCE


# --- two different transitions from the same state ------------------------


@on_postgres_with_commits
def test_racing_transitions_from_one_state_have_exactly_one_winner() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    events_before = domain_events(case).count()
    now, owner = T0 + timedelta(days=10), case.owner
    # Each caller decided on the state it saw (ACTIVE), as a form would.
    seen_by_pause, seen_by_closing = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)

    results = run_concurrently(
        [
            lambda: services.case_transition(
                case=seen_by_pause, name="pause", actor=owner, now=now, reason="OTHER"
            ),
            lambda: services.case_transition(
                case=seen_by_closing,
                name="start_closing",
                actor=owner,
                now=now,
                ground="CLIENT_REQUEST",
            ),
        ]
    )

    winners = [value for outcome, value, _ in results if outcome == "ok"]
    assert len(winners) == 1
    [loser] = errors(results)
    assert isinstance(loser, services.ConcurrentChange | services.TransitionNotAvailable)
    assert loser.code in ("concurrent_change", "transition_not_allowed")
    case.refresh_from_db()
    assert case.status == winners[0].status
    assert case.status in (CaseStatus.DORMANT, CaseStatus.CLOSING)
    events = domain_events(case)
    assert events.count() == events_before + 1
    last = events.order_by("-seq").first()
    assert (last.from_state, last.to_state) == (CaseStatus.ACTIVE, case.status)
    assert_chain_gap_free(case.pk)
    assert audit_state_divergence() == NO_DIVERGENCE


# --- W7: four eyes in the database (both databases) -----------------------


@pytest.mark.django_db
def test_check_constraint_refuses_a_raw_self_approval() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    request = services.extension_request_submit(
        case=case,
        actor=case.owner,
        now=T0 + timedelta(days=30),
        reason="multiple_problems",
        months=3,
        justification="Begründung",
    )
    supervisor = supervisor_of(case.owner.team)
    table = ExtensionRequest._meta.db_table
    with connection.cursor() as cursor:
        # Control: another person as decider is accepted.
        cursor.execute(
            f"UPDATE {table} SET decided_by_id = %s WHERE id = %s",  # noqa: S608
            [supervisor.pk, request.pk],
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(
                f"UPDATE {table} SET decided_by_id = requested_by_id WHERE id = %s",  # noqa: S608
                [request.pk],
            )
    request.refresh_from_db()
    assert request.decided_by_id == supervisor.pk


# --- A2: the audit table refuses UPDATE and DELETE (PostgreSQL triggers) --


@pytest.fixture
def audit_event(db: None) -> AuditEvent:
    case = new_case()
    return domain_events(case).get()


def raw_audit_sql(sql: str, event: AuditEvent) -> None:
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(sql.format(table=AuditEvent._meta.db_table), [event.pk])


@pytest.mark.postgres
def test_trigger_refuses_update_of_an_audit_event(audit_event: AuditEvent) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        raw_audit_sql("UPDATE {table} SET reason = 'forged' WHERE id = %s", audit_event)

    stored = AuditEvent.objects.get(pk=audit_event.pk)
    assert (stored.reason, stored.hash) == (audit_event.reason, audit_event.hash)


@pytest.mark.postgres
def test_trigger_refuses_delete_of_an_audit_event(audit_event: AuditEvent) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        raw_audit_sql("DELETE FROM {table} WHERE id = %s", audit_event)

    assert AuditEvent.objects.filter(pk=audit_event.pk).exists()
