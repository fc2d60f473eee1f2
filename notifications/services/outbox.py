"""The outbox: notification rows written inside the caller's transaction.

A web request never talks to the broker: it writes the rows and returns, and
the relay (`notifications_relay_task`, sent by beat every
LOTSE_RELAY_SECONDS) delivers them from the worker. Work that already runs
in the worker (sweeps, reminders, the relay itself) hands its rows to the
broker after commit, bounded by LOTSE_BROKER_TIMEOUT_SECONDS and never
raising into the caller. With eager tasks (tests, a `manage.py shell`)
delivery runs at once in the caller's thread."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from time import monotonic as time_monotonic
from typing import Any

from celery import current_app, current_task
from django.db import IntegrityError, connection, transaction

from accounts.models import Role, User
from cases.models import Case
from notifications.models import (
    Delivery,
    Notification,
    NotificationKind,
)
from notifications.publishing import call_bounded

logger = logging.getLogger("notifications.services")
K = NotificationKind


# --- enqueue (inside the caller's transaction) -----------------------------

_deferred: ContextVar[bool] = ContextVar("lotse_notifications_deferred", default=False)


@contextmanager
def publishing_deferred() -> Iterator[None]:
    """Write outbox rows without publishing per commit (sweeps, bulk work);
    the caller starts one relay at the end."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


# After a failed publish, this process stops trying for a few seconds: the
# rows wait in the outbox and the relay sweep sends them, and requests do
# not pay a connection attempt each while the broker is down.
BROKER_BACKOFF_SECONDS = 5.0
_broker_failed_at: list[float] = []


def _in_worker_task() -> bool:
    """True inside a Celery task the worker runs (not a direct call)."""
    task = current_task
    return bool(task) and not task.request.called_directly


def _publish(*, notification_ids: list[int] | None = None, relay: bool = False) -> None:
    """Hand delivery to the broker from the worker; never raise (the relay
    sweep catches up). On a request's path this does nothing: the request
    has written the outbox, the relay sends it (issue 22, finding 2)."""
    from notifications import tasks

    app = current_app._get_current_object()
    if not app.conf.task_always_eager and not _in_worker_task():
        return
    if _broker_failed_at and time_monotonic() - _broker_failed_at[-1] < BROKER_BACKOFF_SECONDS:
        return

    def publish() -> None:
        if notification_ids:
            tasks.notification_deliver_task.apply_async(
                kwargs={"notification_ids": notification_ids}, retry=False
            )
        if relay:
            tasks.notifications_relay_task.apply_async(kwargs={}, retry=False)

    try:
        call_bounded(publish, app=app)
    except Exception as exc:  # noqa: BLE001 - a broker outage must not fail the change
        _broker_failed_at[:] = [time_monotonic()]
        logger.warning("broker unavailable, outbox keeps the rows: %s", type(exc).__name__)
    else:
        _broker_failed_at.clear()


def _publish_after_commit(
    *, notification_ids: list[int] | None = None, relay: bool = False
) -> None:
    if _deferred.get():
        return
    ids = list(notification_ids or [])
    transaction.on_commit(lambda: _publish(notification_ids=ids, relay=relay))


def notification_enqueue(
    *,
    recipients: Iterable[User | int],
    kind: str,
    key: str,
    now: datetime,
    case: Case | int | None = None,
    params: dict[str, Any] | None = None,
) -> list[Notification]:
    """Write one notification per recipient in the caller's transaction.

    The public entry point for other apps. `key` names the occasion: a
    recipient who already has a notification with this key gets none
    (returned list leaves them out). `params` holds ids, codes and dates
    only, never client text. Delivery follows after commit.
    """
    if kind not in K.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    case_id = case.pk if isinstance(case, Case) else case
    created = []
    with transaction.atomic():
        for recipient in dict.fromkeys(r if isinstance(r, int) else r.pk for r in recipients):
            notification = Notification(
                recipient_id=recipient,
                kind=kind,
                key=key[:200],
                case_id=case_id,
                params=params or {},
                created_at=now,
            )
            try:
                with transaction.atomic():
                    notification.save()
            except IntegrityError:
                if not Notification.objects.filter(recipient_id=recipient, key=key).exists():
                    raise
                continue
            created.append(notification)
    if created:
        _publish_after_commit(notification_ids=[n.pk for n in created])
    return created


