"""Writes of notifications: the outbox, its relay, digests, reminders,
deadline sweeps and incidents.

- `notification_enqueue` writes outbox rows inside the caller's transaction
  and asks for delivery after commit (`transaction.on_commit`). Publishing
  never raises into the caller: with the broker down the rows wait, and the
  relay sweep (beat) sends them later.
- Delivery is at least once: the relay locks a pending row (`skip_locked`),
  sends, marks it sent, all in one transaction; a row that is no longer
  pending is left alone, so a repeated message changes nothing. Every mail
  carries a Message-ID derived from the row, so even a mail re-sent after a
  crash between send and commit is one mail to the recipient's client.
- Reminders are set-based inserts keyed by their occasion; deadline sweeps
  move one case per transaction through `cases.services.case_transition`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic as time_monotonic
from typing import Any
from uuid import uuid4

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import DeputyGrant, Role, User
from cases.models import CLOCK_STATES, Case, CaseStatus, Consultation, ExtensionRequest
from cases.models import ExtensionStatus as ES
from cases.services import (
    ConcurrentChange,
    GuardFailed,
    TransitionNotAvailable,
    add_months,
    case_transition,
    no_contact_timeout_on,
)
from notifications.models import (
    Delivery,
    Digest,
    EmailMode,
    Heartbeat,
    Incident,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.publishing import call_bounded
from notifications.selectors import notification_text

logger = logging.getLogger(__name__)
K = NotificationKind


def heartbeat_record(*, name: str, worker: str, now: datetime) -> Heartbeat:
    """Record that the periodic task `name` ran on `worker` at `now`.

    Idempotent: a redelivered heartbeat only moves the timestamp.
    """
    heartbeat, _created = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now, "worker": worker[:200]}
    )
    return heartbeat


# --- incidents -------------------------------------------------------------


def incident_record(*, source: str, key: str, error: str, now: datetime) -> Incident:
    """Open an incident for `source`/`key`, or count up the open one."""
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update()
            .filter(source=source, key=key, resolved_at__isnull=True)
            .first()
        )
        if incident is None:
            try:
                with transaction.atomic():
                    incident = Incident.objects.create(
                        source=source, key=key, error=error[:100], first_seen=now, last_seen=now
                    )
            except IntegrityError:  # another worker opened it just now
                return incident_record(source=source, key=key, error=error, now=now)
            logger.error("incident %s %s: %s", source, key, error)
            return incident
        incident.attempts += 1
        incident.error = error[:100]
        incident.last_seen = now
        incident.save(update_fields=["attempts", "error", "last_seen"])
        return incident


def incident_retry(*, incident: Incident, now: datetime) -> Incident:
    """Resolve `incident` and queue its work again (admin action).

    A failed notification goes back to the outbox with a fresh attempt
    count; a failed sweep case is tried again by the next sweep anyway.
    """
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.resolved_at is not None:
            return locked
        if locked.source == "notifications.deliver" and locked.key.startswith("notification:"):
            pk = int(locked.key.split(":", 1)[1])
            Notification.objects.filter(pk=pk, delivery=Delivery.FAILED).update(
                delivery=Delivery.PENDING, attempts=0
            )
        locked.resolved_at = now
        locked.save(update_fields=["resolved_at"])
    _publish_after_commit(relay=True)
    return locked


# --- enqueue (inside the caller's transaction) -----------------------------

_deferred: ContextVar[bool] = ContextVar("lotse_notifications_deferred", default=False)


@contextmanager
def publishing_deferred() -> Iterator[None]:
    """Write outbox rows without publishing per commit (sweeps, bulk work);
    the caller starts one relay at the end."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


# After a failed publish, this process stops trying for a few seconds: the
# rows wait in the outbox and the relay sweep sends them, and requests do
# not pay a connection attempt each while the broker is down.
BROKER_BACKOFF_SECONDS = 5.0
_broker_failed_at: list[float] = []


