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
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.selectors import notification_text

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


def notifications_deliver(*, notification_ids: Iterable[int], now: datetime) -> int:
    """Deliver the named pending notifications (claimed before mailing:
    notifications.delivery); return how many left the outbox."""
    from notifications import delivery

    return delivery.notifications_deliver(notification_ids=notification_ids, now=now)


def notifications_relay(*, now: datetime, batch: int = 200) -> int:
    """Deliver everything pending in the outbox (notifications.delivery)."""
    from notifications import delivery

    return delivery.notifications_relay(now=now, batch=batch)


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
