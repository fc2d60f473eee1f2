"""Corrections and cancellations of entries recorded in error (issue 20).

A consultation, goal, step, needs assessment, referral or network contact
can be corrected (some of its fields changed) or cancelled (it stays in
the record, marked, and no longer counts), always with a reason. Each call
is one transaction: the case row lock, the change, a `Correction` row
with the reason and the fields before and after, and one audit event
whose field changes (cases.history) keep before and after for the
auditor. A cancelled consultation leaves the Kennzahlen: its status and
the status copies on its topic and participant links become CANCELLED
(the report copies are written here together with their source, see
cases.models._ConsultationLink).

A goal or step of an agreed plan is not changed in place: the plan
service makes the next version (`plan_new_version`) and the correction
applies to the goal's copy in it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases import history
from cases.clock import local_date
from cases.errors import MESSAGES, GuardFailed, InvalidArguments, TransitionForbidden
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    CaseStatus,
    Catalogue,
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
    Correction,
    Goal,
    IntegrationPlan,
    Measure,
    NeedLevel,
    NetworkContact,
    Referral,
    consultation_link_copies,
)
from cases.selectors import case_not_found, parse_pk
from cases.services.args import _choice_arg, _date_arg, _entry, _text_arg
from cases.services.base import (
    CONTENT_WRITERS,
    _audit,
    _audit_record,
    _case_for_write,
    _require_open,
)
from cases.services.plans import plan_new_version
from config.errors import NotFound

REASON_MAX = 300


class AlreadyCancelled(GuardFailed):
    default_code = "already_cancelled"


def _case_of(model: type[Any], pk: Any, path: str = "case_id") -> int:
    """The case of an entry; an unknown entry is a 404 like a foreign one."""
    number = parse_pk(pk.pk if hasattr(pk, "pk") else pk)
    case_id = (
        None
        if number is None
        else model.objects.filter(pk=number).values_list(path, flat=True).first()
    )
    if case_id is None:
        raise case_not_found()
    return int(case_id)


def _reason(value: Any) -> str:
    return _text_arg(value, field_name="reason", max_length=REASON_MAX)


def _cancelled() -> AlreadyCancelled:
    return AlreadyCancelled(MESSAGES["already_cancelled"], code="already_cancelled")


def _nothing() -> InvalidArguments:
    return InvalidArguments(
        MESSAGES["nothing_to_correct"],
        fields={"reason": [_("Change at least one field, or cancel the entry.")]},
    )


def _shown(value: Any) -> Any:
    """A value as the Correction row keeps it (JSON: dates ISO, rows by key)."""
    if isinstance(value, date):
        return value.isoformat()
    key = getattr(value, "key", None)
    if key is not None:
        return key
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [name for name in after if _shown(before.get(name)) != _shown(after[name])]
    return (
        {name: _shown(before.get(name)) for name in changed},
        {name: _shown(after[name]) for name in changed},
    )


def _correction(
    *,
    case: Case | None,
    obj: Any,
    action: str,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: User,
    now: datetime,
) -> Correction:
    row = Correction.objects.create(
        case=case,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        action=action,
        reason=reason,
        before=before,
        after=after,
        corrected_by=actor,
        corrected_at=now,
    )
    if case is not None:
        history.created(row)
    return row


def _event(
    *, case: Case, obj: Any, action: str, correction: Correction, actor: User, now: datetime
) -> None:
    verb = "cancelled" if action == Correction.Action.CANCELLED else "corrected"
    _audit(
        case=case,
        actor=actor,
        now=now,
        event_type=f"cases.{obj._meta.model_name}.{verb}",
        obj=obj,
        reason=verb,
        data={"correction_id": correction.pk, "fields": sorted(correction.after)},
    )


def _writable(case_id: int, actor: User, now: datetime, *, closed_ok: bool = False) -> Case:
    locked = _case_for_write(case=case_id, actor=actor, now=now, who=CONTENT_WRITERS)
    if closed_ok:
        if locked.status in (CaseStatus.REJECTED, CaseStatus.DELETED):
            raise GuardFailed(MESSAGES["case_not_open"], code="case_not_open")
    else:
        _require_open(locked)
    return locked


# --- consultations ----------------------------------------------------------------


def _consultation_values(row: Consultation) -> dict[str, Any]:
    return {
        "held_on": row.held_on,
        "duration_minutes": row.duration_minutes,
        "form": row.form,
        "topics": sorted(t.key for t in row.topics.all()),
        "interpreter": row.interpreter,
        "notes": row.notes,
        "status": row.status,
    }


def _copies_follow(row: Consultation) -> None:
    """Write the report copies of the links with their source."""
    copies = consultation_link_copies(row)
    for model in (ConsultationTopic, ConsultationParticipant):
        model.objects.filter(consultation=row).update(
            held_on=copies["held_on"], status=copies["status"]
        )


def consultation_correct(
    *,
    consultation: Consultation | int,
    actor: User,
    now: datetime,
    reason: str,
    held_on: date | str | None = None,
    duration_minutes: int | str | None = None,
    form: str | None = None,
    topics: list[str] | None = None,
    status: str | None = None,
    interpreter: str | None = None,
    notes: str | None = None,
) -> Consultation:
    """Correct a consultation recorded with a wrong date, duration, form,
    topics, outcome or notes (the Kennzahlen follow)."""
    case_id = _case_of(Consultation, consultation, "case_id")
    pk = consultation.pk if isinstance(consultation, Consultation) else int(consultation)
    with transaction.atomic():
        locked = _writable(case_id, actor, now, closed_ok=True)
        text = _reason(reason)
        row = Consultation.objects.select_for_update().get(pk=pk)
        if row.status == Consultation.Status.CANCELLED:
            raise _cancelled()
        before_values = _consultation_values(row)
        before_row = history.values_of(row)
        changes: dict[str, Any] = {}
        if held_on not in (None, ""):
            day = _date_arg(held_on, field_name="held_on")
            if day > local_date(now):
                raise InvalidArguments(
                    _("A consultation cannot lie in the future."),
                    fields={"held_on": [_("Choose today or an earlier date.")]},
                )
            changes["held_on"] = day
        day = changes.get("held_on", row.held_on)
        if duration_minutes not in (None, ""):
            try:
                minutes = int(duration_minutes)
            except (TypeError, ValueError):
                minutes = 0
            if not 1 <= minutes <= 720:
                raise InvalidArguments(
                    _("The duration is not valid."),
                    fields={"duration_minutes": [_("Between 1 and 720 minutes.")]},
                )
            changes["duration_minutes"] = minutes
        if form not in (None, ""):
            changes["form"] = _entry(Catalogue.CONSULTATION_FORM, form, field_name="form", day=day)
        if status not in (None, ""):
            changes["status"] = _choice_arg(
                status,
                Consultation.Status,
                field_name="status",
                exclude=[Consultation.Status.CANCELLED],
            )
        if interpreter is not None:
            changes["interpreter"] = str(interpreter)[:100]
        if notes is not None:
            changes["notes"] = str(notes)
        topic_entries = None
        if topics is not None:
            if not topics:
                raise InvalidArguments(
                    _("Choose at least one topic."),
                    fields={"topics": [_("This field is required.")]},
                )
            topic_entries = [
                _entry(Catalogue.CONSULTATION_TOPIC, key, field_name="topics", day=day)
                for key in dict.fromkeys(topics)
            ]
            changes["topics"] = sorted(t.key for t in topic_entries)
        before, after = _diff(before_values, changes)
        if not after:
            raise _nothing()
        for name, value in changes.items():
            if name != "topics":
                setattr(row, name, value)
        row.save()
        if topic_entries is not None and "topics" in after:
            row.topics.set(topic_entries, through_defaults=consultation_link_copies(row))
        _copies_follow(row)
        history.updated(row, before_row)
        correction = _correction(
            case=locked,
            obj=row,
            action=Correction.Action.CORRECTED,
            reason=text,
            before=before,
            after=after,
            actor=actor,
            now=now,
        )
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


def consultation_cancel(
    *, consultation: Consultation | int, actor: User, now: datetime, reason: str
) -> Consultation:
    """Cancel a consultation recorded in error: it stays in the record,
    marked, and no longer counts in the Kennzahlen."""
    case_id = _case_of(Consultation, consultation, "case_id")
    pk = consultation.pk if isinstance(consultation, Consultation) else int(consultation)
    with transaction.atomic():
        locked = _writable(case_id, actor, now, closed_ok=True)
        text = _reason(reason)
        row = Consultation.objects.select_for_update().get(pk=pk)
        if row.status == Consultation.Status.CANCELLED:
            raise _cancelled()
        before_row = history.values_of(row)
        old_status = row.status
        row.status = Consultation.Status.CANCELLED  # consultation row, not a case
        row.save(update_fields=["status"])
        _copies_follow(row)
        history.updated(row, before_row)
        correction = _correction(
            case=locked,
            obj=row,
            action=Correction.Action.CANCELLED,
            reason=text,
            before={"status": old_status},
            after={"status": row.status},
            actor=actor,
            now=now,
        )
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


# --- a generic row correction ----------------------------------------------------------


def _correct_row(
    *,
    locked: Case | None,
    row: Any,
    changes: dict[str, Any],
    reason: str,
    actor: User,
    now: datetime,
) -> Correction:
    before_values = {name: getattr(row, name) for name in changes}
    before, after = _diff(before_values, changes)
    if not after:
        raise _nothing()
    before_row = history.values_of(row) if locked is not None else {}
    for name, value in changes.items():
        setattr(row, name, value)
    row.save(update_fields=list(changes))
    if locked is not None:
        history.updated(row, before_row)
    return _correction(
        case=locked,
        obj=row,
        action=Correction.Action.CORRECTED,
        reason=reason,
        before=before,
        after=after,
        actor=actor,
        now=now,
    )


def _cancel_row(
    *, locked: Case | None, row: Any, reason: str, actor: User, now: datetime
) -> Correction:
    if row.cancelled_at is not None:
        raise _cancelled()
    before_row = history.values_of(row) if locked is not None else {}
    row.cancelled_at = now
    row.save(update_fields=["cancelled_at"])
    if locked is not None:
        history.updated(row, before_row)
    return _correction(
        case=locked,
        obj=row,
        action=Correction.Action.CANCELLED,
        reason=reason,
        before={"cancelled": False},
        after={"cancelled": True},
        actor=actor,
        now=now,
    )


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


# --- referrals --------------------------------------------------------------------------


def referral_correct(
    *,
    referral: Referral | int,
    actor: User,
    now: datetime,
    reason: str,
    referred_on: date | str | None = None,
    target_service: str | None = None,
    mode: str | None = None,
    topic: str | None = None,
    organisation: str | None = None,
    outcome: str | None = None,
    outcome_date: date | str | None = None,
) -> Referral:
    """Correct a referral's date, target, mode, topic, organisation or outcome."""
    case_id = _case_of(Referral, referral, "case_id")
    pk = referral.pk if isinstance(referral, Referral) else int(referral)
    with transaction.atomic():
        locked = _writable(case_id, actor, now, closed_ok=True)
        text = _reason(reason)
        row = Referral.objects.select_for_update().get(pk=pk)
        if row.cancelled_at is not None:
            raise _cancelled()
        changes: dict[str, Any] = {}
        if referred_on not in (None, ""):
            changes["referred_on"] = _date_arg(referred_on, field_name="referred_on")
        day = changes.get("referred_on", row.referred_on)
        if target_service not in (None, ""):
            changes["target_service"] = _entry(
                Catalogue.REFERRAL_TARGET, target_service, field_name="target_service", day=day
            )
        if topic not in (None, ""):
            changes["topic"] = _entry(
                Catalogue.CONSULTATION_TOPIC, topic, field_name="topic", day=day
            )
        if mode not in (None, ""):
            changes["mode"] = _choice_arg(mode, Referral.Mode, field_name="mode")
        if organisation is not None:
            changes["organisation"] = str(organisation)[:200]
        if outcome not in (None, "") and outcome != row.outcome:
            changes["outcome"] = _choice_arg(outcome, Referral.Outcome, field_name="outcome")
            changes["outcome_date"] = (
                None
                if changes["outcome"] == Referral.Outcome.PENDING
                else _date_arg(outcome_date, field_name="outcome_date", default=local_date(now))
            )
        elif outcome_date not in (None, ""):
            changes["outcome_date"] = _date_arg(outcome_date, field_name="outcome_date")
        correction = _correct_row(
            locked=locked, row=row, changes=changes, reason=text, actor=actor, now=now
        )
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


