"""Writes of the appointments app: plan, cancel, held, no-show, the sweep
(reminders and no-shows) and the manager's calendar link.

Each change of an appointment locks its case first (through the case
services' chokepoint, which also checks that the actor is the case's
manager or deputy: a foreign case is a 404), writes one audit event in the
case's chain and, where the appointment ends in a consultation, records
it through the case services.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from appointments.models import Appointment, CalendarFeed
from cases import services as case_services
from cases.effects import CaseChange, ChangeKind
from cases.models import Case, CaseStatus, Catalogue, Consultation
from cases.selectors import SYSTEM, parse_pk
from cases.services import CONTENT_WRITERS, GuardFailed, InvalidArguments
from config.errors import NotFound
from notifications.models import NotificationKind
from notifications.services import notification_enqueue

S = Appointment.Status
PLANNABLE = frozenset(
    {
        CaseStatus.REGISTERED,
        CaseStatus.INITIAL_COUNSELLING,
        CaseStatus.PLANNING,
        CaseStatus.ACTIVE,
        CaseStatus.DORMANT,
        CaseStatus.CLOSING,
    }
)


class AppointmentNotFound(NotFound):
    default_code = "appointment_not_found"


class AppointmentClosed(GuardFailed):
    default_code = "appointment_closed"


def _audit(case: Case, actor: User | None, now: datetime, event: str, row: Appointment) -> None:
    case_services._audit(
        case=case,
        actor=actor,
        now=now,
        event_type=f"appointments.appointment.{event}",
        obj=row,
        reason=row.status,
        data={
            "appointment_id": row.pk,
            "starts_at": row.starts_at.isoformat(),
            **({"consultation_id": row.consultation_id} if row.consultation_id else {}),
        },
    )


def _aware(value: Any, *, field_name: str) -> datetime:
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidArguments(
                _("The date and time are not valid."),
                fields={field_name: [_("Use the form YYYY-MM-DDTHH:MM.")]},
            )
        value = parsed
    if not isinstance(value, datetime):
        raise InvalidArguments(
            _("The date and time are missing."), fields={field_name: [_("This field is required.")]}
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def appointment_plan(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    starts_at: datetime | str,
    duration_minutes: int,
    form: str,
    topic: str,
    place: str = "",
    interpreter: str = "",
) -> Appointment:
    """Plan a consultation with the client at a day and time (in the
    actor's calendar). It lies in the future and within the consultation
    period."""
    start = _aware(starts_at, field_name="starts_at")
    if start <= now:
        raise InvalidArguments(
            _("An appointment lies in the future."),
            code="appointment_in_past",
            fields={"starts_at": [_("Choose a later date and time.")]},
        )
    try:
        minutes = int(duration_minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 5 <= minutes <= 720:
        raise InvalidArguments(
            _("The duration is not valid."),
            fields={"duration_minutes": [_("Between 5 and 720 minutes.")]},
        )
    for name, value, limit in (("place", place, 200), ("interpreter", interpreter, 100)):
        if len(str(value or "")) > limit:
            raise InvalidArguments(
                _("A text is too long."),
                fields={name: [_("At most %(n)d characters.") % {"n": limit}]},
            )
    day = timezone.localdate(start)
    with transaction.atomic():
        locked = case_services._case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if locked.status not in PLANNABLE:
            raise GuardFailed(_("The case is not open."), code="case_not_open")
        if locked.effective_end and day > locked.effective_end:
            raise InvalidArguments(
                _("The appointment lies after the end of the consultation period (%(day)s).")
                % {"day": locked.effective_end.strftime("%d.%m.%Y")},
                code="after_period_end",
                fields={"starts_at": [_("Choose a day within the consultation period.")]},
            )
        row = Appointment.objects.create(
            case=locked,
            manager=actor,
            starts_at=start,
            duration_minutes=minutes,
            form=case_services._entry(
                Catalogue.CONSULTATION_FORM, form, field_name="form", day=day
            ),
            topic=case_services._entry(
                Catalogue.CONSULTATION_TOPIC, topic, field_name="topic", day=day
            ),
            place=str(place or "").strip(),
            interpreter=str(interpreter or "").strip(),
            created_by=actor,
            created_at=now,
        )
        _audit(locked, actor, now, "planned", row)
    return row


def _locked(
    appointment: Appointment | int | str, *, actor: User | None, now: datetime, case: Any = None
) -> tuple[Case, Appointment]:
    """Lock the appointment's case (access checked) and the appointment."""
    pk = appointment.pk if isinstance(appointment, Appointment) else appointment
    number = parse_pk(pk)
    if number is None:
        raise AppointmentNotFound(_("This appointment does not exist."))
    found = Appointment.objects.filter(pk=number).values_list("case_id", flat=True).first()
    if found is None or (case is not None and int(case) != found):
        raise AppointmentNotFound(_("This appointment does not exist."))
    who = (*CONTENT_WRITERS, SYSTEM) if actor is None else CONTENT_WRITERS
    locked = case_services._case_for_write(case=found, actor=actor, now=now, who=who)
    row = Appointment.objects.select_for_update().select_related("form", "topic").get(pk=number)
    return locked, row


def _close(row: Appointment, status: str, now: datetime, consultation: Any = None) -> None:
    updated = Appointment.objects.filter(pk=row.pk, status=S.PLANNED).update(
        status=status, closed_at=now, consultation=consultation
    )
    if updated != 1:
        raise AppointmentClosed(_("This appointment was already closed."))
    row.status, row.closed_at, row.consultation = status, now, consultation


def _require_planned(row: Appointment) -> None:
    if row.status != S.PLANNED:
        raise AppointmentClosed(
            _("This appointment is already closed (%(status)s).")
            % {"status": row.get_status_display()}
        )


def appointment_cancel(
    *, appointment: Appointment | int | str, actor: User, now: datetime, case: Any = None
) -> Appointment:
    """Cancel a planned appointment (it is not counted anywhere)."""
    with transaction.atomic():
        locked, row = _locked(appointment, actor=actor, now=now, case=case)
        _require_planned(row)
        _close(row, S.CANCELLED, now)
        _audit(locked, actor, now, "cancelled", row)
    return row


def _outcome(
    row: Appointment, locked: Case, actor: User | None, now: datetime, status: str, notes: str = ""
) -> Appointment:
    _require_planned(row)
    if row.starts_at > now:
        raise GuardFailed(
            _("The appointment has not begun yet."),
            code="appointment_not_begun",
        )
    consultation = case_services.consultation_of_appointment_record(
        case=locked,
        actor=actor,
        recorded_by=actor or row.manager,
        now=now,
        held_on=timezone.localdate(row.starts_at),
        duration_minutes=row.duration_minutes,
        form=row.form.key,
        topic=row.topic.key,
        status=status,
        appointment_id=row.pk,
        interpreter=row.interpreter,
        notes=notes,
    )
    _close(row, S.HELD if status == Consultation.Status.COMPLETED else S.NO_SHOW, now, consultation)
    return row


def appointment_no_show(
    *, appointment: Appointment | int | str, actor: User, now: datetime, case: Any = None
) -> Appointment:
    """The client did not come: a consultation with status `NO_SHOW`
    (K2x) is recorded and the appointment closed."""
    with transaction.atomic():
        locked, row = _locked(appointment, actor=actor, now=now, case=case)
        _outcome(row, locked, actor, now, Consultation.Status.NO_SHOW)
        _audit(locked, actor, now, "no_show", row)
    return row


def appointment_held(
    *,
    appointment: Appointment | int | str,
    actor: User,
    now: datetime,
    notes: str = "",
    case: Any = None,
) -> Appointment:
    """The appointment took place: the consultation is recorded with the
    planned form, topic and duration."""
    if len(notes) > 5000:
        raise InvalidArguments(
            _("A text is too long."), fields={"notes": [_("At most 5000 characters.")]}
        )
    with transaction.atomic():
        locked, row = _locked(appointment, actor=actor, now=now, case=case)
        _outcome(row, locked, actor, now, Consultation.Status.COMPLETED, notes)
        _audit(locked, actor, now, "held", row)
    return row


def appointments_sweep(*, now: datetime) -> dict[str, int]:
    """Send the reminders of appointments coming up within
    `LOTSE_APPOINTMENT_REMINDER_HOURS`, and close appointments still
    planned `LOTSE_APPOINTMENT_NO_SHOW_HOURS` after their start: held when
    a completed consultation of the case was recorded on that day (it is
    linked), otherwise a no-show. Each appointment in its own transaction;
    a case closed meanwhile leaves its appointment for the manager."""
    counts = {"reminded": 0, "no_show": 0, "held": 0}
    soon = now + timedelta(hours=settings.LOTSE_APPOINTMENT_REMINDER_HOURS)
    due = list(
        Appointment.objects.filter(
            status=S.PLANNED, reminded_at__isnull=True, starts_at__gt=now, starts_at__lte=soon
        ).values_list("pk", "manager_id", "case_id", "starts_at")
    )
    for pk, manager_id, case_id, starts_at in due:
        local = timezone.localtime(starts_at)
        with transaction.atomic():
            if not Appointment.objects.filter(pk=pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            notification_enqueue(
                recipients=[manager_id],
                kind=NotificationKind.APPOINTMENT_REMINDER,
                key=f"appointment:{pk}:reminder",
                now=now,
                case=case_id,
                params={"date": local.date().isoformat(), "time": local.strftime("%H:%M")},
            )
        counts["reminded"] += 1
    late = now - timedelta(hours=settings.LOTSE_APPOINTMENT_NO_SHOW_HOURS)
    missed = list(
        Appointment.objects.filter(status=S.PLANNED, starts_at__lte=late).values_list(
            "pk", flat=True
        )
    )
    for pk in missed:
        try:
            with transaction.atomic():
                locked, row = _locked(pk, actor=None, now=now)
                if row.status != S.PLANNED:
                    continue
                day = timezone.localdate(row.starts_at)
                held = (
                    Consultation.objects.filter(
                        case_id=locked.pk, held_on=day, status=Consultation.Status.COMPLETED
                    )
                    .order_by("pk")
                    .first()
                )
                if held is not None:
                    _close(row, S.HELD, now, held)
                    _audit(locked, None, now, "held", row)
                    counts["held"] += 1
                else:
                    _outcome(row, locked, None, now, Consultation.Status.NO_SHOW)
                    _audit(locked, None, now, "no_show", row)
                    counts["no_show"] += 1
        except (GuardFailed, NotFound, InvalidArguments):
            # A closed case or a retired catalogue entry: the manager decides.
            continue
    return counts


# --- the calendar link ---------------------------------------------------------------


def calendar_feed_rotate(*, user: User, now: datetime) -> CalendarFeed:
    """Give `user` a new secret calendar link (the old one stops working)."""
    with transaction.atomic():
        feed, _created = CalendarFeed.objects.select_for_update().get_or_create(
            user=user, defaults={"created_at": now}
        )
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = now
        feed.revoked_at = None
        feed.save(update_fields=["token", "created_at", "revoked_at"])
        case_services.audit_event_record(
            event_type="appointments.calendar_feed.rotated",
            actor=user,
            actor_role=user.role,
            now=now,
            object_type="calendarfeed",
            object_id=feed.pk,
        )
    return feed


def calendar_feed_revoke(*, user: User, now: datetime) -> CalendarFeed | None:
    """Switch `user`'s calendar link off (None when there was none)."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
        if feed is None or feed.token is None:
            return feed
        feed.token = None
        feed.revoked_at = now
        feed.save(update_fields=["token", "revoked_at"])
        case_services.audit_event_record(
            event_type="appointments.calendar_feed.revoked",
            actor=user,
            actor_role=user.role,
            now=now,
            object_type="calendarfeed",
            object_id=feed.pk,
        )
    return feed


# --- what a case change sets off (settings.LOTSE_CASE_CHANGE_HANDLERS) --------------

# Transitions after which a case has no more consultations.
ENDING_TRANSITIONS = frozenset(
    {"close", "withdraw_consent", "reject_ineligible", "no_show_timeout", "retention_elapsed"}
)


def appointments_for_case_change(change: CaseChange) -> None:
    """A case that ends cancels its planned appointments (they would
    otherwise turn into no-shows); the erasure at the end of retention
    empties the appointments' free text. Runs inside the case change's
    transaction, under its lock; its audit event is the transition's."""
    if change.kind is not ChangeKind.TRANSITION or change.transition not in ENDING_TRANSITIONS:
        return
    rows = Appointment.objects.filter(case_id=change.case.pk)
    rows.filter(status=S.PLANNED).update(status=S.CANCELLED, closed_at=change.now)
    if change.transition == "retention_elapsed":
        rows.update(place="", interpreter="")


def appointments_anonymise(case: Case, now: datetime) -> None:
    """At the case's erasure: the place and the interpreter's name go; day,
    time, duration, form, topic and status stay (`cases.case_data`)."""
    Appointment.objects.filter(case_id=case.pk).update(place="", interpreter="")
