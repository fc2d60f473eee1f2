"""Reminders: set-based inserts keyed by their occasion, once per occasion."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import DeputyGrant, Role, User
from cases.clock import add_months, no_contact_timeout_on, start_of_day
from cases.models import CLOCK_STATES, Case, CaseStatus, Consultation, ExtensionRequest
from cases.models import ExtensionStatus as ES
from notifications.models import (
    NotificationKind,
)
from notifications.services.outbox import (
    notifications_bulk_enqueue,
)
from notifications.services.referral_followup import referral_followup_rows

logger = logging.getLogger("notifications.services")
K = NotificationKind


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
            paused_at__lt=start_of_day(latest + timedelta(days=4)),
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

    # A request submitted in time keeps the case open past the end of the
    # period (the period-end sweep waits for the decision): its manager and
    # the deciding supervisors are reminded once the period is over, the
    # supervisors again (escalation) LOTSE_EXTENSION_ESCALATION_DAYS later.
    escalate_before = today - timedelta(days=settings.LOTSE_EXTENSION_ESCALATION_DAYS)
    overdue = ExtensionRequest.objects.filter(
        status=ES.SUBMITTED,
        case__status__in=CLOCK_STATES,
        case__effective_end__lt=today,
        submitted_at__lt=start_of_day(today),
    ).values_list(
        "pk",
        "case_id",
        "case__owner_id",
        "case__owner__team_id",
        "requested_by_id",
        "case__effective_end",
        "submitted_at",
    )
    for request_id, case_id, owner_id, team_id, requester, end, submitted in overdue:
        if timezone.localdate(submitted) > end:
            continue  # not in time: the sweep does not wait for it
        params = {"request": request_id, "date": end.isoformat(), "period_ended": True}
        key = f"extension:{request_id}:period_ended"
        deciders = [pk for pk in supervisors.get(team_id, []) if pk != requester]
        for recipient in dict.fromkeys([owner_id, *deciders]):
            yield recipient, K.EXTENSION_WAITING, key, case_id, params
        if end <= escalate_before:
            days = settings.LOTSE_EXTENSION_ESCALATION_DAYS
            escalated = {**params, "escalated": True, "days": days}
            for supervisor in deciders:
                key = f"extension:{request_id}:escalated"
                yield supervisor, K.EXTENSION_WAITING, key, case_id, escalated

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
    rows = chain(_reminder_rows(now=now), referral_followup_rows(now=now))
    return notifications_bulk_enqueue(rows, now=now)
