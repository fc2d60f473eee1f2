"""Every Celery task run twice with the same arguments leaves the state of
one run (RELIABILITY.md C3), takes keyword arguments only and tolerates
unknown ones (C9), and a task failing past its retries opens an incident (C7).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from appointments.models import Appointment
from appointments.services import appointment_plan
from audit.models import AuditEvent
from caseload.demo import caseload_csv, synthetic_rows
from caseload.models import CaseloadImport
from caseload.services import caseload_import_submit
from cases.models import Case, CaseStatus, Consultation
from config.celery import app
from handover.models import ImportJob
from notifications import services, tasks
from notifications.models import (
    Digest,
    EmailMode,
    Heartbeat,
    Incident,
    Notification,
    NotificationKind,
)
from tests.accounts.factories import GemeindeFactory, TeamFactory
from tests.cases.factories import (
    T0,
    ensure_catalogues,
    journey_to,
    manager_in,
    new_case,
    supervisor_of,
)
from tests.notifications.factories import bulk_cases

pytestmark = pytest.mark.django_db
NOW = T0 + timedelta(days=200)


def state() -> dict[str, Any]:
    """Everything a task of Lotse can change, in a comparable form."""
    return {
        "cases": sorted(Case.objects.values_list("pk", "status", "closing_ground")),
        "audit": AuditEvent.objects.count(),
        "notifications": sorted(
            Notification.objects.values_list(
                "pk", "recipient_id", "key", "delivery", "attempts", "delivered_at", "digest_id"
            )
        ),
        "digests": sorted(Digest.objects.values_list("pk", "recipient_id", "day", "sent_at")),
        "heartbeats": sorted(Heartbeat.objects.values_list("name", "beat_at", "worker")),
        "incidents": sorted(Incident.objects.values_list("source", "key", "attempts")),
        "flow_tasks": sorted(Task.objects.values_list("pk", "status")),
        "import_jobs": sorted(
            ImportJob.objects.values_list("pk", "status", "rows_done", "finished_at")
        ),
        "caseload_imports": sorted(
            CaseloadImport.objects.values_list("pk", "status", "rows_done", "finished_at")
        ),
        "appointments": sorted(
            Appointment.objects.values_list("pk", "status", "reminded_at", "consultation_id")
        ),
        "consultations": sorted(Consultation.objects.values_list("pk", "status")),
        "mails": [(m.to, m.subject) for m in mail.outbox],
    }


def pending_notification() -> dict[str, Any]:
    case = new_case()
    with transaction.atomic():
        (notification,) = services.notification_enqueue(
            recipients=[case.owner], kind=NotificationKind.CASE_CHANGED, key="k", case=case, now=T0
        )
    return {"notification_ids": [notification.pk], "now": NOW.isoformat()}


def two_pending() -> dict[str, Any]:
    pending_notification()
    pending_notification()
    return {"now": NOW.isoformat()}


def review_due_soon() -> dict[str, Any]:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    supervisor_of(case.owner.team)
    due = timezone.make_aware(
        timezone.datetime.combine(case.next_review_at, timezone.datetime.min.time())
    )
    return {"now": (due + timedelta(days=20)).isoformat()}  # overdue and escalated


def due_deadlines() -> dict[str, Any]:
    owner = manager_in(TeamFactory())
    bulk_cases(owner=owner, count=4, status=CaseStatus.REGISTERED, registered_at=T0)
    journey_to(CaseStatus.ACTIVE, now=T0 - timedelta(days=3 * 365))  # period long over
    return {"now": NOW.isoformat()}


def digest_waiting() -> dict[str, Any]:
    case = new_case()
    services.preference_set(user=case.owner, email_mode=EmailMode.DIGEST, now=T0)
    kwargs = pending_notification()
    services.notifications_relay(now=T0)
    with transaction.atomic():
        services.notification_enqueue(
            recipients=[case.owner], kind=NotificationKind.DEPUTY_TASK, key="d", case=case, now=T0
        )
    services.notifications_relay(now=T0)
    return {"day": NOW.date().isoformat(), "now": kwargs["now"]}


def due_timer() -> dict[str, Any]:
    journey_to(CaseStatus.ACTIVE, now=T0 - timedelta(days=365))  # review long due
    return {}


def retention_elapsed() -> dict[str, Any]:
    journey_to(CaseStatus.CLOSED, now=T0 - timedelta(days=6 * 365))  # closed years ago
    return {"now": NOW.isoformat()}


def import_waiting() -> dict[str, Any]:
    from tests.handover.test_import_jobs import queued_job

    queued_job()
    assert ImportJob.objects.get().status == ImportJob.Status.QUEUED
    return {"now": NOW.isoformat()}


def caseload_upload_waiting() -> dict[str, Any]:
    """An upload of a supervisor waiting for the worker (as a request leaves it)."""
    ensure_catalogues()
    team = TeamFactory()
    gemeinde = GemeindeFactory()
    team.traeger.gemeinden.add(gemeinde)
    supervisor = supervisor_of(team)
    rows = synthetic_rows(
        2, managers=[manager_in(team).username], ags=gemeinde.ags, today=T0.date()
    )
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        caseload_import_submit(
            actor=supervisor,
            now=T0,
            content=caseload_csv(rows),
            filename="bestand.csv",
            dry_run=False,
        )
    finally:
        app.conf.task_always_eager = eager
    assert CaseloadImport.objects.get().status == CaseloadImport.Status.QUEUED
    return {"now": NOW.isoformat()}


def appointments_due() -> dict[str, Any]:
    """One appointment to remind of, one past its no-show hours."""
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    for starts_at in (NOW + timedelta(hours=2), NOW - timedelta(days=5)):
        appointment_plan(
            case=case,
            actor=case.owner,
            now=NOW - timedelta(days=10),
            starts_at=starts_at,
            duration_minutes=45,
            form="office",
            topic="work",
        )
    return {"now": NOW.isoformat()}


def nothing() -> dict[str, Any]:
    return {"now": NOW.isoformat()}


SETUPS = {
    "notifications.tasks.heartbeat_task": nothing,
    "notifications.tasks.notification_deliver_task": pending_notification,
    "notifications.tasks.notifications_relay_task": two_pending,
    "notifications.tasks.reminders_task": review_due_soon,
    "notifications.tasks.deadline_sweeps_task": due_deadlines,
    "notifications.tasks.digests_task": digest_waiting,
    "workflows.tasks.fire_due_timers_task": due_timer,
    "dataprotection.tasks.retention_sweep_task": retention_elapsed,
    "notifications.tasks.audit_anchor_task": nothing,
    "handover.tasks.import_jobs_run_task": import_waiting,
    "caseload.imports_run": caseload_upload_waiting,
    "appointments.tasks.appointment_sweep_task": appointments_due,
}


def lotse_tasks() -> set[str]:
    return {name for name in app.tasks if not name.startswith("celery.")}


@pytest.fixture(autouse=True)
def _every_tasks_module_imported() -> None:
    """Register the tasks of every app, whichever tests ran before in this
    process (a worker only imports what its own tests import)."""
    app.loader.import_default_modules()


def test_every_task_of_lotse_has_an_idempotency_test() -> None:
    assert lotse_tasks() == set(SETUPS)


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_a_task_run_twice_leaves_the_state_of_one_run(name: str) -> None:
    kwargs = SETUPS[name]()
    before = state()

    app.tasks[name].apply(kwargs=kwargs).get()
    once = state()
    app.tasks[name].apply(kwargs=kwargs).get()
    twice = state()

    assert once != before, "the setup gave the task nothing to do"
    assert twice == once


def test_the_tasks_do_what_their_setups_promise() -> None:
    """The idempotency test above is only worth something if each run
    changes what it should; these are the numbers for the shared setups."""
    kwargs = due_deadlines()
    done = tasks.deadline_sweeps_task.apply(kwargs=kwargs).get()
    assert done == {"period_expired": 1, "no_show_timeout": 4, "no_contact_timeout": 0}
    kwargs = review_due_soon()
    assert tasks.reminders_task.apply(kwargs=kwargs).get() == 2  # overdue and escalated


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_tasks_take_keywords_only_and_accept_unknown_ones(name: str) -> None:
    kwargs = SETUPS[name]()
    result = app.tasks[name].apply(kwargs={**kwargs, "added_in_a_later_release": 1})
    assert result.successful(), result.traceback
    with pytest.raises(TypeError):
        app.tasks[name].run(1, 2, 3)


def test_a_task_failing_past_its_retries_opens_an_incident() -> None:
    kwargs = two_pending()
    with mock.patch("notifications.services.notifications_relay", side_effect=RuntimeError("down")):
        # The last allowed attempt (earlier ones are retried by the worker).
        result = tasks.notifications_relay_task.apply(
            kwargs=kwargs, retries=tasks.RecordedTask.max_retries, throw=False
        )

    assert result.failed()
    incident = Incident.objects.get()
    assert (incident.source, incident.error) == ("task.notifications_relay_task", "RuntimeError")
    assert Notification.objects.filter(delivery="PENDING").count() == 2  # nothing lost


def test_no_task_is_scheduled_with_a_countdown() -> None:
    """Deadlines live in database columns (C6): beat runs short sweeps only."""
    for entry in app.conf.beat_schedule.values():
        assert "options" not in entry or not {"countdown", "eta"} & set(entry["options"])
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == set(SETUPS) - {"notifications.tasks.notification_deliver_task"}
