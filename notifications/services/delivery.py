"""Delivery: the relay, mails (at least once, idempotent by Message-ID) and
daily digests."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from notifications.models import (
    Delivery,
    Digest,
    EmailMode,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.selectors import notification_text
from notifications.services.incidents import incident_record

logger = logging.getLogger("notifications.services")
K = NotificationKind


# --- delivery --------------------------------------------------------------


def _link(path: str) -> str:
    return settings.LOTSE_BASE_URL.rstrip("/") + path


def notification_link(notification: Notification) -> str:
    if notification.params.get("link"):
        return _link(str(notification.params["link"]))
    if notification.case_id:
        return _link(reverse("workflows:case", args=[notification.case_id]))
    return _link(reverse("notifications:inbox"))


def _message_id(notification: Notification) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1] or "lotse"
    return f"<notification-{notification.pk}@{domain}>"


MAIL_TEMPLATES = {K.HANDOVER_SUBMITTED: "notifications/handover_submitted.txt"}


def _mail(notification: Notification, connection: Any) -> None:
    """Send one notification mail: a title, a case reference and a link."""
    with translation.override(settings.LANGUAGE_CODE):
        title = notification_text(notification)
        body = render_to_string(
            MAIL_TEMPLATES.get(notification.kind, "notifications/email.txt"),
            {"title": title, "notification": notification, "link": notification_link(notification)},
        )
        subject = f"[Lotse] {title}"
    EmailMessage(
        subject=subject,
        body=body,
        to=[notification.recipient.email],
        headers={
            "Message-ID": _message_id(notification),
            "X-Lotse-Notification": str(notification.pk),
        },
        connection=connection,
    ).send()


def _modes(user_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        NotificationPreference.objects.filter(user_id__in=set(user_ids)).values_list(
            "user_id", "email_mode"
        )
    )


def _deliver_locked(
    notification: Notification, *, mode: str, now: datetime, connection: Any
) -> str:
    """Deliver one locked pending row; return its new delivery state."""
    recipient = notification.recipient
    if mode == EmailMode.DIGEST:
        notification.delivery = Delivery.DIGEST
        notification.save(update_fields=["delivery"])
        return notification.delivery
    if not recipient.is_active or not recipient.email:
        notification.delivery = Delivery.SKIPPED
        notification.save(update_fields=["delivery"])
        return notification.delivery
    notification.attempts += 1
    try:
        _mail(notification, connection)
    except Exception as exc:  # noqa: BLE001 - counted, and an incident at the limit
        logger.warning("mail of notification %s failed: %s", notification.pk, type(exc).__name__)
        if notification.attempts >= settings.LOTSE_NOTIFICATION_MAX_ATTEMPTS:
            notification.delivery = Delivery.FAILED
            incident_record(
                source="notifications.deliver",
                key=f"notification:{notification.pk}",
                error=type(exc).__name__,
                now=now,
            )
        notification.save(update_fields=["attempts", "delivery"])
        return notification.delivery
    notification.delivery = Delivery.SENT
    notification.delivered_at = now
    notification.save(update_fields=["attempts", "delivery", "delivered_at"])
    return notification.delivery


def notifications_deliver(*, notification_ids: Iterable[int], now: datetime) -> int:
    """Deliver the named notifications that are still pending; return how
    many left the outbox. Rows another worker holds are skipped (it
    delivers them); rows already delivered are left alone."""
    done = 0
    connection = get_connection()
    for pk in sorted(set(notification_ids)):
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(pk=pk, delivery=Delivery.PENDING)
                .first()
            )
            if notification is None:
                continue
            mode = _modes([notification.recipient_id]).get(notification.recipient_id, "")
            if _deliver_locked(notification, mode=mode, now=now, connection=connection) in (
                Delivery.SENT,
                Delivery.DIGEST,
                Delivery.SKIPPED,
            ):
                done += 1
    return done


def notifications_relay(*, now: datetime, batch: int = 200) -> int:
    """Deliver everything pending in the outbox (the beat sweep); return how
    many left it. Safe beside other relays: each locks what it sends."""
    done, after = 0, 0
    connection = get_connection()
    while True:
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(delivery=Delivery.PENDING, pk__gt=after)
                .order_by("pk")[:batch]
            )
            if not rows:
                return done
            modes = _modes(row.recipient_id for row in rows)
            for row in rows:
                state = _deliver_locked(
                    row, mode=modes.get(row.recipient_id, ""), now=now, connection=connection
                )
                done += state != Delivery.PENDING
            after = rows[-1].pk


def digests_send(*, day: date, now: datetime) -> int:
    """Send each digest user one mail with what waited for `day`'s digest;
    return how many digests were sent. Once per user and day: a second run
    for the same day finds the digest and sends nothing."""
    sent = 0
    connection = get_connection()
    users = (
        Notification.objects.filter(delivery=Delivery.DIGEST, created_at__lt=now)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for user_id in sorted(set(users)):
        with transaction.atomic():
            digest, created = Digest.objects.get_or_create(
                recipient_id=user_id, day=day, defaults={"created_at": now}
            )
            if not created:
                continue
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(recipient_id=user_id, delivery=Delivery.DIGEST, created_at__lt=now)
                .order_by("created_at", "pk")
            )
            recipient = rows[0].recipient if rows else None
            if recipient is not None and recipient.is_active and recipient.email:
                with translation.override(settings.LANGUAGE_CODE):
                    lines = [
                        {"title": notification_text(n), "link": notification_link(n)} for n in rows
                    ]
                    body = render_to_string(
                        "notifications/digest.txt",
                        {
                            "lines": lines,
                            "day": day,
                            "inbox": _link(reverse("notifications:inbox")),
                        },
                    )
                    subject = translation.gettext("[Lotse] Your notifications of %(day)s") % {
                        "day": day.strftime("%d.%m.%Y")
                    }
                domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1] or "lotse"
                EmailMessage(
                    subject=subject,
                    body=body,
                    to=[recipient.email],
                    headers={"Message-ID": f"<digest-{digest.pk}@{domain}>"},
                    connection=connection,
                ).send()
                digest.sent_at = now
                digest.save(update_fields=["sent_at"])
                sent += 1
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
                delivery=Delivery.DIGESTED, delivered_at=now, digest=digest
            )
    return sent
