"""The outbox, its relay, digests, reminders, sweeps and incidents."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from cases import services as case_services
from cases.models import Case, CaseStatus
from cases.services import add_months
from notifications import services
from notifications.models import (
    Delivery,
    Digest,
    EmailMode,
    Incident,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.selectors import notification_text
from tests.accounts.factories import DeputyGrantFactory, GemeindeFactory, TeamFactory, UserFactory
from tests.cases.factories import T0, consult, journey_to, manager_in, new_case, supervisor_of
from tests.notifications.factories import bulk_cases

pytestmark = pytest.mark.django_db
K = NotificationKind


def reject_as_supervisor(case: Case, now=T0) -> Case:
    lead = supervisor_of(case.owner.team)
    return case_services.case_transition(
        case=case, name="reject_ineligible", actor=lead, now=now, reason="NOT_TARGET_GROUP"
    )


# --- the outbox in the change's transaction --------------------------------


def test_a_change_by_the_owner_notifies_nobody() -> None:
    case = new_case()
    case_services.case_transition(
        case=case, name="reject_ineligible", actor=case.owner, now=T0, reason="NOT_TARGET_GROUP"
    )

    assert Notification.objects.count() == 0


def test_a_change_by_the_supervisor_notifies_the_owner_once_and_mails_after_commit(
    django_capture_on_commit_callbacks,
) -> None:
    case = new_case()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reject_as_supervisor(case)

    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.kind, notification.case_id) == (
        case.owner_id,
        K.CASE_CHANGED,
        case.pk,
    )
    assert notification.params == {"transition": "reject_ineligible", "status": "REJECTED"}
    assert len(callbacks) == 1
    assert (notification.delivery, notification.attempts) == (Delivery.SENT, 1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [case.owner.email]
    assert (
        message.subject
        == f"[Lotse] Ihr Fall {case.pk} wurde von einer Vertretung oder Ihrer Teamleitung geändert."
    )
    assert f"http://127.0.0.1:8000/aufgaben/fall/{case.pk}/" in message.body
    assert message.extra_headers["Message-ID"] == f"<notification-{notification.pk}@localhost>"


def test_mails_name_no_client() -> None:
    case = new_case()
    person = case.person
    reject_as_supervisor(case)
    services.notifications_relay(now=T0)

    content = mail.outbox[0].subject + mail.outbox[0].body
    assert person.family_name not in content
    assert person.given_names not in content
    assert str(case.pk) in content


def test_a_rolled_back_change_leaves_no_notification_and_publishes_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    case = new_case()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        mock.patch(
            "cases.services.transitions._audit", side_effect=RuntimeError("after the state write")
        ),
        pytest.raises(RuntimeError),
    ):
        reject_as_supervisor(case)

    assert Notification.objects.count() == 0
    assert callbacks == []
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


def test_the_broker_being_down_fails_nothing_and_the_relay_sends_later(
    django_capture_on_commit_callbacks,
) -> None:
    case = new_case()
    services._broker_failed_at.clear()
    with (
        mock.patch(
            "notifications.tasks.notification_deliver_task.apply_async",
            side_effect=ConnectionRefusedError,
        ) as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        changed = reject_as_supervisor(case)

    assert changed.status == CaseStatus.REJECTED
    assert publish.call_count == 1
    assert Notification.objects.get().delivery == Delivery.PENDING
    assert mail.outbox == []
    services._broker_failed_at.clear()

    assert services.notifications_relay(now=T0) == 1
    assert services.notifications_relay(now=T0) == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.get().delivery == Delivery.SENT


@pytest.fixture
def celery_not_eager():
    """The production setting: tasks go through the broker, not inline."""
    from celery import current_app

    app = current_app._get_current_object()
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        app.conf.task_always_eager = True


def test_a_request_writes_the_outbox_and_never_publishes(
    django_capture_on_commit_callbacks, celery_not_eager
) -> None:
    # Issue 22 finding 2: a request's latency must not depend on the broker,
    # so the request path hands nothing to it; the relay delivers later.
    case = new_case()
    with (
        mock.patch("notifications.tasks.notification_deliver_task.apply_async") as deliver,
        mock.patch("notifications.tasks.notifications_relay_task.apply_async") as relay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        reject_as_supervisor(case)

    assert (deliver.call_count, relay.call_count) == (0, 0)
    assert Notification.objects.get().delivery == Delivery.PENDING
    assert mail.outbox == []

    assert services.notifications_relay(now=T0) == 1
    assert Notification.objects.get().delivery == Delivery.SENT
    assert len(mail.outbox) == 1


def test_work_in_the_worker_still_hands_its_rows_to_the_broker(celery_not_eager) -> None:
    from notifications.services import outbox

    services._broker_failed_at.clear()
    with mock.patch("notifications.tasks.notification_deliver_task.apply_async") as deliver:
        outbox._publish(notification_ids=[1])  # a request: nothing
        assert deliver.call_count == 0

        @celery_not_eager.task(name="tests.publish_from_worker")
        def from_worker() -> None:
            outbox._publish(notification_ids=[1])

        try:
            from_worker.apply()  # run as the worker runs it (not called directly)
        finally:
            celery_not_eager.tasks.pop(from_worker.name)

    assert deliver.call_count == 1


def test_delivering_twice_sends_one_mail() -> None:
    reject_as_supervisor(new_case())
    pk = Notification.objects.get().pk

    assert services.notifications_deliver(notification_ids=[pk], now=T0) == 1
    assert services.notifications_deliver(notification_ids=[pk], now=T0) == 0
    assert services.notifications_relay(now=T0) == 0
    assert len(mail.outbox) == 1


def test_enqueue_is_once_per_recipient_and_occasion() -> None:
    user = UserFactory()
    with transaction.atomic():
        first = services.notification_enqueue(
            recipients=[user, user.pk], kind=K.DEPUTY_TASK, key="deputy_task:1:2", now=T0
        )
        second = services.notification_enqueue(
            recipients=[user], kind=K.DEPUTY_TASK, key="deputy_task:1:2", now=T0
        )

    assert (len(first), second) == (1, [])
    assert Notification.objects.filter(recipient=user).count() == 1


def test_enqueue_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        services.notification_enqueue(recipients=[UserFactory()], kind="X", key="x", now=T0)
    assert Notification.objects.count() == 0


def test_an_extension_request_notifies_the_supervisors_then_the_requester() -> None:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    lead, other_lead = supervisor_of(case.owner.team), supervisor_of(case.owner.team)
    supervisor_of(TeamFactory(traeger=case.owner.traeger))  # another team: not told
    now = T0 + timedelta(days=1)
    request = case_services.extension_request_submit(
        case=case, actor=case.owner, now=now, reason="illiteracy", months=2, justification="A"
    )

    submitted = Notification.objects.filter(kind=K.EXTENSION_SUBMITTED)
    assert sorted(submitted.values_list("recipient_id", flat=True)) == sorted(
        [lead.pk, other_lead.pk]
    )
    assert {n.key for n in submitted} == {f"extension:{request.pk}:submitted"}

    case_services.extension_request_approve(request=request, actor=lead, now=now)
    decided = Notification.objects.get(kind=K.EXTENSION_DECIDED)
    assert (decided.recipient_id, decided.params) == (
        case.owner_id,
        {"request": request.pk, "decision": "APPROVED"},
    )


def test_a_case_registered_by_the_supervisor_notifies_its_manager() -> None:
    team = TeamFactory()
    owner, lead = manager_in(team), supervisor_of(team)
    from tests.cases.factories import PersonFactory

    case = case_services.case_create(
        person=PersonFactory(traeger=owner.traeger),
        owner=owner,
        actor=lead,
        now=T0,
        intake_channel=Case.IntakeChannel.HANDOVER_FSA,
    )

    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.kind, notification.key) == (
        owner.pk,
        K.CASE_ASSIGNED,
        f"case:{case.pk}:created",
    )


def test_handover_notification_reaches_the_gemeinde_s_traeger_once() -> None:
    gemeinde = GemeindeFactory()
    team = TeamFactory()
    team.traeger.gemeinden.add(gemeinde)
    manager, lead = manager_in(team), supervisor_of(team)
    manager_in(TeamFactory())  # a Träger that does not serve the Gemeinde
    UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger)  # not a recipient

    with transaction.atomic():
        first = services.notification_handover_submitted(
            handover_id=77, gemeinde_id=gemeinde.pk, now=T0, link="/uebergaben/77/"
        )
        again = services.notification_handover_submitted(
            handover_id=77, gemeinde_id=gemeinde.pk, now=T0, link="/uebergaben/77/"
        )
    services.notifications_relay(now=T0)

    assert sorted(n.recipient_id for n in first) == sorted([manager.pk, lead.pk])
    assert again == []
    assert len(mail.outbox) == 2
    assert "Übergabe (Nr. 77)" in mail.outbox[0].subject
    assert "http://127.0.0.1:8000/uebergaben/77/" in mail.outbox[0].body


# --- preferences and digests -----------------------------------------------


def test_digest_users_get_one_mail_a_day_with_everything() -> None:
    case_one, case_two = new_case(), new_case()
    owner = case_two.owner
    case_two.owner = case_one.owner  # same manager for both
    services.preference_set(user=case_one.owner, email_mode=EmailMode.DIGEST, now=T0)
    reject_as_supervisor(case_one)
    with transaction.atomic():
        services.notification_enqueue(
            recipients=[case_one.owner], kind=K.DEPUTY_TASK, key="deputy_task:9:9", now=T0
        )
    reject_as_supervisor(new_case(owner=owner))  # an immediate user

    services.notifications_relay(now=T0)
    assert len(mail.outbox) == 1  # only the immediate user's mail
    assert Notification.objects.filter(delivery=Delivery.DIGEST).count() == 2

    later = T0 + timedelta(hours=20)
    assert services.digests_send(day=later.date(), now=later) == 1
    assert services.digests_send(day=later.date(), now=later) == 0
    assert len(mail.outbox) == 2
    digest = mail.outbox[1]
    assert digest.to == [case_one.owner.email]
    assert digest.subject == "[Lotse] Ihre Benachrichtigungen vom 06.01.2026"
    assert digest.body.count("http://127.0.0.1:8000/") == 3  # two lines and the inbox
    assert Notification.objects.filter(delivery=Delivery.DIGESTED).count() == 2
    assert Digest.objects.get().sent_at == later


def test_preference_refuses_unknown_modes() -> None:
    user = UserFactory()
    with pytest.raises(ValueError, match="HOURLY"):
        services.preference_set(user=user, email_mode="HOURLY", now=T0)
    assert NotificationPreference.objects.filter(user=user).count() == 0


# --- failures become incidents ---------------------------------------------


def test_a_mail_failing_past_the_limit_becomes_an_incident_and_can_be_retried(
    settings,
) -> None:
    settings.LOTSE_NOTIFICATION_MAX_ATTEMPTS = 3
    reject_as_supervisor(new_case())
    notification = Notification.objects.get()

    with mock.patch("notifications.services._mail", side_effect=OSError("smtp down")):
        for _ in range(5):
            services.notifications_relay(now=T0)

    notification.refresh_from_db()
    assert (notification.delivery, notification.attempts) == (Delivery.FAILED, 3)
    incident = Incident.objects.get()
    assert (incident.source, incident.key, incident.error, incident.resolved_at) == (
        "notifications.deliver",
        f"notification:{notification.pk}",
        "OSError",
        None,
    )
    assert mail.outbox == []

    services.incident_retry(incident=incident, now=T0)
    services.notifications_relay(now=T0)

    notification.refresh_from_db()
    incident.refresh_from_db()
    assert (notification.delivery, incident.resolved_at) == (Delivery.SENT, T0)
    assert len(mail.outbox) == 1


def test_repeated_failures_count_up_one_open_incident() -> None:
    for _ in range(3):
        services.incident_record(source="sweep.period_expired", key="case:1", error="E", now=T0)

    assert list(Incident.objects.values_list("attempts", flat=True)) == [3]


# --- reminders -------------------------------------------------------------


def test_review_reminders_due_soon_overdue_and_escalated_once_each() -> None:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    lead = supervisor_of(case.owner.team)
    due = case.next_review_at
    at = timezone.make_aware(timezone.datetime.combine(due, timezone.datetime.min.time()))

    assert services.reminders_run(now=at - timedelta(days=15)) == 0
    assert services.reminders_run(now=at - timedelta(days=14)) == 1
    assert services.reminders_run(now=at - timedelta(days=3)) == 0  # same occasion
    assert services.reminders_run(now=at + timedelta(days=1)) == 1
    assert services.reminders_run(now=at + timedelta(days=13)) == 0
    assert services.reminders_run(now=at + timedelta(days=14)) == 1
    assert services.reminders_run(now=at + timedelta(days=30)) == 0

    rows = Notification.objects.order_by("pk").values_list("kind", "recipient_id", "key")
    assert list(rows) == [
        (K.REVIEW_DUE_SOON, case.owner_id, f"review_due:{case.pk}:{due}"),
        (K.REVIEW_OVERDUE, case.owner_id, f"review_overdue:{case.pk}:{due}"),
        (K.REVIEW_ESCALATED, lead.pk, f"review_escalated:{case.pk}:{due}"),
    ]


def test_period_end_reminders_at_90_30_and_7_days() -> None:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    Case.objects.filter(pk=case.pk).update(next_review_at=None)
    end = case.effective_end
    at = timezone.make_aware(timezone.datetime.combine(end, timezone.datetime.min.time()))

    counts = [
        services.reminders_run(now=at - timedelta(days=days)) for days in (91, 90, 60, 30, 8, 7, 0)
    ]

    assert counts == [0, 1, 0, 1, 0, 1, 0]
    assert sorted(Notification.objects.values_list("params__days", flat=True)) == [7, 30, 90]


def test_a_case_first_seen_near_its_end_gets_only_the_nearest_reminder() -> None:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    Case.objects.filter(pk=case.pk).update(next_review_at=None)
    at = timezone.make_aware(
        timezone.datetime.combine(case.effective_end, timezone.datetime.min.time())
    )

    assert services.reminders_run(now=at - timedelta(days=20)) == 1
    assert Notification.objects.get().key == f"period_end_30:{case.pk}:{case.effective_end}"


def _morning_of(day) -> timezone.datetime:
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))


def test_a_dormant_case_without_contact_tells_its_manager_before_the_closing_once() -> None:
    case = journey_to(CaseStatus.DORMANT, now=T0)  # paused, last consultation on T0's day
    due_on = add_months(timezone.localdate(T0), 6)
    at = _morning_of(due_on)

    assert services.reminders_run(now=at - timedelta(days=15)) == 0
    assert services.reminders_run(now=at - timedelta(days=14)) == 1
    assert services.reminders_run(now=at - timedelta(days=1)) == 0  # the same occasion

    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.kind, notification.case_id) == (
        case.owner_id,
        K.NO_CONTACT_NOTICE,
        case.pk,
    )
    assert (notification.key, notification.params) == (
        f"no_contact:{case.pk}:{due_on}",
        {"date": due_on.isoformat()},
    )
    assert notification_text(notification) == (
        f"Keine Beratung im ruhenden Fall {case.pk}: Am {due_on:%d.%m.%Y} geht er in den "
        "Abschluss über, wenn bis dahin keine Beratung erfasst ist."
    )
    # the notice comes before the sweep: on the day it names, the case moves
    assert (
        services.deadline_sweep(name="no_contact_timeout", now=at - timedelta(minutes=1)).done == 0
    )
    assert services.deadline_sweep(name="no_contact_timeout", now=at).done == 1
    assert services.reminders_run(now=at + timedelta(days=1)) == 0  # no longer dormant
    assert Notification.objects.filter(kind=K.NO_CONTACT_NOTICE).count() == 1


def test_a_consultation_in_a_dormant_case_moves_the_notice_to_the_new_day() -> None:
    case = journey_to(CaseStatus.DORMANT, now=T0)
    first_due = add_months(timezone.localdate(T0), 6)
    assert services.reminders_run(now=_morning_of(first_due) - timedelta(days=10)) == 1

    # A consultation two months on; the client still wants the pause.
    consult(case, now=T0 + timedelta(days=60))
    later_due = add_months(timezone.localdate(T0 + timedelta(days=60)), 6)

    assert services.reminders_run(now=_morning_of(first_due) - timedelta(days=5)) == 0
    assert services.deadline_sweep(name="no_contact_timeout", now=_morning_of(first_due)).done == 0
    assert services.reminders_run(now=_morning_of(later_due) - timedelta(days=14)) == 1
    keys = Notification.objects.filter(kind=K.NO_CONTACT_NOTICE).order_by("pk")
    assert list(keys.values_list("key", flat=True)) == [
        f"no_contact:{case.pk}:{first_due}",
        f"no_contact:{case.pk}:{later_due}",
    ]


def test_an_active_case_gets_no_no_contact_notice() -> None:
    journey_to(CaseStatus.ACTIVE, now=T0)
    due_on = add_months(timezone.localdate(T0), 6)

    services.reminders_run(now=_morning_of(due_on) - timedelta(days=7))

    assert not Notification.objects.filter(kind=K.NO_CONTACT_NOTICE).exists()


def test_an_extension_request_still_waiting_reminds_the_supervisors_once(settings) -> None:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    lead = supervisor_of(case.owner.team)
    request = case_services.extension_request_submit(
        case=case, actor=case.owner, now=T0, reason="illiteracy", months=2, justification="A"
    )
    Case.objects.filter(pk=case.pk).update(next_review_at=None, effective_end=None)
    later = T0 + timedelta(days=settings.LOTSE_APPROVAL_DAYS)

    assert services.reminders_run(now=later - timedelta(minutes=1)) == 0
    assert services.reminders_run(now=later) == 1
    assert services.reminders_run(now=later + timedelta(days=3)) == 0
    assert Notification.objects.filter(kind=K.EXTENSION_WAITING).get().key == (
        f"extension:{request.pk}:waiting"
    )
    assert Notification.objects.get(kind=K.EXTENSION_WAITING).recipient_id == lead.pk


def test_a_deputy_is_told_of_each_open_task_of_the_absent_manager_once() -> None:
    case = new_case()  # its flow assigns the owner a task
    deputy = manager_in(case.owner.team)
    grant = DeputyGrantFactory(
        principal=case.owner,
        deputy=deputy,
        valid_from=T0 + timedelta(days=1),
        valid_until=T0 + timedelta(days=10),
    )

    assert services.reminders_run(now=T0) == 0  # the grant has not begun
    assert services.reminders_run(now=T0 + timedelta(days=2)) == 1
    assert services.reminders_run(now=T0 + timedelta(days=3)) == 0
    assert services.reminders_run(now=T0 + timedelta(days=11)) == 0  # over
    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.kind, notification.case_id) == (
        deputy.pk,
        K.DEPUTY_TASK,
        case.pk,
    )
    assert notification.key.startswith(f"deputy_task:{grant.pk}:")


# --- deadline sweeps -------------------------------------------------------


def test_no_show_sweep_rejects_only_the_due_cases_once_as_the_system(settings) -> None:
    owner = manager_in(TeamFactory())
    now = T0 + timedelta(days=settings.LOTSE_NO_SHOW_DAYS)
    due = bulk_cases(owner=owner, count=3, status=CaseStatus.REGISTERED, registered_at=T0)
    fresh = bulk_cases(
        owner=owner, count=2, status=CaseStatus.REGISTERED, registered_at=T0 + timedelta(days=1)
    )

    assert services.sweep_candidates(name="no_show_timeout", now=now) == due
    result = services.deadline_sweep(name="no_show_timeout", now=now)
    again = services.deadline_sweep(name="no_show_timeout", now=now)

    assert (result.done, result.skipped, result.failed) == (3, 0, 0)
    assert (again.done, again.skipped, again.failed) == (0, 0, 0)
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in due + fresh] == ["REJECTED"] * 3 + ["REGISTERED"] * 2
    events = AuditEvent.objects.filter(event_type="cases.case.no_show_timeout")
    assert sorted(events.values_list("case_id", flat=True)) == due
    assert set(events.values_list("actor_id", "actor_role")) == {(None, "SYSTEM")}
    deadline = Notification.objects.filter(kind=K.DEADLINE_REACHED)
    assert sorted(deadline.values_list("case_id", flat=True)) == due


def test_shards_split_the_due_cases_without_overlap_and_each_moves_only_its_own(settings) -> None:
    owner = manager_in(TeamFactory())
    now = T0 + timedelta(days=settings.LOTSE_NO_SHOW_DAYS)
    due = bulk_cases(owner=owner, count=12, status=CaseStatus.REGISTERED, registered_at=T0)

    parts = [
        services.sweep_candidates(name="no_show_timeout", now=now, shard=shard, shards=3)
        for shard in range(3)
    ]
    busy = max(range(3), key=lambda shard: len(parts[shard]))
    first = services.deadline_sweep(name="no_show_timeout", now=now, shard=busy, shards=3)

    assert sorted(pk for part in parts for pk in part) == due
    assert all(
        services.sweep_shard_of(pk, shards=3) == shard
        for shard, part in enumerate(parts)
        for pk in part
    )
    assert 0 < first.done == len(parts[busy]) < len(due)
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert {pk for pk in due if statuses[pk] == "REJECTED"} == set(parts[busy])
    others = [shard for shard in range(3) if shard != busy]
    rest = [
        services.deadline_sweep(name="no_show_timeout", now=now, shard=shard, shards=3).done
        for shard in others
    ]
    assert rest == [len(parts[shard]) for shard in others]
    assert services.deadline_sweep(name="no_show_timeout", now=now).done == 0
    with pytest.raises(ValueError, match="shard 3 is not one of 3 shards"):
        services.sweep_candidates(name="no_show_timeout", now=now, shard=3, shards=3)


def test_ids_in_a_pattern_still_spread_over_every_shard() -> None:
    assert {services.sweep_shard_of(pk, shards=3) for pk in range(30, 300, 3)} == {0, 1, 2}
    # every tenth case due (as in `make bench`): `pk % 2` would put all in one
    assert {services.sweep_shard_of(pk, shards=2) for pk in range(10, 200, 10)} == {0, 1}


def test_beat_starts_one_sweep_per_shard() -> None:
    from django.conf import settings as django_settings

    sweeps = [
        entry
        for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "notifications.tasks.deadline_sweeps_task"
    ]
    shards = django_settings.LOTSE_SWEEP_SHARDS

    assert sorted(entry["kwargs"]["shard"] for entry in sweeps) == list(range(shards))
    assert {entry["kwargs"]["shards"] for entry in sweeps} == {shards}


def test_period_expired_sweep_moves_the_case_to_closing_the_day_after_the_end() -> None:
    case = journey_to(CaseStatus.ACTIVE, now=T0)
    end = case.effective_end
    on_the_end = timezone.make_aware(timezone.datetime.combine(end, timezone.datetime.max.time()))

    assert services.deadline_sweep(name="period_expired", now=on_the_end).done == 0
    assert (
        services.deadline_sweep(name="period_expired", now=on_the_end + timedelta(seconds=1)).done
        == 1
    )
    case.refresh_from_db()
    assert (case.status, case.closing_ground) == (CaseStatus.CLOSING, "PERIOD_EXPIRED")


def test_no_contact_sweep_closes_a_dormant_case_after_six_months_without_consultation() -> None:
    case = journey_to(CaseStatus.DORMANT, now=T0)
    from cases.services import add_months

    last_day = add_months(timezone.localdate(T0), 6)
    before = timezone.make_aware(timezone.datetime.combine(last_day, timezone.datetime.min.time()))

    assert (
        services.deadline_sweep(name="no_contact_timeout", now=before - timedelta(days=1)).done == 0
    )
    assert services.deadline_sweep(name="no_contact_timeout", now=before).done == 1
    assert services.deadline_sweep(name="no_contact_timeout", now=before).done == 0
    case.refresh_from_db()
    assert (case.status, case.closing_ground) == (CaseStatus.CLOSING, "NO_CONTACT")


def test_a_case_that_fails_in_a_sweep_opens_an_incident_and_the_rest_go_on(settings) -> None:
    owner = manager_in(TeamFactory())
    now = T0 + timedelta(days=settings.LOTSE_NO_SHOW_DAYS)
    ids = bulk_cases(owner=owner, count=3, status=CaseStatus.REGISTERED, registered_at=T0)
    real = case_services.case_transition

    def broken_on_the_second(*, case, **kwargs):
        if case == ids[1]:
            raise RuntimeError("boom")
        return real(case=case, **kwargs)

    with mock.patch("cases.services.sweeps.case_transition", broken_on_the_second):
        result = services.deadline_sweep(name="no_show_timeout", now=now)

    assert (result.done, result.failed) == (2, 1)
    assert Case.objects.get(pk=ids[1]).status == CaseStatus.REGISTERED
    incident = Incident.objects.get()
    assert (incident.source, incident.key, incident.error) == (
        "sweep.no_show_timeout",
        f"case:{ids[1]}",
        "RuntimeError",
    )
    assert services.deadline_sweep(name="no_show_timeout", now=now).done == 1  # tried again
