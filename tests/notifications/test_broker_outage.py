"""A broker outage loses nothing and duplicates nothing (RELIABILITY.md C1).

The test runs its own Redis (never the machine's shared one): a
`redis-server` on a free port without persistence, and a Celery app of the
project's configuration that publishes to it for real, made current for
the test (the project's shared tasks follow the current app). Everything
goes through public means: the broker is stopped and started as a process,
the app is configured with `conf.update()` before its first connection.

Redis up, one message goes through; then Redis is stopped. With it down,
1,000 API transitions that each notify someone all succeed and the
notifications wait in the outbox. Redis is started again on the same port;
the same app (its connections broken by the outage) publishes the relay
task and a redelivered copy of every delivery message, and a real Celery
worker (a thread of this process) consumes them: each notification is
mailed exactly once.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, CaseStatus
from config.celery import app as project_app
from notifications import tasks
from notifications.models import Delivery, Heartbeat, Notification, NotificationKind
from tests.accounts.factories import TeamFactory, api_key
from tests.cases.factories import manager_in, supervisor_of
from tests.notifications.factories import bulk_cases

TRANSITIONS = 1000
REDIS = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


class OwnRedis:
    """A redis-server of this test on a port of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        no_persistence = ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", *no_persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not listening(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        assert not listening(self.port)


@contextmanager
def celery_app_publishing_to(url: str) -> Iterator[Celery]:
    """A Celery app of the project's configuration that publishes to `url`
    for real, current while the block runs."""
    app = Celery("lotse-broker-outage", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=url,
        task_always_eager=False,  # the test settings' default
        broker_transport_options={"max_retries": 0},  # as config/settings.py
    )
    app.set_current()
    try:
        yield app
    finally:
        project_app.set_current()


def wait_for(condition, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.skipif(REDIS is None, reason="needs the redis-server binary")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_loses_no_notification_and_sends_none_twice() -> None:
    team = TeamFactory()
    owner, lead = manager_in(team), supervisor_of(team)
    now = timezone.now() - timedelta(days=1)
    case_ids = bulk_cases(
        owner=owner, count=TRANSITIONS, status=CaseStatus.REGISTERED, registered_at=now
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(lead)}")
    outbox = Notification.objects.filter(kind=NotificationKind.CASE_CHANGED)
    redis = OwnRedis()
    redis.start()
    try:
        with celery_app_publishing_to(redis.url) as app:
            # The broker is up and the app connected to it ...
            assert tasks.heartbeat_task.apply_async(kwargs={}).id
            redis.stop()  # ... when it goes down.

            statuses: Counter[int] = Counter()
            for case_id in case_ids:
                response = client.post(
                    f"/api/v1/cases/{case_id}/transitions/reject_ineligible/",
                    {"reason": "not_target_group"},
                    format="json",
                )
                statuses[response.status_code] += 1

            assert statuses == {200: TRANSITIONS}
            assert Case.objects.filter(status=CaseStatus.REJECTED).count() == TRANSITIONS
            assert outbox.filter(delivery=Delivery.PENDING).count() == TRANSITIONS
            assert mail.outbox == []

            redis.start()  # the broker is back, on the same address
            ids = sorted(outbox.values_list("pk", flat=True))
            with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
                tasks.notifications_relay_task.apply_async(kwargs={})
                # The broker redelivers every delivery message once more.
                for start in range(0, len(ids), 50):
                    tasks.notification_deliver_task.apply_async(
                        kwargs={"notification_ids": ids[start : start + 50]}
                    )
                marker = timezone.now().replace(microsecond=123456)
                tasks.heartbeat_task.apply_async(kwargs={"now": marker.isoformat()})
                # One solo worker takes messages in order: the marker comes last.
                wait_for(lambda: Heartbeat.objects.filter(beat_at=marker).exists(), seconds=240)
    finally:
        redis.stop()

    assert outbox.filter(delivery=Delivery.SENT).count() == TRANSITIONS
    sent = Counter(message.extra_headers["X-Lotse-Notification"] for message in mail.outbox)
    assert len(mail.outbox) == TRANSITIONS
    assert set(sent) == {str(pk) for pk in ids}
    assert set(sent.values()) == {1}
    assert {message.to[0] for message in mail.outbox} == {owner.email}
