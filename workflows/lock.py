"""The lock every case flow runs under: the case row, then the process row.

viewflow's default `no_lock` serialises nothing, and its
`SelectForUpdateLock` retries with `sleep()` inside the request and raises
`InternalError` when nested in an outer transaction (ARCHITECTURE.md, traps).
`CaseLock` takes the same two row locks in the project's one lock order
(case first, as every case service does) and waits for them at most
`LOTSE_LOCK_TIMEOUT_MS` on PostgreSQL; a wait past that raises
`FlowLockFailed`, which the views answer with 409. Nested in a transaction
that already holds the case row (a case service calling into the flow), the
locks are re-entrant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from viewflow.workflow.exceptions import FlowLockFailed

# One round trip: set the lock timeout, then lock the case row and the
# process row. set_config() is evaluated while the rows are read, before
# LockRows waits for them, so the timeout governs that wait. Every lock of
# a process row in Lotse goes through this statement or comes after the
# case row lock, so the case row serialises them all (no lock-order cycle).
_LOCK_BOTH = """
SELECT set_config('lock_timeout', %s, true), c.id
FROM workflows_caseprocess cp
JOIN cases_case c ON c.id = cp.case_id
JOIN viewflow_process p ON p.id = cp.process_ptr_id
WHERE cp.process_ptr_id = %s
FOR UPDATE OF c, p
"""
_CASE_OF_PROCESS = "SELECT case_id FROM workflows_caseprocess WHERE process_ptr_id = %s"


class CaseLock:
    """Row locks on the case and the process, in this order."""

    @contextmanager
    def __call__(self, flow_class: Any, process_pk: int) -> Iterator[None]:
        with transaction.atomic():
            try:
                self.acquire(process_pk)
            except OperationalError as error:  # lock_timeout, deadlock victim
                raise FlowLockFailed(f"Lock failed for process {process_pk}") from error
            yield

    @staticmethod
    def acquire(process_pk: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_LOCK_BOTH, [f"{settings.LOTSE_LOCK_TIMEOUT_MS}ms", process_pk])
            else:
                # SQLite needs no row locks: its IMMEDIATE transactions admit
                # one writer at a time.
                cursor.execute(_CASE_OF_PROCESS, [process_pk])
            if cursor.fetchone() is None:
                raise FlowLockFailed(f"Process {process_pk} is not a case process")


case_lock = CaseLock()