def referral_cancel(
    *, referral: Referral | int, actor: User, now: datetime, reason: str
) -> Referral:
    """Cancel a referral recorded in error (it leaves K5 and the follow-up)."""
    case_id = _case_of(Referral, referral, "case_id")
    pk = referral.pk if isinstance(referral, Referral) else int(referral)
    with transaction.atomic():
        locked = _writable(case_id, actor, now, closed_ok=True)
        text = _reason(reason)
        row = Referral.objects.select_for_update().get(pk=pk)
        correction = _cancel_row(locked=locked, row=row, reason=text, actor=actor, now=now)
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


# --- needs assessments ---------------------------------------------------------------------


def assessment_correct(
    *,
    assessment: Assessment | int,
    actor: User,
    now: datetime,
    reason: str,
    assessed_on: date | str | None = None,
    items: list[dict[str, Any]] | None = None,
) -> Assessment:
    """Correct an assessment's date or the need level (and texts) of its
    fields of action; a field not rated yet is added."""
    case_id = _case_of(Assessment, assessment, "case_id")
    pk = assessment.pk if isinstance(assessment, Assessment) else int(assessment)
    with transaction.atomic():
        locked = _writable(case_id, actor, now)
        text = _reason(reason)
        row = Assessment.objects.select_for_update().get(pk=pk)
        if row.cancelled_at is not None:
            raise _cancelled()
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if assessed_on not in (None, ""):
            day = _date_arg(assessed_on, field_name="assessed_on")
            if day != row.assessed_on:
                before_row = history.values_of(row)
                before["assessed_on"], after["assessed_on"] = (
                    row.assessed_on.isoformat(),
                    day.isoformat(),
                )
                row.assessed_on = day
                row.save(update_fields=["assessed_on"])
                history.updated(row, before_row)
        current = {
            item.field_of_action.key: item
            for item in row.items.select_related("field_of_action").select_for_update(of=("self",))
        }
        for raw in items or []:
            entry = _entry(
                Catalogue.FIELD_OF_ACTION,
                raw.get("field_of_action"),
                field_name="items",
                day=row.assessed_on,
            )
            level = _choice_arg(raw.get("need_level"), NeedLevel, field_name="items")
            item = current.get(entry.key)
            texts = {
                name: str(raw[name])
                for name in ("situation", "resources", "client_wishes")
                if raw.get(name) is not None
            }
            if item is None:
                item = AssessmentItem.objects.create(
                    assessment=row, field_of_action=entry, need_level=level, **texts
                )
                history.created(item)
                before[entry.key], after[entry.key] = None, level
                continue
            changed = {"need_level": level, **texts}
            changed = {k: v for k, v in changed.items() if getattr(item, k) != v}
            if not changed:
                continue
            before_item = history.values_of(item)
            if "need_level" in changed:
                before[entry.key], after[entry.key] = item.need_level, level
            for name, value in changed.items():
                if name != "need_level":
                    before[f"{entry.key}.{name}"] = getattr(item, name)
                    after[f"{entry.key}.{name}"] = value
                setattr(item, name, value)
            item.save(update_fields=list(changed))
            history.updated(item, before_item)
        if not after:
            raise _nothing()
        correction = _correction(
            case=locked,
            obj=row,
            action=Correction.Action.CORRECTED,
            reason=text,
            before=before,
            after=after,
            actor=actor,
            now=now,
        )
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