def _publish(*, notification_ids: list[int] | None = None, relay: bool = False) -> None:
    """Hand delivery to the broker; never raise (the relay sweep catches up)."""
    from notifications import tasks

    if _broker_failed_at and time_monotonic() - _broker_failed_at[-1] < BROKER_BACKOFF_SECONDS:
        return

    def publish() -> None:
        if notification_ids:
            tasks.notification_deliver_task.apply_async(
                kwargs={"notification_ids": notification_ids}, retry=False
            )
        if relay:
            tasks.notifications_relay_task.apply_async(kwargs={}, retry=False)

    try:
        call_bounded(publish, app=current_app._get_current_object())
    except Exception as exc:  # noqa: BLE001 - a broker outage must not fail the change
        _broker_failed_at[:] = [time_monotonic()]
        logger.warning("broker unavailable, outbox keeps the rows: %s", type(exc).__name__)
    else:
        _broker_failed_at.clear()


def _publish_after_commit(
    *, notification_ids: list[int] | None = None, relay: bool = False
) -> None:
    if _deferred.get():
        return
    ids = list(notification_ids or [])
    transaction.on_commit(lambda: _publish(notification_ids=ids, relay=relay))


def notification_enqueue(
    *,
    recipients: Iterable[User | int],
    kind: str,
    key: str,
    now: datetime,
    case: Case | int | None = None,
    params: dict[str, Any] | None = None,
) -> list[Notification]:
    """Write one notification per recipient in the caller's transaction.

    The public entry point for other apps. `key` names the occasion: a
    recipient who already has a notification with this key gets none
    (returned list leaves them out). `params` holds ids, codes and dates
    only, never client text. Delivery follows after commit.
    """
    if kind not in K.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    case_id = case.pk if isinstance(case, Case) else case
    created = []
    with transaction.atomic():
        for recipient in dict.fromkeys(r if isinstance(r, int) else r.pk for r in recipients):
            notification = Notification(
                recipient_id=recipient,
                kind=kind,
                key=key[:200],
                case_id=case_id,
                params=params or {},
                created_at=now,
            )
            try:
                with transaction.atomic():
                    notification.save()
            except IntegrityError:
                if not Notification.objects.filter(recipient_id=recipient, key=key).exists():
                    raise
                continue
            created.append(notification)
    if created:
        _publish_after_commit(notification_ids=[n.pk for n in created])
    return created


_NEW_FIELDS = [
    Notification._meta.get_field(name)
    for name in ("recipient", "kind", "key", "case", "params", "created_at", "delivery", "attempts")
]
_NEW_SQL = "INSERT INTO {} ({}) VALUES ({}) RETURNING id".format(  # noqa: S608 - field names
    Notification._meta.db_table,
    ", ".join(field.column for field in _NEW_FIELDS),
    ", ".join(["%s"] * len(_NEW_FIELDS)),
)


