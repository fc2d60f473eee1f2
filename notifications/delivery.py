"""Mail delivery of the outbox, at most one mail per notification.

A notification's mail is claimed in the database before it leaves: one
short transaction locks the pending rows and marks each to be mailed as
SENDING (with the time), and commits. Only then is the mail sent (with a
stable Message-ID, `<notification-<id>@domain>`), and a second short
transaction marks it SENT. A worker killed between the two leaves the row
SENDING: a redelivered task or the relay finds no pending row and mails
nothing again. A row SENDING for longer than LOTSE_MAIL_SENDING_STALE_MINUTES
was perhaps mailed, perhaps not: it becomes FAILED with an incident, and
an operator decides (the admin's retry puts it back into the outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q

from notifications.models import Delivery, EmailMode, Notification

logger = logging.getLogger(__name__)


def _claim(*, where: Q, now: datetime, batch: int) -> tuple[list[Notification], int, int]:
    """Lock up to `batch` pending rows matching `where`; settle digests and
    skips, mark the rest SENDING and commit. Return (rows to mail, number
    settled without a mail, highest id seen)."""
    from notifications import services

    settled, last = 0, 0
    to_mail: list[Notification] = []
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(where, delivery=Delivery.PENDING)
            .order_by("pk")[:batch]
        )
        modes = services._modes(row.recipient_id for row in rows)
        for row in rows:
            last = row.pk
            recipient = row.recipient
            if modes.get(row.recipient_id, "") == EmailMode.DIGEST:
                row.delivery = Delivery.DIGEST
                row.save(update_fields=["delivery"])
                settled += 1
            elif not recipient.is_active or not recipient.email:
                row.delivery = Delivery.SKIPPED
                row.save(update_fields=["delivery"])
                settled += 1
            else:
                row.attempts += 1
                row.delivery = Delivery.SENDING
                row.sending_since = now
                row.save(update_fields=["attempts", "delivery", "sending_since"])
                to_mail.append(row)
    return to_mail, settled, last


def _send(row: Notification, *, now: datetime, connection: Any) -> bool:
    """Mail one claimed row, then mark it SENT (or back PENDING / FAILED)."""
    from notifications import services

    try:
        services._mail(row, connection)
    except Exception as exc:  # noqa: BLE001 - counted, and an incident at the limit
        logger.warning("mail of notification %s failed: %s", row.pk, type(exc).__name__)
        with transaction.atomic():
            failed = row.attempts >= settings.LOTSE_NOTIFICATION_MAX_ATTEMPTS
            Notification.objects.filter(pk=row.pk, delivery=Delivery.SENDING).update(
                delivery=Delivery.FAILED if failed else Delivery.PENDING, sending_since=None
            )
            if failed:
                services.incident_record(
                    source="notifications.deliver",
                    key=f"notification:{row.pk}",
                    error=type(exc).__name__,
                    now=now,
                )
        return False
    Notification.objects.filter(pk=row.pk, delivery=Delivery.SENDING).update(
        delivery=Delivery.SENT, delivered_at=now, sending_since=None
    )
    return True


def notifications_expire_unconfirmed(*, now: datetime) -> int:
    """Turn rows SENDING for too long (a worker died mid-send) into FAILED
    with an incident each, instead of mailing them a second time."""
    from notifications import services

    limit = now - timedelta(minutes=settings.LOTSE_MAIL_SENDING_STALE_MINUTES)
    expired = 0
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(delivery=Delivery.SENDING, sending_since__lt=limit)
            .values_list("pk", flat=True)
        )
        for pk in rows:
            Notification.objects.filter(pk=pk).update(delivery=Delivery.FAILED, sending_since=None)
            services.incident_record(
                source="notifications.deliver",
                key=f"notification:{pk}",
                error="MailUnconfirmed",
                now=now,
            )
            expired += 1
    return expired


def notifications_deliver(*, notification_ids: Iterable[int], now: datetime) -> int:
    """Deliver the named notifications that are still pending; return how
    many left the outbox."""
    ids = sorted(set(notification_ids))
    if not ids:
        return 0
    rows, done, _last = _claim(where=Q(pk__in=ids), now=now, batch=len(ids))
    connection = get_connection()
    for row in rows:
        done += _send(row, now=now, connection=connection)
    return done


def notifications_relay(*, now: datetime, batch: int = 200) -> int:
    """Deliver everything pending in the outbox (the beat sweep); return how
    many left it. Safe beside other relays: each claims what it sends."""
    notifications_expire_unconfirmed(now=now)
    done, after = 0, 0
    connection = get_connection()
    while True:
        rows, settled, last = _claim(where=Q(pk__gt=after), now=now, batch=batch)
        if not last:
            return done
        done += settled
        for row in rows:
            done += _send(row, now=now, connection=connection)
        after = last