_NEW_FIELDS = [
    Notification._meta.get_field(name)
    for name in ("recipient", "kind", "key", "case", "params", "created_at", "delivery", "attempts")
]
_NEW_SQL = "INSERT INTO {} ({}) VALUES ({}) RETURNING id".format(  # noqa: S608 - field names
    Notification._meta.db_table,
    ", ".join(field.column for field in _NEW_FIELDS),
    ", ".join(["%s"] * len(_NEW_FIELDS)),
)


def _notification_new(
    *, recipient_id: int, kind: str, key: str, now: datetime, case_id: int, params: dict[str, Any]
) -> Notification:
    """Write a notification whose key is new by construction (a one-off
    occasion with a random part): no savepoint needed, nothing to skip.

    Plain SQL through the fields' own adaptation: every transition made by
    the system or someone other than the owner (each swept case) writes
    one, and the ORM's statement compilation cost more than the INSERT.
    """
    notification = Notification(
        recipient_id=recipient_id,
        kind=kind,
        key=key,
        case_id=case_id,
        params=params,
        created_at=now,
        delivery=Delivery.PENDING,
        attempts=0,
    )
    values = [
        field.get_db_prep_save(getattr(notification, field.attname), connection)
        for field in _NEW_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(_NEW_SQL, values)
        (notification.pk,) = cursor.fetchone()
    notification._state.adding, notification._state.db = False, connection.alias
    _publish_after_commit(notification_ids=[notification.pk])
    return notification


def notifications_bulk_enqueue(
    rows: Iterable[tuple[int, str, str, int | None, dict[str, Any]]], *, now: datetime
) -> int:
    """Insert (recipient_id, kind, key, case_id, params) rows set-based,
    skipping occasions that already exist; return how many were written."""
    batch = [
        Notification(
            recipient_id=recipient,
            kind=kind,
            key=key,
            case_id=case_id,
            params=params,
            created_at=now,
        )
        for recipient, kind, key, case_id, params in rows
    ]
    if not batch:
        return 0
    created = 0
    with transaction.atomic():
        for start in range(0, len(batch), 2000):
            chunk = batch[start : start + 2000]
            # Both columns of the unique index, so the lookup uses it.
            existing = set(
                Notification.objects.filter(
                    recipient_id__in={n.recipient_id for n in chunk},
                    key__in={n.key for n in chunk},
                ).values_list("recipient_id", "key")
            )
            new = [n for n in chunk if (n.recipient_id, n.key) not in existing]
            # A reminder written by a concurrent run meanwhile is skipped.
            Notification.objects.bulk_create(new, ignore_conflicts=True)
            created += len(new)
    if created:
        _publish_after_commit(relay=True)
    return created


def _gemeinde_deciders(gemeinde_id: int) -> list[int]:
    """The active managers and supervisors of every Träger serving the Gemeinde."""
    return list(
        User.objects.filter(
            is_active=True,
            role__in=[Role.INTEGRATION_MANAGER, Role.SUPERVISOR],
            traeger__gemeinden__id=gemeinde_id,
        ).values_list("pk", flat=True)
    )


def notification_handover_submitted(
    *, handover_id: int, gemeinde_id: int, now: datetime, link: str = ""
) -> list[Notification]:
    """Tell the integration managers and supervisors of every Träger serving
    `gemeinde_id` that a new handover arrived (call inside the submitting
    transaction of the handover app). Once per handover and person; the
    mail names the handover's number and `link` (a path), nothing else."""
    recipients = _gemeinde_deciders(gemeinde_id)
    return notification_enqueue(
        recipients=recipients,
        kind=K.HANDOVER_SUBMITTED,
        key=f"handover:{handover_id}:submitted",
        now=now,
        params={"handover": handover_id, "link": link},
    )


def notification_handovers_imported(
    *, handover_ids: list[int], gemeinde_id: int, now: datetime, link: str = ""
) -> list[Notification]:
    """One notification per person for all handovers of one import that
    went to `gemeinde_id` (an import of hundreds must not mean hundreds of
    mails). Call inside the importing transaction."""
    first = min(handover_ids)
    recipients = _gemeinde_deciders(gemeinde_id)
    return notification_enqueue(
        recipients=recipients,
        kind=K.HANDOVER_SUBMITTED,
        key=f"handover:{first}:imported:{gemeinde_id}",
        now=now,
        params={"handover": first, "count": len(handover_ids), "link": link},
    )