def assessment_cancel(
    *, assessment: Assessment | int, actor: User, now: datetime, reason: str
) -> Assessment:
    """Cancel an assessment recorded in error (it leaves the history of
    needs and the change since the first assessment)."""
    case_id = _case_of(Assessment, assessment, "case_id")
    pk = assessment.pk if isinstance(assessment, Assessment) else int(assessment)
    with transaction.atomic():
        locked = _writable(case_id, actor, now)
        text = _reason(reason)
        row = Assessment.objects.select_for_update().get(pk=pk)
        correction = _cancel_row(locked=locked, row=row, reason=text, actor=actor, now=now)
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


# --- goals and steps of the plan ------------------------------------------------------------


def _goal_in_current_plan(locked: Case, goal_pk: int, now: datetime) -> Goal:
    """The goal to change: itself in a draft; its copy in a new version of
    an agreed plan (the plan service makes the version)."""
    goal = Goal.objects.select_related("plan").get(pk=goal_pk)
    plan = goal.plan
    if plan.status not in (IntegrationPlan.Status.DRAFT, IntegrationPlan.Status.AGREED):
        raise GuardFailed(MESSAGES["no_current_plan"], code="no_current_plan")
    if goal.cancelled_at is not None:
        raise _cancelled()
    if plan.status == IntegrationPlan.Status.AGREED:
        new_plan = plan_new_version(plan=plan, now=now, next_review_at=plan.next_review_at)
        goal = Goal.objects.select_related("plan").get(plan=new_plan, origin=goal)
    return goal


