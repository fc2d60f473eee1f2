"""/healthz and the start page."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from kombu import Connection

from notifications.tasks import heartbeat_task

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok", "vendor": connection.vendor}
    assert body["broker"] == {"status": "ok", "transport": "memory"}
    assert body["worker_and_beat"]["status"] == "unknown"
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_shows_worker_and_beat_after_a_heartbeat(client) -> None:
    heartbeat_task.delay()

    body = client.get("/healthz").json()

    assert body["worker_and_beat"]["status"] == "ok"


def test_healthz_is_503_when_the_broker_is_down(client) -> None:
    unreachable = Connection("redis://127.0.0.1:1/0", connect_timeout=1)
    with mock.patch("config.views._broker_connection", return_value=unreachable):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == {"status": "down", "transport": "memory"}
    assert response.json()["status"] == "down"


def test_healthz_is_503_when_the_database_is_down(client) -> None:
    with mock.patch("config.views.connection") as broken:
        broken.cursor.side_effect = RuntimeError("database gone")
        broken.vendor = "postgresql"
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == {"status": "down", "vendor": "postgresql"}


def test_start_page_requires_login(client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