def _notification_new(
    *, recipient_id: int, kind: str, key: str, now: datetime, case_id: int, params: dict[str, Any]
) -> Notification:
    """Write a notification whose key is new by construction (a one-off
    occasion with a random part): no savepoint needed, nothing to skip.

    Plain SQL through the fields' own adaptation: every transition made by
    the system or someone other than the owner (each swept case) writes
    one, and the ORM's statement compilation cost more than the INSERT.
    """
    notification = Notification(
        recipient_id=recipient_id,
        kind=kind,
        key=key,
        case_id=case_id,
        params=params,
        created_at=now,
        delivery=Delivery.PENDING,
        attempts=0,
    )
    values = [
        field.get_db_prep_save(getattr(notification, field.attname), connection)
        for field in _NEW_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(_NEW_SQL, values)
        (notification.pk,) = cursor.fetchone()
    notification._state.adding, notification._state.db = False, connection.alias
    _publish_after_commit(notification_ids=[notification.pk])
    return notification


def notifications_bulk_enqueue(
    rows: Iterable[tuple[int, str, str, int | None, dict[str, Any]]], *, now: datetime
) -> int:
    """Insert (recipient_id, kind, key, case_id, params) rows set-based,
    skipping occasions that already exist; return how many were written."""
    batch = [
        Notification(
            recipient_id=recipient,
            kind=kind,
            key=key,
            case_id=case_id,
            params=params,
            created_at=now,
        )
        for recipient, kind, key, case_id, params in rows
    ]
    if not batch:
        return 0
    created = 0
    with transaction.atomic():
        for start in range(0, len(batch), 2000):
            chunk = batch[start : start + 2000]
            # Both columns of the unique index, so the lookup uses it.
            existing = set(
                Notification.objects.filter(
                    recipient_id__in={n.recipient_id for n in chunk},
                    key__in={n.key for n in chunk},
                ).values_list("recipient_id", "key")
            )
            new = [n for n in chunk if (n.recipient_id, n.key) not in existing]
            # A reminder written by a concurrent run meanwhile is skipped.
            Notification.objects.bulk_create(new, ignore_conflicts=True)
            created += len(new)
    if created:
        _publish_after_commit(relay=True)
    return created


def _gemeinde_deciders(gemeinde_id: int) -> list[int]:
    """The active managers and supervisors of every Träger serving the Gemeinde."""
    return list(
        User.objects.filter(
            is_active=True,
            role__in=[Role.INTEGRATION_MANAGER, Role.SUPERVISOR],
            traeger__gemeinden__id=gemeinde_id,
        ).values_list("pk", flat=True)
    )


def notification_handover_submitted(
    *, handover_id: int, gemeinde_id: int, now: datetime, link: str = ""
) -> list[Notification]:
    """Tell the integration managers and supervisors of every Träger serving
    `gemeinde_id` that a new handover arrived (call inside the submitting
    transaction of the handover app). Once per handover and person; the
    mail names the handover's number and `link` (a path), nothing else."""
    recipients = _gemeinde_deciders(gemeinde_id)
    return notification_enqueue(
        recipients=recipients,
        kind=K.HANDOVER_SUBMITTED,
        key=f"handover:{handover_id}:submitted",
        now=now,
        params={"handover": handover_id, "link": link},
    )


def notification_handovers_imported(
    *, handover_ids: list[int], gemeinde_id: int, now: datetime, link: str = ""
) -> list[Notification]:
    """One notification per person for all handovers of one import that
    went to `gemeinde_id` (an import of hundreds must not mean hundreds of
    mails). Call inside the importing transaction."""
    first = min(handover_ids)
    recipients = _gemeinde_deciders(gemeinde_id)
    return notification_enqueue(
        recipients=recipients,
        kind=K.HANDOVER_SUBMITTED,
        key=f"handover:{first}:imported:{gemeinde_id}",
        now=now,
        params={"handover": first, "count": len(handover_ids), "link": link},
    )


# --- what case changes notify (receiver of cases.signals.case_changed) ------


def _team_supervisors(owner_id: int) -> list[int]:
    return list(
        User.objects.filter(
            is_active=True,
            role=Role.SUPERVISOR,
            team__members__pk=owner_id,
        ).values_list("pk", flat=True)
    )


def notifications_for_case_change(
    *, case: Case, change: str, actor: User | None, now: datetime
) -> list[Notification]:
    """Write the notifications a case change causes (inside its transaction).

    - a case registered for a manager by someone else: the owner;
    - a transition by the system (a deadline) or by someone other than the
      owner (deputy, supervisor): the owner;
    - an extension request submitted: the supervisors of the owner's team;
      decided: the requester.
    Changes the owner makes themselves notify nobody.
    """
    own = actor is not None and actor.pk == case.owner_id
    if change == "created":
        if own:
            return []
        return notification_enqueue(
            recipients=[case.owner_id],
            kind=K.CASE_ASSIGNED,
            key=f"case:{case.pk}:created",
            case=case,
            now=now,
        )
    if change.startswith("transition:"):
        if own:
            return []
        name = change.split(":", 1)[1]
        notification = _notification_new(
            recipient_id=case.owner_id,
            kind=K.DEADLINE_REACHED if actor is None else K.CASE_CHANGED,
            # Transitions can repeat (pause, resume); each is its own occasion.
            key=f"case:{case.pk}:{name}:{uuid4().hex}",
            case_id=case.pk,
            now=now,
            params={"transition": name, "status": case.status},
        )
        return [notification]
    if change == "extension:SUBMITTED":
        request = ExtensionRequest.objects.filter(case=case, status=ES.SUBMITTED).first()
        if request is None:
            return []
        return notification_enqueue(
            recipients=[
                pk for pk in _team_supervisors(case.owner_id) if pk != request.requested_by_id
            ],
            kind=K.EXTENSION_SUBMITTED,
            key=f"extension:{request.pk}:submitted",
            case=case,
            now=now,
            params={"request": request.pk},
        )
    if change in ("extension:APPROVED", "extension:REJECTED"):
        status = change.split(":", 1)[1]
        request = ExtensionRequest.objects.filter(case=case, status=status).order_by("-pk").first()
        if request is None:
            return []
        return notification_enqueue(
            recipients=[request.requested_by_id],
            kind=K.EXTENSION_DECIDED,
            key=f"extension:{request.pk}:{status.lower()}",
            case=case,
            now=now,
            params={"request": request.pk, "decision": status},
        )
    return []


# --- inbox -----------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id: int, now: datetime) -> Notification:
    """Mark the user's own notification read (idempotent); another user's
    notification does not exist for them (NotificationNotFound, 404)."""
    from notifications.selectors import notification_get_for_user

    with transaction.atomic():
        notification = notification_get_for_user(
            user=user, notification_id=notification_id, for_update=True
        )
        if notification.read_at is None:
            notification.read_at = now
            notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User, now: datetime) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