def goal_correct(
    *,
    goal: Goal | int,
    actor: User,
    now: datetime,
    reason: str,
    title: str | None = None,
    success_criterion: str | None = None,
    target_date: date | str | None = None,
    field_of_action: str | None = None,
) -> Goal:
    """Correct a goal's wording, criterion, target date or field of action."""
    case_id = _case_of(Goal, goal, "plan__case_id")
    pk = goal.pk if isinstance(goal, Goal) else int(goal)
    with transaction.atomic():
        locked = _writable(case_id, actor, now)
        text = _reason(reason)
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = _text_arg(title, field_name="title")
        if success_criterion is not None:
            changes["success_criterion"] = _text_arg(
                success_criterion, field_name="success_criterion"
            )
        if target_date not in (None, ""):
            day = _date_arg(target_date, field_name="target_date")
            if locked.effective_end and day > locked.effective_end:
                raise GuardFailed(MESSAGES["goal_after_period_end"], code="goal_after_period_end")
            changes["target_date"] = day
        if field_of_action not in (None, ""):
            changes["field_of_action"] = _entry(
                Catalogue.FIELD_OF_ACTION,
                field_of_action,
                field_name="field_of_action",
                day=local_date(now),
            )
        if not changes:
            raise _nothing()
        row = _goal_in_current_plan(locked, pk, now)
        correction = _correct_row(
            locked=locked, row=row, changes=changes, reason=text, actor=actor, now=now
        )
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


