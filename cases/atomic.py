"""The transaction of a case service, and when its savepoint is redundant.

A case service runs in `transaction.atomic()`: alone it opens the
transaction; nested in a caller's transaction it sets a savepoint, so that
its failure rolls back only its own writes and the caller can go on. A
guided task step (workflows.nodes.guarded) never goes on after a failed
service: every error rolls back the whole request, the task's rows
included. There the savepoint costs two statements per service call and
protects nothing, so the step runs the services `all_or_nothing()`: nested
services then join the caller's transaction without a savepoint, and a
failure marks that whole transaction for rollback (Django refuses any
further statement in it until it is rolled back).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_all_or_nothing: ContextVar[bool] = ContextVar("lotse_all_or_nothing", default=False)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """Inside, the caller rolls back its whole transaction on any error of
    a case service; the services need no savepoints of their own."""
    token = _all_or_nothing.set(True)
    try:
        yield
    finally:
        _all_or_nothing.reset(token)


def service_atomic() -> transaction.Atomic:
    """`transaction.atomic()` for a case service (see the module doc)."""
    return transaction.atomic(savepoint=not _all_or_nothing.get())