def preference_set(*, user: User, email_mode: str, now: datetime) -> NotificationPreference:
    """Choose immediate mails or a daily digest (ValueError on other input)."""
    if email_mode not in EmailMode.values:
        raise ValueError(email_mode)
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_mode": email_mode, "updated_at": now}
    )
    return preference


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


# --- reminders (set-based, once per occasion) ------------------------------


def _local_today(now: datetime) -> date:
    return timezone.localdate(now)


def _reminder_rows(*, now: datetime) -> Iterator[tuple[int, str, str, int | None, dict[str, Any]]]:
    today = _local_today(now)
    supervisors: dict[int, list[int]] = defaultdict(list)
    for pk, team_id in User.objects.filter(
        is_active=True, role=Role.SUPERVISOR, team__isnull=False
    ).values_list("pk", "team_id"):
        supervisors[team_id].append(pk)

    # Plan review due soon, overdue, and escalated to the team's supervisors.
    notice = today + timedelta(days=settings.LOTSE_REVIEW_REMINDER_DAYS)
    escalate = today - timedelta(days=settings.LOTSE_REVIEW_ESCALATION_DAYS)
    reviews = Case.objects.filter(
        status=CaseStatus.ACTIVE, next_review_at__isnull=False, next_review_at__lte=notice
    ).values_list("pk", "owner_id", "owner__team_id", "next_review_at")
    for case_id, owner_id, team_id, due in reviews:
        params = {"date": due.isoformat()}
        if due >= today:
            yield owner_id, K.REVIEW_DUE_SOON, f"review_due:{case_id}:{due}", case_id, params
            continue
        yield owner_id, K.REVIEW_OVERDUE, f"review_overdue:{case_id}:{due}", case_id, params
        if due <= escalate:
            for supervisor in supervisors.get(team_id, []):
                key = f"review_escalated:{case_id}:{due}"
                yield supervisor, K.REVIEW_ESCALATED, key, case_id, params

    # The consultation period ends in 90, 30, 7 days (the nearest threshold).
    thresholds = sorted(settings.LOTSE_PERIOD_REMINDER_DAYS)
    if thresholds:
        ending = Case.objects.filter(
            status__in=CLOCK_STATES,
            effective_end__gte=today,
            effective_end__lte=today + timedelta(days=thresholds[-1]),
        ).values_list("pk", "owner_id", "effective_end")
        for case_id, owner_id, end in ending:
            left = (end - today).days
            threshold = next(t for t in thresholds if left <= t)
            key = f"period_end_{threshold}:{case_id}:{end}"
            params = {"date": end.isoformat(), "days": threshold}
            yield owner_id, K.PERIOD_ENDING, key, case_id, params

    # A dormant case without consultation: its manager is told before
    # no_contact_timeout moves it to closing (DOMAIN.md T12, "IM notified
    # first"), once per timeout day; a consultation recorded meanwhile
    # moves the day and makes a new occasion.
    notice = settings.LOTSE_NO_CONTACT_NOTICE_DAYS
    latest = add_months(today + timedelta(days=notice), -settings.LOTSE_NO_CONTACT_MONTHS)
    last_consultation = (
        Consultation.objects.filter(case_id=OuterRef("pk"), status=Consultation.Status.COMPLETED)
        .order_by("-held_on")
        .values("held_on")[:1]
    )
    dormant = (
        Case.objects.filter(
            # A superset: month ends make add_months non-invertible.
            status=CaseStatus.DORMANT,
            paused_at__lt=_midnight(latest + timedelta(days=4)),
        )
        .annotate(last_consultation=Subquery(last_consultation))
        .values_list("pk", "owner_id", "paused_at", "last_consultation")
    )
    for case_id, owner_id, paused_at, last in dormant:
        due_on = no_contact_timeout_on(paused_at=paused_at, last_consultation=last)
        if due_on is not None and today < due_on <= today + timedelta(days=notice):
            key = f"no_contact:{case_id}:{due_on}"
            params = {"date": due_on.isoformat()}
            yield owner_id, K.NO_CONTACT_NOTICE, key, case_id, params

    # Extension requests still undecided after the approval period.
    waiting = ExtensionRequest.objects.filter(
        status=ES.SUBMITTED,
        submitted_at__lte=now - timedelta(days=settings.LOTSE_APPROVAL_DAYS),
    ).values_list("pk", "case_id", "case__owner__team_id", "requested_by_id")
    for request_id, case_id, team_id, requester in waiting:
        for supervisor in supervisors.get(team_id, []):
            if supervisor != requester:
                key = f"extension:{request_id}:waiting"
                yield supervisor, K.EXTENSION_WAITING, key, case_id, {"request": request_id}

    # Tasks of an absent manager, for each deputy with a grant running now.
    grants = DeputyGrant.objects.filter(
        valid_from__lte=now, valid_until__gt=now, revoked_at__isnull=True
    ).values_list("pk", "principal_id", "deputy_id")
    by_principal: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for grant_id, principal, deputy in grants:
        by_principal[principal].append((grant_id, deputy))
    if by_principal:
        from viewflow.workflow.models import Task
        from viewflow.workflow.status import STATUS

        tasks = Task.objects.filter(
            owner_id__in=list(by_principal),
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
            process__caseprocess__isnull=False,
        ).values_list("pk", "owner_id", "process__caseprocess__case_id")
        for task_id, principal, case_id in tasks:
            for grant_id, deputy in by_principal[principal]:
                key = f"deputy_task:{grant_id}:{task_id}"
                yield deputy, K.DEPUTY_TASK, key, case_id, {"task": task_id}


