"""Operational endpoints of the whole project."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from cases.selectors import case_list_for_user
from config.celery import app as celery_app
from notifications.selectors import heartbeat_status, open_incident_count
from notifications.tasks import (
    HEARTBEAT_NAME,
    RELAY_HEARTBEAT,
    REMINDER_HEARTBEAT,
    SWEEP_HEARTBEAT,
)
from workspace.views import render_dashboard

logger = logging.getLogger(__name__)


def _database_status() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: database check failed: %s", type(exc).__name__)
        return {"status": "down", "vendor": connection.vendor}
    return {"status": "ok", "vendor": connection.vendor}


def _broker_connection() -> Connection:
    return celery_app.connection_for_write()


def _broker_status() -> dict[str, object]:
    transport = settings.CELERY_BROKER_URL.split("://", 1)[0]
    timeout = settings.LOTSE_BROKER_TIMEOUT_SECONDS
    try:
        if transport in ("redis", "rediss"):
            # A round trip, not only a connect: a stopped (SIGSTOP) Redis
            # still accepts connections in the kernel but answers nothing.
            client = redis.Redis.from_url(
                settings.CELERY_BROKER_URL,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            with _broker_connection() as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: broker check failed: %s", type(exc).__name__)
        return {"status": "down", "transport": transport}
    return {"status": "ok", "transport": transport}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report database, broker and background-worker health.

    503 when the database or the broker is down. A stale worker heartbeat,
    a stopped periodic job (relay, sweeps, reminders) and open incidents
    are reported but do not fail the probe: web requests still work and
    the outbox keeps what the worker has not sent yet.
    """
    database = _database_status()
    broker = _broker_status()
    if database["status"] == "ok":
        worker = heartbeat_status(
            name=HEARTBEAT_NAME,
            now=timezone.now(),
            max_age_seconds=3 * settings.HEARTBEAT_SECONDS,
        )
        # Each periodic job may be late by one period plus the grace of
        # another; older than that, it has stopped (RELIABILITY.md C8).
        jobs = {
            name: heartbeat_status(name=name, now=timezone.now(), max_age_seconds=2 * seconds + 60)
            for name, seconds in (
                (RELAY_HEARTBEAT, settings.LOTSE_RELAY_SECONDS),
                (SWEEP_HEARTBEAT, settings.LOTSE_SWEEP_SECONDS),
                (REMINDER_HEARTBEAT, settings.LOTSE_REMINDER_SECONDS),
            )
        }
        incidents = {"open": open_incident_count()}
    else:
        worker, jobs, incidents = {"status": "unknown"}, {}, {}
    healthy = database["status"] == "ok" and broker["status"] == "ok"
    body = {
        "status": "ok" if healthy else "down",
        "database": database,
        "broker": broker,
        "worker_and_beat": worker,
        "periodic_jobs": jobs,
        "incidents": incidents,
    }
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show the signed-in user's start page for their role.

    Managers and supervisors start on their workspace dashboard (the
    manager's day, the supervisor's team view). Auditors and data-protection
    officers see the cases in their scope, everyone else a greeting.
    """
    user, now = request.user, timezone.now()
    if user.role in (Role.INTEGRATION_MANAGER, Role.SUPERVISOR):
        return render_dashboard(request, view="home")
    context: dict[str, object] = {"role": user.role}
    if user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER):
        # Metadata of the cases in scope, no client names (nothing to log).
        context["cases"] = list(case_list_for_user(user=user, now=now)[:200])
    return render(request, "home.html", context)
