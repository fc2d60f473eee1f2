"""Finding 6 of issue 22: a worker killed right after a mail left does not
make the redelivered task mail it again.

The kill is simulated by an exception that no `except Exception` catches,
raised the moment the mail has gone out (before anything after it could
commit). The notification is then delivered again (the broker redelivers
the task, the relay runs): the recipient still has exactly one mail, and
after LOTSE_MAIL_SENDING_STALE_MINUTES the unconfirmed mail is an incident.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, Incident, Notification, NotificationKind
from tests.cases.factories import new_case

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker handles it."""


def test_a_redelivered_task_never_mails_twice() -> None:
    case = new_case()
    now = timezone.now()
    with services.publishing_deferred(), transaction.atomic():
        (notification,) = services.notification_enqueue(
            recipients=[case.owner], kind=NotificationKind.CASE_CHANGED, key="k", case=case, now=now
        )
    real_send = EmailMessage.send

    def send_then_die(self, *args, **kwargs):
        real_send(self, *args, **kwargs)
        raise WorkerKilled

    with mock.patch.object(EmailMessage, "send", send_then_die), pytest.raises(WorkerKilled):
        services.notifications_deliver(notification_ids=[notification.pk], now=now)
    assert len(mail.outbox) == 1

    services.notifications_deliver(notification_ids=[notification.pk], now=now)
    services.notifications_relay(now=now)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.extra_headers["Message-ID"].startswith(f"<notification-{notification.pk}@")

    later = now + timedelta(minutes=60)
    services.notifications_relay(now=later)

    notification.refresh_from_db()
    assert notification.delivery == Delivery.FAILED
    assert len(mail.outbox) == 1
    assert list(Incident.objects.values_list("source", "key", "error")) == [
        ("notifications.deliver", f"notification:{notification.pk}", "MailUnconfirmed")
    ]


def test_a_normal_delivery_is_sent_once_and_confirmed() -> None:
    case = new_case()
    now = timezone.now()
    with services.publishing_deferred(), transaction.atomic():
        (notification,) = services.notification_enqueue(
            recipients=[case.owner], kind=NotificationKind.CASE_CHANGED, key="k", case=case, now=now
        )

    services.notifications_deliver(notification_ids=[notification.pk], now=now)
    services.notifications_deliver(notification_ids=[notification.pk], now=now)

    row = Notification.objects.get(pk=notification.pk)
    assert (row.delivery, row.delivered_at, row.sending_since) == (Delivery.SENT, now, None)
    assert len(mail.outbox) == 1