def reminders_run(*, now: datetime) -> int:
    """Write every reminder that is due at `now` and not yet written;
    return how many are new. A second run at the same time writes none."""
    return notifications_bulk_enqueue(_reminder_rows(now=now), now=now)


# --- deadline sweeps (one case per transaction) ----------------------------

SWEEPS = ("period_expired", "no_show_timeout", "no_contact_timeout")


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _due(name: str, now: datetime) -> Q:
    """The cases that may be due for sweep `name` at `now` (a superset is
    harmless: the transition's own guard decides, under the case lock)."""
    today = _local_today(now)
    if name == "period_expired":
        return Q(status__in=CLOCK_STATES, effective_end__lt=today)
    if name == "no_show_timeout":
        # Registered on a (Berlin) day at least LOTSE_NO_SHOW_DAYS ago.
        boundary = _midnight(today - timedelta(days=settings.LOTSE_NO_SHOW_DAYS - 1))
        return Q(status=CaseStatus.REGISTERED, registered_at__lt=boundary)
    if name == "no_contact_timeout":
        # Month ends make add_months non-invertible; a few days of slack
        # keep the scan a superset.
        cutoff = add_months(today, -settings.LOTSE_NO_CONTACT_MONTHS) + timedelta(days=3)
        recent = Consultation.objects.filter(
            status=Consultation.Status.COMPLETED, held_on__gt=cutoff
        ).values("case_id")
        paused_before = _midnight(cutoff + timedelta(days=1))
        return Q(status=CaseStatus.DORMANT, paused_at__lt=paused_before) & ~Q(pk__in=recent)
    raise ValueError(f"unknown sweep {name!r}")