def goal_cancel(*, goal: Goal | int, actor: User, now: datetime, reason: str) -> Goal:
    """Cancel a goal recorded in error (in a new version of an agreed plan)."""
    case_id = _case_of(Goal, goal, "plan__case_id")
    pk = goal.pk if isinstance(goal, Goal) else int(goal)
    with transaction.atomic():
        locked = _writable(case_id, actor, now)
        text = _reason(reason)
        row = _goal_in_current_plan(locked, pk, now)
        correction = _cancel_row(locked=locked, row=row, reason=text, actor=actor, now=now)
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


def _measure_in_current_plan(locked: Case, measure_pk: int, now: datetime) -> Measure:
    measure = Measure.objects.select_related("goal").get(pk=measure_pk)
    if measure.cancelled_at is not None:
        raise _cancelled()
    goal = _goal_in_current_plan(locked, measure.goal_id, now)
    if goal.pk == measure.goal_id:
        return measure
    # The step's copy in the new version: the same position among its goal's steps.
    position = list(
        Measure.objects.filter(goal_id=measure.goal_id).order_by("pk").values_list("pk", flat=True)
    ).index(measure.pk)
    return list(Measure.objects.filter(goal=goal).order_by("pk"))[position]


def measure_correct(
    *,
    measure: Measure | int,
    actor: User,
    now: datetime,
    reason: str,
    description: str | None = None,
    responsible: str | None = None,
    due_date: date | str | None = None,
) -> Measure:
    """Correct a step's wording, responsible party or due date."""
    case_id = _case_of(Measure, measure, "goal__plan__case_id")
    pk = measure.pk if isinstance(measure, Measure) else int(measure)
    with transaction.atomic():
        locked = _writable(case_id, actor, now)
        text = _reason(reason)
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = _text_arg(description, field_name="description")
        if responsible not in (None, ""):
            changes["responsible"] = _choice_arg(
                responsible, Measure.Responsible, field_name="responsible"
            )
        if due_date not in (None, ""):
            changes["due_date"] = _date_arg(due_date, field_name="due_date")
        if not changes:
            raise _nothing()
        row = _measure_in_current_plan(locked, pk, now)
        correction = _correct_row(
            locked=locked, row=row, changes=changes, reason=text, actor=actor, now=now
        )
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


