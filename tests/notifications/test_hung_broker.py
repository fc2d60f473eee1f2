"""Finding 2 of issue 22: a hung broker hangs no request.

A private redis-server is stopped with SIGSTOP (it keeps its port, the
kernel still accepts connections, nothing answers): 20 notifying API
requests each answer within 2 s and /healthz reports the broker down.
After SIGCONT the relay and a real worker deliver every notification
exactly once. The Celery app publishes with the transport options of the
settings (config.broker), so the test proves what production runs.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from config.broker import transport_options
from notifications import services, tasks
from notifications.models import Delivery, Heartbeat, Notification, NotificationKind
from tests.accounts.factories import TeamFactory, api_key
from tests.cases.factories import manager_in, supervisor_of
from tests.notifications.factories import bulk_cases
from tests.notifications.test_broker_outage import (
    REDIS,
    OwnRedis,
    celery_app_publishing_to,
    wait_for,
)

REQUESTS = 20


@pytest.mark.skipif(REDIS is None, reason="needs the redis-server binary")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_delays_notifications_but_no_request() -> None:
    team = TeamFactory()
    owner, lead = manager_in(team), supervisor_of(team)
    case_ids = bulk_cases(
        owner=owner,
        count=REQUESTS,
        status="REGISTERED",
        registered_at=timezone.now() - timedelta(days=1),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(lead)}")
    outbox = Notification.objects.filter(kind=NotificationKind.CASE_CHANGED)
    services._broker_failed_at.clear()
    redis = OwnRedis()
    redis.start()
    options = transport_options(redis.url, settings.LOTSE_BROKER_TIMEOUT_SECONDS)
    try:
        with celery_app_publishing_to(redis.url) as app:
            app.conf.update(
                broker_transport_options=options,
                broker_connection_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
            )
            assert tasks.heartbeat_task.apply_async(kwargs={}).id  # connected
            # Warm the path (imports, serializers) with a refused body that
            # writes nothing, so the timings below measure the broker alone.
            warm = client.post(
                f"/api/v1/cases/{case_ids[0]}/transitions/reject_ineligible/",
                {"reason": "no_such_reason"},
                format="json",
            )
            assert warm.status_code == 400
            os.kill(redis.process.pid, signal.SIGSTOP)  # hung, not refused

            answers = []
            for case_id in case_ids:
                started = time.monotonic()
                response = client.post(
                    f"/api/v1/cases/{case_id}/transitions/reject_ineligible/",
                    {"reason": "not_target_group"},
                    format="json",
                )
                answers.append((response.status_code, time.monotonic() - started))
            started = time.monotonic()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(settings, "CELERY_BROKER_URL", redis.url)
                health = Client().get("/healthz")
            health_seconds = time.monotonic() - started

            assert [status for status, _seconds in answers] == [200] * REQUESTS
            slowest = max(seconds for _status, seconds in answers)
            assert slowest < 2.0, answers
            assert health.status_code == 503
            assert health.json()["broker"]["status"] == "down"
            assert health_seconds < 2 * settings.LOTSE_BROKER_TIMEOUT_SECONDS + 1
            assert outbox.filter(delivery=Delivery.PENDING).count() == REQUESTS
            assert mail.outbox == []

            os.kill(redis.process.pid, signal.SIGCONT)
            services._broker_failed_at.clear()
            ids = sorted(outbox.values_list("pk", flat=True))
            with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
                tasks.notifications_relay_task.apply_async(kwargs={})
                tasks.notification_deliver_task.apply_async(kwargs={"notification_ids": ids})
                marker = timezone.now().replace(microsecond=654321)
                tasks.heartbeat_task.apply_async(kwargs={"now": marker.isoformat()})
                wait_for(lambda: Heartbeat.objects.filter(beat_at=marker).exists(), seconds=120)
    finally:
        if redis.process is not None:
            os.kill(redis.process.pid, signal.SIGCONT)
        redis.stop()

    assert outbox.filter(delivery=Delivery.SENT).count() == REQUESTS
    sent = Counter(message.extra_headers["X-Lotse-Notification"] for message in mail.outbox)
    assert set(sent) == {str(pk) for pk in ids}
    assert set(sent.values()) == {1}