# Knuth's multiplicative hash (its upper 16 of 32 bits: the lower ones keep
# the id's parity) spreads ids over the shards evenly even when they come in
# a pattern (every tenth id due, say), which `pk % shards` would put all in
# one shard.
_SPREAD = 2654435761


def sweep_shard_of(pk: int, *, shards: int) -> int:
    """The shard whose sweep handles case `pk` (as `sweep_candidates` picks)."""
    return _SPREAD * pk % 2**32 // 2**16 % shards


def sweep_candidates(
    *, name: str, now: datetime, limit: int | None = None, shard: int = 0, shards: int = 1
) -> list[int]:
    """The ids of the cases due for sweep `name`, one set-based scan; with
    `shards` > 1 only those of shard `shard` (`sweep_shard_of`), so that
    that many sweeps can work side by side on disjoint cases."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of {shards} shards")
    due = Case.objects.filter(_due(name, now))
    if shards > 1:

        def big(value: int) -> Value:  # 64-bit, or the product overflows
            return Value(value, output_field=BigIntegerField())

        spread = (
            big(_SPREAD) * Cast("pk", BigIntegerField()) % big(2**32) / big(2**16) % big(shards)
        )
        due = due.alias(bucket=spread).filter(bucket=shard)
    ids = due.order_by("pk").values_list("pk", flat=True)
    return list(ids[:limit] if limit else ids)


# The states each sweep's transition leaves (DOMAIN.md §14.1).
_SOURCES = {
    "period_expired": {str(state) for state in CLOCK_STATES},
    "no_show_timeout": {str(CaseStatus.REGISTERED)},
    "no_contact_timeout": {str(CaseStatus.DORMANT)},
}
_CLAIM_SQL = "SELECT status FROM cases_case WHERE id = %s{}".format(  # noqa: S608 - constant
    " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
)


def _claim(case_id: int) -> str | None:
    """Lock the case row unless another transaction holds it; return its
    status (None when it is held or gone). One plain statement: the sweep
    runs it once per due case."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [case_id])
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass
class SweepResult:
    done: int = 0
    skipped: int = 0
    failed: int = 0


def deadline_sweep(
    *,
    name: str,
    now: datetime,
    candidates: list[int] | None = None,
    shard: int = 0,
    shards: int = 1,
) -> SweepResult:
    """Fire the system transition `name` on every due case, one case per
    transaction, as the system (actor None).

    Each case is claimed with `FOR UPDATE SKIP LOCKED` and re-checked under
    the lock: a case another sweep holds or has already moved is skipped,
    so sweeps may run side by side and again; each deadline moves its case
    once. A case that fails unexpectedly opens an incident and is tried
    again by the next sweep. `shard` of `shards` restricts the sweep to the
    cases of that shard (beat starts one sweep per shard,
    `LOTSE_SWEEP_SHARDS`, on as many worker processes).
    """
    if name not in SWEEPS:
        raise ValueError(f"unknown sweep {name!r}")
    ids = (
        sweep_candidates(name=name, now=now, shard=shard, shards=shards)
        if candidates is None
        else candidates
    )
    result = SweepResult()
    sources = _SOURCES[name]
    with publishing_deferred():
        for pk in ids:
            try:
                with transaction.atomic():
                    status = _claim(pk)
                    if status not in sources:  # held by another sweep, or moved on
                        result.skipped += 1
                        continue
                    # The transition's own guard decides whether it is due.
                    case_transition(case=pk, name=name, actor=None, now=now)
                result.done += 1
            except (GuardFailed, TransitionNotAvailable, ConcurrentChange):
                result.skipped += 1
            except Exception as exc:  # one broken case must not stop the rest
                result.failed += 1
                logger.exception("sweep %s failed on case %s", name, pk)
                incident_record(
                    source=f"sweep.{name}", key=f"case:{pk}", error=type(exc).__name__, now=now
                )
    if result.done:  # after commit, should a caller hold a transaction open
        _publish_after_commit(relay=True)
    return result