def measure_cancel(*, measure: Measure | int, actor: User, now: datetime, reason: str) -> Measure:
    """Cancel a step recorded in error."""
    case_id = _case_of(Measure, measure, "goal__plan__case_id")
    pk = measure.pk if isinstance(measure, Measure) else int(measure)
    with transaction.atomic():
        locked = _writable(case_id, actor, now)
        text = _reason(reason)
        row = _measure_in_current_plan(locked, pk, now)
        correction = _cancel_row(locked=locked, row=row, reason=text, actor=actor, now=now)
        _event(
            case=locked,
            obj=row,
            action=correction.action,
            correction=correction,
            actor=actor,
            now=now,
        )
    return row


# --- network contacts (about no client; the global audit chain) ------------------------------


def _own_contact(contact: NetworkContact | int, actor: User) -> NetworkContact:
    pk = contact.pk if isinstance(contact, NetworkContact) else contact
    if actor.role != Role.INTEGRATION_MANAGER:
        raise TransitionForbidden(MESSAGES["forbidden"])
    row = NetworkContact.objects.select_for_update().filter(pk=pk, manager=actor).first()
    if row is None:
        raise NotFound(_("This network contact does not exist."))
    return row


def _contact_event(
    *, row: NetworkContact, correction: Correction, actor: User, now: datetime
) -> None:
    verb = "cancelled" if correction.action == Correction.Action.CANCELLED else "corrected"
    _audit_record(
        event_type=f"cases.network_contact.{verb}",
        actor=actor,
        actor_role=actor.role,
        now=now,
        object_type="networkcontact",
        object_id=row.pk,
        reason=verb,
        data={
            "correction_id": correction.pk,
            "changes": [
                {"field": name, "old": correction.before.get(name), "new": value}
                for name, value in sorted(correction.after.items())
            ],
        },
    )


def network_contact_correct(
    *,
    contact: NetworkContact | int,
    actor: User,
    now: datetime,
    reason: str,
    contact_date: date | str | None = None,
    category: str | None = None,
    organisation: str | None = None,
    format: str | None = None,
    topic: str | None = None,
    duration_minutes: int | str | None = None,
) -> NetworkContact:
    """Correct one of the manager's own network contacts (K6 follows)."""
    with transaction.atomic():
        row = _own_contact(contact, actor)
        if row.cancelled_at is not None:
            raise _cancelled()
        text = _reason(reason)
        changes: dict[str, Any] = {}
        if contact_date not in (None, ""):
            day = _date_arg(contact_date, field_name="contact_date")
            if day > local_date(now):
                raise InvalidArguments(
                    _("A network contact cannot lie in the future."),
                    fields={"contact_date": [_("Choose today or an earlier date.")]},
                )
            changes["contact_date"] = day
        day = changes.get("contact_date", row.contact_date)
        if category not in (None, ""):
            changes["category"] = _entry(
                Catalogue.NETWORK_CONTACT_CATEGORY, category, field_name="category", day=day
            )
        if organisation is not None:
            changes["organisation"] = _text_arg(
                organisation, field_name="organisation", max_length=200
            )
        if format not in (None, ""):
            changes["format"] = _choice_arg(format, NetworkContact.Format, field_name="format")
        if topic is not None:
            changes["topic"] = str(topic)[:200]
        if duration_minutes not in (None, ""):
            try:
                minutes = int(duration_minutes)
            except (TypeError, ValueError):
                minutes = 0
            if not 1 <= minutes <= 720:
                raise InvalidArguments(
                    _("The duration is not valid."),
                    fields={"duration_minutes": [_("Between 1 and 720 minutes.")]},
                )
            changes["duration_minutes"] = minutes
        correction = _correct_row(
            locked=None, row=row, changes=changes, reason=text, actor=actor, now=now
        )
        _contact_event(row=row, correction=correction, actor=actor, now=now)
    return row


def network_contact_cancel(
    *, contact: NetworkContact | int, actor: User, now: datetime, reason: str
) -> NetworkContact:
    """Cancel one of the manager's own network contacts (it leaves K6)."""
    with transaction.atomic():
        row = _own_contact(contact, actor)
        text = _reason(reason)
        correction = _cancel_row(locked=None, row=row, reason=text, actor=actor, now=now)
        _contact_event(row=row, correction=correction, actor=actor, now=now)
    return row


CORRECTIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "consultation": (consultation_correct, consultation_cancel),
    "referral": (referral_correct, referral_cancel),
    "assessment": (assessment_correct, assessment_cancel),
    "goal": (goal_correct, goal_cancel),
    "measure": (measure_correct, measure_cancel),
    "networkcontact": (network_contact_correct, network_contact_cancel),
}
