"""Four sweeps at once over many due deadlines (RELIABILITY.md C5).

Each sweep runs in its own thread with its own PostgreSQL connection, all
released together: every due case is moved exactly once (one transition,
one audit event, one notification), and a second round changes nothing.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count

from audit.models import AuditEvent
from cases.models import Case, CaseStatus
from notifications import services
from notifications.models import Notification, NotificationKind
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, manager_in
from tests.cases.test_concurrency import on_postgres_with_commits
from tests.notifications.factories import bulk_cases

# 10,000 is the goal (C5); on the shared 2-core CI machine that takes
# minutes, so CI runs 2,000 and the nightly run sets LOTSE_SWEEP_TEST_DUE.
DUE = int(os.environ.get("LOTSE_SWEEP_TEST_DUE", "2000"))
SWEEPS = 4


def four_sweeps(now):
    """Start four sweeps together, each in its own thread and connection."""
    barrier = threading.Barrier(SWEEPS, timeout=30)
    results: list[object] = [None] * SWEEPS

    def sweep(index: int) -> None:
        try:
            barrier.wait()
            results[index] = services.deadline_sweep(name="no_show_timeout", now=now)
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(SWEEPS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a sweep hung"
    assert all(isinstance(r, services.SweepResult) for r in results), results
    print(f"4 sweeps over {DUE} due cases: {time.monotonic() - started:.1f} s")
    return results


@on_postgres_with_commits
def test_four_sweeps_at_once_move_each_due_case_exactly_once() -> None:
    owner = manager_in(TeamFactory())
    now = T0 + timedelta(days=settings.LOTSE_NO_SHOW_DAYS)
    due = bulk_cases(owner=owner, count=DUE, status=CaseStatus.REGISTERED, registered_at=T0)
    not_due = bulk_cases(
        owner=owner, count=50, status=CaseStatus.REGISTERED, registered_at=now - timedelta(days=1)
    )

    first = four_sweeps(now)

    assert sum(result.done for result in first) == DUE
    assert sum(result.failed for result in first) == 0
    assert all(result.done > 0 for result in first), "the sweeps did not share the work"
    events = AuditEvent.objects.filter(event_type="cases.case.no_show_timeout")
    per_case = events.values("case_id").annotate(n=Count("id"))
    assert events.count() == DUE
    assert {row["n"] for row in per_case} == {1}
    assert sorted(events.values_list("case_id", flat=True)) == due
    assert Case.objects.filter(pk__in=due, status=CaseStatus.REJECTED).count() == DUE
    assert Case.objects.filter(pk__in=not_due, status=CaseStatus.REGISTERED).count() == 50
    notified = Notification.objects.filter(kind=NotificationKind.DEADLINE_REACHED)
    assert sorted(notified.values_list("case_id", flat=True)) == due
    audit_rows, notifications = AuditEvent.objects.count(), Notification.objects.count()

    second = four_sweeps(now)

    assert [(r.done, r.failed) for r in second] == [(0, 0)] * SWEEPS
    assert (AuditEvent.objects.count(), Notification.objects.count()) == (
        audit_rows,
        notifications,
    )
