"""Writes of the case domain: the only place that moves a case.

Every function here is keyword-only, takes the acting user and `now`, runs
in one transaction, locks the case row first, checks access (404), the
actor's right (403) and the guards (409), changes only what it must and
writes exactly one audit event. Nothing leaves the database before commit.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.models import Role, User
from audit.services import SYSTEM_ROLE, audit_event_record
from cases import history
from cases.atomic import service_atomic
from cases.models import (
    CLOCK_STATES,
    FINAL_GOAL_STATES,
    OPEN_STATES,
    Assessment,
    AssessmentItem,
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    Consent,
    Consultation,
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    GoalStatus,
    Household,
    HouseholdMembership,
    IntegrationPlan,
    Measure,
    NeedLevel,
    NetworkContact,
    Person,
    PlanReview,
    Referral,
    consultation_link_copies,
)
from cases.selectors import (
    AUDITOR,
    DEPUTY,
    DPO,
    OWNER,
    SUPERVISOR,
    SYSTEM,
    CaseNotFound,
    case_is_visible_to,
    case_not_found,
    case_relations,
    parse_pk,
)
from cases.signals import case_changed
from config.errors import ApplicationError, Conflict, Forbidden, InvalidInput, NotFound

__all__ = [
    "AlreadyDecided",
    "ApplicationError",
    "CaseNotFound",
    "ConcurrentChange",
    "GuardFailed",
    "InvalidArguments",
    "PeriodAlreadyExtended",
    "PlanHasNoGoals",
    "SelfApproval",
    "TransitionForbidden",
    "TransitionNotAvailable",
    "UnknownTransition",
]

# --- errors ----------------------------------------------------------------


class GuardFailed(Conflict):
    """A guard of DOMAIN.md §14.1 refuses the transition now (409)."""


class PlanHasNoGoals(GuardFailed):
    default_code = "plan_has_no_goals"


class PeriodAlreadyExtended(GuardFailed):
    default_code = "period_already_extended"


class SelfApproval(GuardFailed):
    default_code = "self_approval"


class AlreadyDecided(Conflict):
    default_code = "already_decided"


class ConcurrentChange(Conflict):
    default_code = "concurrent_change"


class TransitionNotAvailable(Conflict):
    default_code = "transition_not_allowed"


class TransitionForbidden(Forbidden):
    default_code = "forbidden"


class UnknownTransition(NotFound):
    default_code = "unknown_transition"


class InvalidArguments(InvalidInput):
    default_code = "invalid"


class ExtensionRequestNotFound(NotFound):
    default_code = "not_found"


# German texts come from the de catalogue; the msgids stay English.
MESSAGES: dict[str, Any] = {
    "not_eligible": _(
        "The person is not eligible: Anschlussunterbringung (§§ 17, 18 FlüAG) or "
        "displacement from Ukraine and a qualifying benefit are required."
    ),
    "consent_missing": _("There is no active consent for processing this case."),
    "consultation_missing": _("A completed consultation must be recorded first."),
    "assessment_missing": _("The needs assessment must rate at least one field of action."),
    "plan_has_no_goals": _("The Integrationsplan has no goals yet."),
    "goal_incomplete": _(
        "Every goal needs a field of action, a wording, a success criterion and a target date."
    ),
    "goal_after_period_end": _(
        "A goal's target date lies after the end of the consultation period."
    ),
    "plan_has_no_measures": _(
        "The Integrationsplan needs at least one step with a responsible party."
    ),
    "no_current_plan": _("The case has no Integrationsplan in draft."),
    "no_agreed_plan": _("The case has no agreed Integrationsplan to review."),
    "goals_not_final": _(
        "Every goal needs a final status (achieved, partly, not achieved, dropped)."
    ),
    "final_referral_missing": _(
        "Closing for this reason needs a final referral to a regular service or the statement "
        "that there is no further need."
    ),
    "referrals_open": _("Some referrals still have no outcome."),
    "period_not_expired": _("The consultation period has not ended yet."),
    "period_ended": _("The consultation period has ended."),
    "period_not_started": _("The consultation period has not started yet."),
    "no_show_deadline_not_reached": _("The deadline for a first consultation has not passed yet."),
    "contact_within_deadline": _("There was a consultation within the no-contact deadline."),
    "reopen_not_allowed": _("A case closed for this reason cannot be reopened."),
    "retention_not_elapsed": _("The retention period has not elapsed yet."),
    "legal_hold": _("The case is on legal hold and must not be deleted."),
    "case_not_open": _("The case is not open."),
    "period_already_extended": _("The consultation period has already been extended once."),
    "art9_consent_missing": _(
        "This reason concerns health data: an explicit consent under Art. 9 DSGVO is needed."
    ),
    "self_approval": _("You cannot decide your own request (four-eyes principle)."),
    "already_decided": _("This request has already been decided or withdrawn."),
    "concurrent_change": _(
        "Someone else changed this case at the same time. Please reload and try again."
    ),
    "transition_not_allowed": _("This step is not possible in the case's current state."),
    "forbidden": _("Your role may not take this step."),
    "system_only": _("Only the system takes this step, when its deadline has passed."),
    "unknown_transition": _("There is no such step."),
    "open_case_exists": _("The person already has an open case in this programme."),
    "request_open": _("There is already an open extension request for this case."),
    "handover_not_open": _("There is no handover waiting to be accepted for this case."),
}


def _guard(code: str, cls: type[GuardFailed] = GuardFailed) -> GuardFailed:
    return cls(MESSAGES[code], code=code)


# --- clock -----------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Return `day` moved by `months`, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def regular_end_for(start: date) -> date:
    """Return the last day of the three-year period starting on `start`."""
    return add_months(start, 36) - timedelta(days=1)


def latest_end_for(start: date) -> date:
    """Return the last day any extension may reach (four years)."""
    return add_months(start, 48) - timedelta(days=1)


def extended_end_for(*, start: date, regular_end: date, months: int) -> date:
    return min(
        add_months(regular_end + timedelta(days=1), months) - timedelta(days=1),
        latest_end_for(start),
    )


def _local_date(now: datetime) -> date:
    from django.utils import timezone

    return timezone.localdate(now)


# --- helpers ---------------------------------------------------------------


def _actor_role(actor: User | None) -> str:
    return SYSTEM_ROLE if actor is None else actor.role


def _audit(
    *,
    case: Case,
    actor: User | None,
    now: datetime,
    event_type: str,
    obj: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    transition_name: str = "",
    from_state: str = "",
    to_state: str = "",
) -> None:
    target = obj if obj is not None else case
    changes = history.drain()
    if changes:
        data = {**(data or {}), "changes": changes}
    audit_event_record(
        event_type=event_type,
        actor=actor,
        actor_role=_actor_role(actor),
        now=now,
        object_type=target._meta.model_name,
        object_id=target.pk,
        case_id=case.pk,
        transition=transition_name,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        # Every caller holds the case row lock (or created the case in this
        # transaction), which serialises the case's chain.
        chain_locked=True,
    )


_CASE_COLUMNS = [model_field.attname for model_field in Case._meta.concrete_fields]
_LOCK_SQL = "SELECT {} FROM cases_case WHERE id = %s{}".format(  # noqa: S608 - constant
    ", ".join(f'"{column}"' for column in _CASE_COLUMNS),
    " FOR UPDATE" if connection.features.has_select_for_update else "",
)


def _select_case_for_update(case_pk: int) -> Case | None:
    """Lock and load one case row with plain SQL.

    The ORM's query compilation costs more than the lock itself on the
    hottest path of Lotse (see `make bench`).
    """
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [case_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, column, converters in _case_converters(connection.vendor):
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return Case.from_db(connection.alias, _CASE_COLUMNS, values)


@functools.cache
def _case_converters(vendor: str) -> list[tuple[int, Any, list[Any]]]:
    """Return the backend's value converters per column (as the ORM applies
    them: SQLite hands back text for datetimes, for instance)."""
    result = []
    for index, model_field in enumerate(Case._meta.concrete_fields):
        column = model_field.get_col(Case._meta.db_table)
        converters = connection.ops.get_db_converters(column) + model_field.get_db_converters(
            connection
        )
        if converters:
            result.append((index, column, converters))
    return result


def _lock_case(*, case: Case | int, actor: User | None, now: datetime) -> Case:
    """Return the case row locked for this transaction; 404 if not visible."""
    case_pk = case.pk if isinstance(case, Case) else case
    history.begin()
    number = parse_pk(case_pk)
    locked = None if number is None else _select_case_for_update(number)
    # The lock comes first so that visibility is judged on the locked row.
    if locked is None or (
        actor is not None and not case_is_visible_to(user=actor, case=locked, now=now)
    ):
        raise case_not_found()
    if isinstance(case, Case) and case.status != locked.status:
        # The caller decided on a state that is no longer true.
        raise ConcurrentChange(MESSAGES["concurrent_change"])
    return locked


def _require(relations: frozenset[str], allowed: Iterable[str]) -> None:
    if not relations & set(allowed):
        raise TransitionForbidden(MESSAGES["forbidden"])


def _entry(catalogue: Catalogue, key: Any, *, field_name: str, day: date) -> CatalogueEntry:
    entry = CatalogueEntry.objects.filter(catalogue=catalogue, key=str(key or "")).first()
    if entry is None or not entry.is_valid_on(day):
        raise InvalidArguments(
            _("Please choose a valid value."),
            fields={field_name: [_("Unknown or inactive value: %(key)s") % {"key": key}]},
        )
    return entry


def _date_arg(value: Any, *, field_name: str, default: date | None = None) -> date:
    if value in (None, ""):
        if default is not None:
            return default
        raise InvalidArguments(
            _("A date is missing."), fields={field_name: [_("This field is required.")]}
        )
    if isinstance(value, datetime):
        return _plausible(value.date(), field_name=field_name)
    if isinstance(value, date):
        return _plausible(value, field_name=field_name)
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidArguments(
            _("A date is not valid."), fields={field_name: [_("Use the form YYYY-MM-DD.")]}
        )
    return _plausible(parsed, field_name=field_name)


EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def _plausible(day: date, *, field_name: str) -> date:
    """Refuse dates no case can have (typos such as 0202 for 2020)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidArguments(
            _("A date is not plausible."),
            fields={field_name: [_("Choose a date between 2000 and 2100.")]},
        )
    return day


def _choice_arg(value: Any, choices: type, *, field_name: str, exclude: Iterable[str] = ()) -> str:
    if value not in choices.values or value in exclude:
        raise InvalidArguments(
            _("Please choose a valid value."),
            fields={field_name: [_("Unknown value: %(value)s") % {"value": value}]},
        )
    return str(value)


def _text_arg(value: Any, *, field_name: str, max_length: int = 300) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidArguments(
            _("A required text is missing."), fields={field_name: [_("This field is required.")]}
        )
    if len(text) > max_length:
        raise InvalidArguments(
            _("A text is too long."),
            fields={field_name: [_("At most %(n)d characters.") % {"n": max_length}]},
        )
    return text


def _save(obj: Any, fields: Iterable[str], *, expected_status: str) -> None:
    """Write `fields` of a state-machine row with one conditional UPDATE.

    This is the only write of a `status` in Lotse. It makes the check of
    django-fsm-2's ConcurrentTransitionMixin (`WHERE status = <the state the
    transition started from>`) explicit, without `save()`'s machinery on
    the hottest path (see `make bench`). No row updated means another
    transaction moved the row first.
    """
    values = {name: getattr(obj, name) for name in fields}
    updated = type(obj)._base_manager.filter(pk=obj.pk, status=expected_status).update(**values)
    if updated != 1:
        raise ConcurrentChange(MESSAGES["concurrent_change"])
    obj._update_initial_state()


def _plan_set_status(plan: IntegrationPlan, status: str, **fields: Any) -> None:
    """Write a plan's status (and fields) with one UPDATE.

    Statuses are never assigned as attributes, so a lint can forbid that.
    """
    history.update_rows(IntegrationPlan.objects.filter(pk=plan.pk), status=status, **fields)


def _goal_set_status(goal: Goal, status: str, *, now: datetime) -> None:
    closed_at = now if status in FINAL_GOAL_STATES else None
    history.update_rows(Goal.objects.filter(pk=goal.pk), status=status, closed_at=closed_at)


def _current_plan(case: Case) -> IntegrationPlan | None:
    return (
        IntegrationPlan.objects.filter(case=case, status__in=["DRAFT", "AGREED"])
        .order_by("-version")
        .first()
    )


def _active_consent(case: Case, scope: str, now: datetime) -> bool:
    consents = Consent.objects.filter(
        person_id=case.person_id, scope=scope, withdrawn_at__isnull=True, given_at__lte=now
    )
    return any(c.is_active_at(now) for c in consents)


def _consultation_recorded_after(case: Case, moment: datetime) -> bool:
    return Consultation.objects.filter(
        case=case, status=Consultation.Status.COMPLETED, recorded_at__gt=moment
    ).exists()


# --- the transition table --------------------------------------------------


@dataclass
class Step:
    """What a prepared transition fires: model kwargs, audit reason, follow-up."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    after: Callable[[], None] | None = None


@dataclass(frozen=True)
class Ctx:
    case: Case
    actor: User | None
    now: datetime
    args: dict[str, Any]

    @property
    def today(self) -> date:
        return _local_date(self.now)


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    who: frozenset[str]
    precondition: Callable[[Ctx], None]
    prepare: Callable[[Ctx], Step]

    @property
    def system_only(self) -> bool:
        return self.who == frozenset({SYSTEM})


def _no_precondition(ctx: Ctx) -> None:
    return None


# T2 record_first_consultation
def _pre_first_consultation(ctx: Ctx) -> None:
    if not ctx.case.anonymous_mode and not _active_consent(
        ctx.case, Consent.Scope.CASE_PROCESSING, ctx.now
    ):
        raise _guard("consent_missing")


def _prep_first_consultation(ctx: Ctx) -> Step:
    case, args = ctx.case, ctx.args
    basis = _choice_arg(
        args.get("eligibility_basis"), Case.EligibilityBasis, field_name="eligibility_basis"
    )
    benefit = _entry(
        Catalogue.BENEFIT_STATUS,
        args.get("benefit_status"),
        field_name="benefit_status",
        day=ctx.today,
    )
    obliged = bool(args.get("obliged_to_leave", case.person.obliged_to_leave))
    if (
        basis == Case.EligibilityBasis.NONE
        or benefit.key not in settings.LOTSE_QUALIFYING_BENEFITS
        or obliged
    ):
        raise _guard("not_eligible")
    try:
        consultation_id = int(args.get("consultation_id"))
    except (TypeError, ValueError):
        raise InvalidArguments(
            _("The first consultation is missing."),
            fields={"consultation_id": [_("This field is required.")]},
        ) from None
    consultation = Consultation.objects.filter(
        pk=consultation_id, case=case, status=Consultation.Status.COMPLETED
    ).first()
    if consultation is None:
        raise _guard("consultation_missing")
    start = consultation.held_on
    prior = case.person.prior_consultation_start
    if prior is not None and prior < start:
        start = prior  # the earlier start from another Gemeinde wins (§14.1)

    def after() -> None:
        person = case.person
        before = history.values_of(person)
        person.benefit_status = benefit
        person.obliged_to_leave = obliged
        person.save(update_fields=["benefit_status", "obliged_to_leave"])
        history.updated(person, before)

    return Step(
        kwargs={
            "basis": basis,
            "checked_at": ctx.now,
            "start": start,
            "regular_end": regular_end_for(start),
        },
        reason=basis,
        data={"consultation_id": consultation.pk, "consultation_start": start.isoformat()},
        after=after,
    )


# T3 reject_ineligible
def _prep_reject(ctx: Ctx) -> Step:
    reason = _choice_arg(
        ctx.args.get("reason"),
        Case.RejectionReason,
        field_name="reason",
        exclude=[Case.RejectionReason.NO_SHOW],
    )
    return Step(kwargs={"reason": reason, "checked_at": ctx.now}, reason=reason)


# T4 no_show_timeout
def _pre_no_show(ctx: Ctx) -> None:
    # Calendar days in Berlin: a DST change must not move the deadline.
    deadline = _local_date(ctx.case.registered_at) + timedelta(days=settings.LOTSE_NO_SHOW_DAYS)
    if ctx.today < deadline:
        raise _guard("no_show_deadline_not_reached")


# T5 draft_plan
def _pre_draft_plan(ctx: Ctx) -> None:
    if not AssessmentItem.objects.filter(
        assessment__case=ctx.case, need_level__in=NeedLevel.values
    ).exists():
        raise _guard("assessment_missing")


def _prep_draft_plan(ctx: Ctx) -> Step:
    case, now = ctx.case, ctx.now

    def after() -> None:
        if _current_plan(case) is None:
            last = IntegrationPlan.objects.filter(case=case).order_by("-version").first()
            plan = IntegrationPlan.objects.create(
                case=case,
                version=(last.version + 1) if last else 1,
                status=IntegrationPlan.Status.DRAFT,
                created_at=now,
            )
            history.created(plan)

    return Step(after=after)


# T6 agree_plan
def _pre_agree_plan(ctx: Ctx) -> None:
    plan = _current_plan(ctx.case)
    if plan is None or plan.status != IntegrationPlan.Status.DRAFT:
        raise _guard("no_current_plan")
    goals = list(plan.goals.all())
    if not goals:
        raise _guard("plan_has_no_goals", PlanHasNoGoals)
    for goal in goals:
        if not (goal.title.strip() and goal.success_criterion.strip() and goal.target_date):
            raise _guard("goal_incomplete")
        if ctx.case.effective_end and goal.target_date > ctx.case.effective_end:
            raise _guard("goal_after_period_end")
    if not Measure.objects.filter(goal__plan=plan).exclude(responsible="").exists():
        raise _guard("plan_has_no_measures")


def _next_review(ctx: Ctx, *, after_day: date) -> date:
    default = add_months(after_day, settings.LOTSE_REVIEW_MONTHS)
    if ctx.case.effective_end:
        default = min(default, ctx.case.effective_end)
    review = _date_arg(ctx.args.get("next_review_at"), field_name="next_review_at", default=default)
    if review <= after_day:
        raise InvalidArguments(
            _("The next review must lie in the future."),
            fields={"next_review_at": [_("Choose a later date.")]},
        )
    if ctx.case.effective_end and review > ctx.case.effective_end:
        raise InvalidArguments(
            _("The review must lie within the consultation period."),
            fields={"next_review_at": [_("Choose a date before the period ends.")]},
        )
    return review


def _prep_agree_plan(ctx: Ctx) -> Step:
    args, now = ctx.args, ctx.now
    form = _choice_arg(
        args.get("agreement_form"), IntegrationPlan.AgreementForm, field_name="agreement_form"
    )
    language = _text_arg(
        args.get("agreement_language"), field_name="agreement_language", max_length=50
    )
    interpreter = str(args.get("interpreter") or "")[:100]
    review = _next_review(ctx, after_day=ctx.today)
    plan = _editable_plan(ctx.case)

    def after() -> None:
        _plan_set_status(
            plan,
            IntegrationPlan.Status.AGREED,
            agreed_at=now,
            agreement_form=form,
            agreement_language=language,
            interpreter=interpreter,
            copy_handed_over=bool(args.get("copy_handed_over", False)),
            next_review_at=review,
        )
        history.update_rows(
            plan.goals.filter(status__in=[GoalStatus.NEW, GoalStatus.PROPOSED]),
            status=GoalStatus.AGREED,
            agreed_at=now,
        )

    return Step(
        kwargs={"next_review_at": review},
        reason=form,
        data={"plan_id": plan.pk, "plan_version": plan.version},
        after=after,
    )


# T6a decline_plan
def _prep_decline_plan(ctx: Ctx) -> Step:
    reason = _text_arg(ctx.args.get("reason"), field_name="reason")
    plan = _current_plan(ctx.case)

    def after() -> None:
        if plan is not None:
            _plan_set_status(plan, IntegrationPlan.Status.CLOSED)

    return Step(kwargs={"reason": reason}, reason="plan_declined", after=after)


# T7 review_plan
def _pre_review_plan(ctx: Ctx) -> None:
    plan = _current_plan(ctx.case)
    if plan is None or plan.status != IntegrationPlan.Status.AGREED:
        raise _guard("no_agreed_plan")


def _goal_updates(ctx: Ctx, plan: IntegrationPlan) -> dict[int, str]:
    updates: dict[int, str] = {}
    goal_ids = set(plan.goals.values_list("pk", flat=True))
    raw_updates = ctx.args.get("goal_updates") or []
    if not isinstance(raw_updates, list | tuple):
        raise InvalidArguments(
            _("A goal update is not valid."),
            fields={"goal_updates": [_("A list of goal updates is expected.")]},
        )
    for item in raw_updates:
        try:
            goal_id, status = int(item["goal_id"]), item["status"]
        except (KeyError, TypeError, ValueError):
            raise InvalidArguments(
                _("A goal update is not valid."),
                fields={"goal_updates": [_("Each update needs goal_id and status.")]},
            ) from None
        if goal_id not in goal_ids:
            raise InvalidArguments(
                _("A goal update names a goal of another plan."),
                fields={"goal_updates": [_("Unknown goal: %(id)s") % {"id": goal_id}]},
            )
        updates[goal_id] = _choice_arg(status, GoalStatus, field_name="goal_updates")
    return updates


def _prep_review_plan(ctx: Ctx) -> Step:
    plan = _editable_plan(ctx.case)
    reviewed_on = _date_arg(
        ctx.args.get("reviewed_on"), field_name="reviewed_on", default=ctx.today
    )
    if reviewed_on > ctx.today:
        raise InvalidArguments(
            _("A review cannot lie in the future."),
            fields={"reviewed_on": [_("Choose today or an earlier date.")]},
        )
    review = _next_review(ctx, after_day=max(reviewed_on, ctx.today))
    updates = _goal_updates(ctx, plan)
    _case, actor, now = ctx.case, ctx.actor, ctx.now
    notes = str(ctx.args.get("notes") or "")

    def after() -> None:
        new_plan = plan_new_version(plan=plan, now=now, next_review_at=review)
        plan_review = PlanReview.objects.create(
            plan=new_plan,
            reviewed_on=reviewed_on,
            notes=notes,
            reviewed_by=actor,
            participants=str(ctx.args.get("participants") or "")[:200],
        )
        history.created(plan_review)
        for goal in new_plan.goals.filter(origin_id__in=updates):
            _goal_set_status(goal, updates[goal.origin_id], now=now)

    return Step(
        kwargs={"next_review_at": review},
        data={"plan_id": plan.pk, "new_version": plan.version + 1},
        after=after,
    )


def plan_new_version(
    *, plan: IntegrationPlan, now: datetime, next_review_at: date
) -> IntegrationPlan:
    """Supersede `plan` with an agreed copy (goals and steps carried over)."""
    _plan_set_status(plan, IntegrationPlan.Status.SUPERSEDED)
    new_plan = IntegrationPlan.objects.create(
        case=plan.case,
        version=plan.version + 1,
        status=IntegrationPlan.Status.AGREED,
        created_at=now,
        agreed_at=now,
        agreement_form=plan.agreement_form,
        agreement_language=plan.agreement_language,
        interpreter=plan.interpreter,
        next_review_at=next_review_at,
        situation_summary=plan.situation_summary,
    )
    history.created(new_plan)
    for goal in plan.goals.prefetch_related("measures").order_by("pk"):
        copy = Goal.objects.create(
            plan=new_plan,
            origin=goal,
            field_of_action_id=goal.field_of_action_id,
            title=goal.title,
            success_criterion=goal.success_criterion,
            target_date=goal.target_date,
            priority=goal.priority,
            status=goal.status,
            agreed_at=goal.agreed_at,
            closed_at=goal.closed_at,
            outcome_note=goal.outcome_note,
        )
        history.created(copy)
        measures = Measure.objects.bulk_create(
            Measure(
                goal=copy,
                description=m.description,
                responsible=m.responsible,
                referral_id=m.referral_id,
                due_date=m.due_date,
                done_at=m.done_at,
            )
            for m in goal.measures.all()
        )
        for measure in measures:
            history.created(measure)
    return new_plan


# T8 pause / T9 resume
class PauseReason:
    values = ("NO_CONTACT", "CLIENT_REQUEST", "HOSPITAL_STAY", "OTHER")


def _prep_pause(ctx: Ctx) -> Step:
    reason = _choice_arg(ctx.args.get("reason"), PauseReason, field_name="reason")
    return Step(kwargs={"at": ctx.now}, reason=reason)


def _pre_resume(ctx: Ctx) -> None:
    paused_at = ctx.case.paused_at or ctx.now
    if not _consultation_recorded_after(ctx.case, paused_at):
        raise _guard("consultation_missing")


# T10 start_closing
class ClosingGround:
    values = ("ALL_GOALS_FINAL", "CLIENT_REQUEST", "MOVED_AWAY", "TRANSFER")


def _goals_final(case: Case) -> bool:
    plan = _current_plan(case)
    if plan is None:
        return True
    return not plan.goals.exclude(status__in=FINAL_GOAL_STATES).exists()


def _prep_start_closing(ctx: Ctx) -> Step:
    ground = _choice_arg(ctx.args.get("ground"), ClosingGround, field_name="ground")
    if ground == "ALL_GOALS_FINAL":
        plan = _current_plan(ctx.case)
        if plan is None or not plan.goals.exists():
            raise _guard("plan_has_no_goals", PlanHasNoGoals)
        if not _goals_final(ctx.case):
            raise _guard("goals_not_final")
    return Step(kwargs={"ground": ground}, reason=ground)


# T11 period_expired
def _pre_period_expired(ctx: Ctx) -> None:
    end = ctx.case.effective_end
    if end is None or ctx.today <= end:
        raise _guard("period_not_expired")


# T12 no_contact_timeout
def no_contact_timeout_on(
    *, paused_at: datetime | None, last_consultation: date | None
) -> date | None:
    """Return the day from which `no_contact_timeout` may move a dormant
    case: LOTSE_NO_CONTACT_MONTHS after its last completed consultation or
    its pause, whichever is later (None: neither is known)."""
    paused_on = _local_date(paused_at) if paused_at else None
    known = [day for day in (last_consultation, paused_on) if day]
    return add_months(max(known), settings.LOTSE_NO_CONTACT_MONTHS) if known else None


def _pre_no_contact(ctx: Ctx) -> None:
    last = (
        Consultation.objects.filter(case=ctx.case, status=Consultation.Status.COMPLETED)
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )
    due_on = no_contact_timeout_on(paused_at=ctx.case.paused_at, last_consultation=last)
    if due_on is None or due_on > ctx.today:
        raise _guard("contact_within_deadline")


# T13 close
NEEDS_FINAL_REFERRAL = ("goals_achieved", "period_expired", "transferred")


def _prep_close(ctx: Ctx) -> Step:
    case = ctx.case
    reason = _entry(
        Catalogue.CLOSURE_REASON,
        ctx.args.get("closure_reason"),
        field_name="closure_reason",
        day=ctx.today,
    )
    if reason.key == "consent_withdrawn":
        raise InvalidArguments(
            _("Use the step 'withdraw consent' for this reason."),
            fields={"closure_reason": [_("Not available for closing.")]},
        )
    no_further_need = bool(ctx.args.get("no_further_need", False))
    if not _goals_final(case):
        raise _guard("goals_not_final")
    if Referral.objects.filter(case=case, outcome=Referral.Outcome.PENDING).exists():
        raise _guard("referrals_open")
    if (
        reason.key in NEEDS_FINAL_REFERRAL
        and not no_further_need
        and not Referral.objects.filter(case=case, is_final=True).exists()
    ):
        raise _guard("final_referral_missing")

    def after() -> None:
        plan = _current_plan(case)
        if plan is not None:
            _plan_set_status(plan, IntegrationPlan.Status.CLOSED)

    return Step(
        kwargs={"reason": reason, "no_further_need": no_further_need, "at": ctx.now},
        reason=reason.key,
        after=after,
    )


# T14 withdraw_consent
def _prep_withdraw_consent(ctx: Ctx) -> Step:
    reason = _entry(
        Catalogue.CLOSURE_REASON, "consent_withdrawn", field_name="closure_reason", day=ctx.today
    )
    channel = _choice_arg(ctx.args.get("channel"), Consent.WithdrawalChannel, field_name="channel")
    case, now = ctx.case, ctx.now

    def after() -> None:
        history.update_rows(
            Consent.objects.filter(
                person_id=case.person_id,
                scope=Consent.Scope.CASE_PROCESSING,
                withdrawn_at__isnull=True,
                given_at__lte=now,
            ),
            withdrawn_at=now,
            withdrawal_channel=channel,
        )
        plan = _current_plan(case)
        if plan is not None:
            _plan_set_status(plan, IntegrationPlan.Status.CLOSED)

    return Step(
        kwargs={"reason": reason, "at": now},
        reason="consent_withdrawn",
        data={"channel": channel},
        after=after,
    )


# T15 reopen
class ReopenReason:
    values = ("CLIENT_RETURNED", "CLOSED_IN_ERROR", "NEW_NEED")


def _pre_reopen(ctx: Ctx) -> None:
    case = ctx.case
    if case.effective_end is None or ctx.today > case.effective_end:
        raise _guard("period_ended")
    if case.closure_reason is not None and case.closure_reason.key == "deceased":
        raise _guard("reopen_not_allowed")
    if not _active_consent(case, Consent.Scope.CASE_PROCESSING, ctx.now):
        raise _guard("consent_missing")
    if not _consultation_recorded_after(case, case.closed_at or ctx.now):
        raise _guard("consultation_missing")


def _prep_reopen(ctx: Ctx) -> Step:
    reason = _choice_arg(ctx.args.get("reason"), ReopenReason, field_name="reason")
    case = ctx.case

    def after() -> None:
        last = IntegrationPlan.objects.filter(case=case).order_by("-version").first()
        if last is not None and last.status == IntegrationPlan.Status.CLOSED and last.agreed_at:
            _plan_set_status(last, IntegrationPlan.Status.AGREED)

    return Step(reason=reason, after=after)


# T16 retention_elapsed
def retention_deadline(case: Case) -> date | None:
    """Return the last day a closed or rejected case is kept."""
    ended = case.closed_at or case.eligibility_checked_at or case.registered_at
    if ended is None:
        return None
    return date(_local_date(ended).year + settings.LOTSE_RETENTION_YEARS, 12, 31)


def _pre_retention(ctx: Ctx) -> None:
    if ctx.case.legal_hold:
        raise _guard("legal_hold")
    deadline = retention_deadline(ctx.case)
    if deadline is None or ctx.today <= deadline:
        raise _guard("retention_not_elapsed")


def _prep_retention(ctx: Ctx) -> Step:
    case, now = ctx.case, ctx.now

    def after() -> None:
        case_anonymise(case=case, now=now)

    return Step(kwargs={"at": now}, reason="retention_elapsed", after=after)


TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in [
        TransitionSpec(
            "record_first_consultation",
            frozenset({OWNER, DEPUTY}),
            _pre_first_consultation,
            _prep_first_consultation,
        ),
        TransitionSpec(
            "reject_ineligible", frozenset({OWNER, SUPERVISOR}), _no_precondition, _prep_reject
        ),
        TransitionSpec(
            "no_show_timeout", frozenset({SYSTEM}), _pre_no_show, lambda ctx: Step(reason="no_show")
        ),
        TransitionSpec("draft_plan", frozenset({OWNER, DEPUTY}), _pre_draft_plan, _prep_draft_plan),
        TransitionSpec("agree_plan", frozenset({OWNER, DEPUTY}), _pre_agree_plan, _prep_agree_plan),
        TransitionSpec("decline_plan", frozenset({OWNER}), _no_precondition, _prep_decline_plan),
        TransitionSpec(
            "review_plan", frozenset({OWNER, DEPUTY}), _pre_review_plan, _prep_review_plan
        ),
        TransitionSpec("pause", frozenset({OWNER}), _no_precondition, _prep_pause),
        TransitionSpec("resume", frozenset({OWNER, DEPUTY}), _pre_resume, lambda ctx: Step()),
        TransitionSpec("start_closing", frozenset({OWNER}), _no_precondition, _prep_start_closing),
        TransitionSpec(
            "period_expired",
            frozenset({SYSTEM}),
            _pre_period_expired,
            lambda ctx: Step(reason="period_expired"),
        ),
        TransitionSpec(
            "no_contact_timeout",
            frozenset({SYSTEM}),
            _pre_no_contact,
            lambda ctx: Step(reason="no_contact"),
        ),
        TransitionSpec("close", frozenset({OWNER, SUPERVISOR}), _no_precondition, _prep_close),
        TransitionSpec(
            "withdraw_consent", frozenset({OWNER, DPO}), _no_precondition, _prep_withdraw_consent
        ),
        TransitionSpec("reopen", frozenset({OWNER, SUPERVISOR}), _pre_reopen, _prep_reopen),
        TransitionSpec("retention_elapsed", frozenset({SYSTEM}), _pre_retention, _prep_retention),
    ]
}


def case_transition(
    *, case: Case | int, name: str, actor: User | None, now: datetime, **args: Any
) -> Case:
    """Fire transition `name` on `case` as `actor` (None: the system).

    Raises CaseNotFound (404) when the actor may not see the case,
    UnknownTransition (404), TransitionForbidden (403), TransitionNotAvailable,
    GuardFailed or ConcurrentChange (409), InvalidArguments (400). On any
    error nothing is written.
    """
    spec = TRANSITIONS.get(name)
    with service_atomic():
        locked = _lock_case(case=case, actor=actor, now=now)
        if spec is None:
            raise UnknownTransition(MESSAGES["unknown_transition"])
        relations = case_relations(user=actor, case=locked, now=now)
        if spec.system_only and actor is not None:
            raise TransitionForbidden(MESSAGES["system_only"], code="system_only")
        _require(relations, spec.who)
        method = getattr(locked, name)
        if not can_proceed(method):
            raise TransitionNotAvailable(MESSAGES["transition_not_allowed"])
        ctx = Ctx(case=locked, actor=actor, now=now, args=args)
        spec.precondition(ctx)
        step = spec.prepare(ctx)
        from_state = locked.status
        before = {f.attname: getattr(locked, f.attname) for f in Case._meta.concrete_fields}
        method(**step.kwargs)
        changed = [
            f.attname
            for f in Case._meta.concrete_fields
            if getattr(locked, f.attname) != before[f.attname]
        ]
        if locked.status == from_state and "status" not in changed:
            # A self-loop still proves the state it started from.
            changed.append("status")
        _save(locked, changed, expected_status=from_state)
        history.updated(locked, before)
        if step.after is not None:
            step.after()
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type=f"cases.case.{name}",
            transition_name=name,
            from_state=from_state,
            to_state=locked.status,
            reason=step.reason,
            data=step.data,
        )
        case_changed.send(
            sender=Case, case=locked, change=f"transition:{name}", actor=actor, now=now
        )
    return locked


def case_allowed_transitions(*, case: Case, actor: User | None, now: datetime) -> list[str]:
    """Return the transitions `actor` may fire on `case` now (no arguments
    checked: a transition listed here may still ask for missing input)."""
    relations = case_relations(user=actor, case=case, now=now)
    allowed = []
    for spec in TRANSITIONS.values():
        if spec.system_only and actor is not None:
            continue
        if not relations & spec.who or not can_proceed(getattr(case, spec.name)):
            continue
        try:
            spec.precondition(Ctx(case=case, actor=actor, now=now, args={}))
        except ApplicationError:
            continue
        allowed.append(spec.name)
    return allowed


# --- creating a case and what happens inside it ---------------------------


def case_create(
    *,
    person: Person,
    owner: User,
    actor: User,
    now: datetime,
    intake_channel: str,
    programme: str = Case.Programme.BW_IM,
    gemeinde: Any = None,
    household: Any = None,
    anonymous_mode: bool = False,
    handover_accepted_at: datetime | None = None,
) -> Case:
    """Register a case for `person` (T1), owned by the integration manager.

    `handover_accepted_at` registers a handed-over case its owner accepts
    right away (no accept task); only the owner can accept for themselves.
    A manager may register a handed-over, not yet accepted case for a
    colleague of their team, who then gets the accept task.

    Raises TransitionForbidden unless the actor is the owner, a supervisor
    of the owner's team or (handover) a manager of that team, GuardFailed
    `open_case_exists` when the person already has an open case in the
    programme.
    """
    if owner.role != Role.INTEGRATION_MANAGER or not owner.is_active:
        raise InvalidArguments(
            _("Cases are owned by an active integration manager."),
            fields={"owner": [_("Choose an integration manager.")]},
        )
    same_team = bool(actor.team_id) and actor.team_id == owner.team_id
    if not (
        actor.pk == owner.pk
        or (actor.role == Role.SUPERVISOR and same_team)
        or (
            actor.role == Role.INTEGRATION_MANAGER
            and same_team
            and intake_channel == Case.IntakeChannel.HANDOVER_FSA
        )
    ) or (handover_accepted_at is not None and actor.pk != owner.pk):
        raise TransitionForbidden(MESSAGES["forbidden"])
    _choice_arg(intake_channel, Case.IntakeChannel, field_name="intake_channel")
    with transaction.atomic():
        history.begin()
        if Case.objects.filter(
            person=person, programme=programme, status__in=[s.value for s in OPEN_STATES]
        ).exists():
            raise _guard("open_case_exists")
        case = Case(
            person=person,
            programme=programme,
            traeger_id=owner.traeger_id,
            gemeinde=gemeinde or person.gemeinde,
            owner=owner,
            intake_channel=intake_channel,
            household=household,
            registered_at=now,
            anonymous_mode=anonymous_mode,
            handover_accepted_at=handover_accepted_at,
        )
        _full_clean(case, exclude=["status"])
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:
            raise _guard("open_case_exists") from None
        history.created(case)
        history.created(person, op="snapshot")
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type="cases.case.created",
            transition_name="create",
            to_state=case.status,
            reason=intake_channel,
        )
        case_changed.send(sender=Case, case=case, change="created", actor=actor, now=now)
    return case


def case_handover_accept(*, case: Case | int, actor: User, now: datetime) -> Case:
    """Confirm that the integration manager has taken over a handed-over
    case: the handover was read, the client is to be contacted.

    Only for a registered case that came by handover and was not accepted
    yet (409 otherwise). The case keeps its state; the clock does not start.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if (
            locked.status != CaseStatus.REGISTERED
            or locked.intake_channel != Case.IntakeChannel.HANDOVER_FSA
            or locked.handover_accepted_at is not None
        ):
            raise _guard("handover_not_open")
        history.update_rows(Case.objects.filter(pk=locked.pk), handover_accepted_at=now)
        locked.handover_accepted_at = now
        _audit(case=locked, actor=actor, now=now, event_type="cases.case.handover_accepted")
        case_changed.send(
            sender=Case, case=locked, change="handover_accepted", actor=actor, now=now
        )
    return locked


def case_review_date_set(
    *, case: Case | int, actor: User, now: datetime, next_review_at: date | str
) -> Case:
    """Move the next review of the agreed Integrationsplan (for example when
    the client asks for another date). The open review timer follows."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if locked.status != CaseStatus.ACTIVE:
            raise _guard("transition_not_allowed", TransitionNotAvailable)
        plan = _current_plan(locked)
        if plan is None or plan.status != IntegrationPlan.Status.AGREED:
            raise _guard("no_agreed_plan")
        review = _date_arg(next_review_at, field_name="next_review_at")
        today = _local_date(now)
        if review <= today:
            raise InvalidArguments(
                _("The next review must lie in the future."),
                fields={"next_review_at": [_("Choose a later date.")]},
            )
        if locked.effective_end and review > locked.effective_end:
            raise InvalidArguments(
                _("The review must lie within the consultation period."),
                fields={"next_review_at": [_("Choose a date before the period ends.")]},
            )
        previous = locked.next_review_at
        history.update_rows(Case.objects.filter(pk=locked.pk), next_review_at=review)
        history.update_rows(IntegrationPlan.objects.filter(pk=plan.pk), next_review_at=review)
        locked.next_review_at = review
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.review_date_changed",
            data={
                "old": previous.isoformat() if previous else None,
                "new": review.isoformat(),
            },
        )
        case_changed.send(sender=Case, case=locked, change="review_date", actor=actor, now=now)
    return locked


def case_owner_change(*, case: Case | int, actor: User, now: datetime, owner: User) -> Case:
    """Hand an open case to another integration manager of the team (a
    supervisor of the case's team, for example when its manager leaves).
    The open tasks of the case follow: its flow restarts for the new owner.

    Raises TransitionForbidden (403), GuardFailed `case_not_open` (409),
    InvalidArguments (400) unless `owner` is another active integration
    manager of the case's team.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(SUPERVISOR,))
        _require_open(locked)
        if (
            owner.role != Role.INTEGRATION_MANAGER
            or not owner.is_active
            or owner.team_id != actor.team_id
            or owner.pk == locked.owner_id
        ):
            raise InvalidArguments(
                _("Cases are owned by an active integration manager."),
                fields={"owner": [_("Choose another integration manager.")]},
            )
        previous = locked.owner_id
        history.update_rows(Case.objects.filter(pk=locked.pk), owner=owner)
        locked.owner = owner
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.owner_changed",
            data={"old_owner_id": previous, "new_owner_id": owner.pk},
        )
        case_changed.send(sender=Case, case=locked, change="owner", actor=actor, now=now)
    return locked


def _case_for_write(
    *, case: Case | int, actor: User | None, now: datetime, who: Iterable[str]
) -> Case:
    locked = _lock_case(case=case.pk if isinstance(case, Case) else case, actor=actor, now=now)
    _require(case_relations(user=actor, case=locked, now=now), who)
    return locked


def _require_open(case: Case) -> None:
    if case.status not in OPEN_STATES:
        raise _guard("case_not_open")


CONTENT_WRITERS = (OWNER, DEPUTY)


def _consent_basis(scope: str, legal_basis: Any) -> str:
    """Return the legal basis of a consent of `scope`: Art. 9(2)(a) for
    special categories (and only for them), Art. 6(1)(a) otherwise."""
    art9 = scope == Consent.Scope.SPECIAL_CATEGORIES_ART9
    expected = Consent.LegalBasis.CONSENT_ART9_2A if art9 else Consent.LegalBasis.CONSENT_ART6_1A
    if legal_basis in (None, ""):
        return str(expected)
    basis = _choice_arg(legal_basis, Consent.LegalBasis, field_name="legal_basis")
    if basis != expected:
        raise InvalidArguments(
            _("The legal basis does not fit the scope of the consent."),
            fields={
                "legal_basis": [
                    _("Special categories (Art. 9) need an explicit consent under Art. 9(2)(a).")
                    if art9
                    else _("Only special categories (Art. 9) rest on Art. 9(2)(a).")
                ]
            },
        )
    return basis


def _consent_giver(given_by: Any, guardian_name: Any) -> tuple[str, str]:
    giver = _choice_arg(given_by or Consent.GivenBy.PERSON, Consent.GivenBy, field_name="given_by")
    name = str(guardian_name or "").strip()
    if giver == Consent.GivenBy.LEGAL_GUARDIAN:
        return giver, _text_arg(name, field_name="guardian_name", max_length=200)
    if name:
        raise InvalidArguments(
            _("A guardian's name belongs only to a consent given by the legal guardian."),
            fields={"guardian_name": [_("Leave empty, or choose the legal guardian.")]},
        )
    return giver, ""


def consent_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    scope: str,
    form: str,
    language: str,
    given_at: datetime | None = None,
    interpreter: str = "",
    interpreter_language: str = "",
    recipient: str = "",
    valid_until: datetime | None = None,
    legal_basis: str | None = None,
    given_by: str = Consent.GivenBy.PERSON,
    guardian_name: str = "",
    purpose_version: str = "",
) -> Consent:
    """Record a consent the person (or, for a minor, the legal guardian)
    gave for this case (DOMAIN.md §14.2).

    `legal_basis` defaults to the one the scope needs; a basis that does
    not fit the scope, a guardian without a name or a name without a
    guardian is refused (400). The audit event names the codes only.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(*CONTENT_WRITERS, DPO))
        given = _not_in_future(given_at or now, now=now, field_name="given_at")
        if valid_until is not None:
            _plausible(valid_until.date(), field_name="valid_until")
            if valid_until <= given:
                raise InvalidArguments(
                    _("A consent must be valid after it was given."),
                    fields={"valid_until": [_("Choose a later time.")]},
                )
        chosen_scope = _choice_arg(scope, Consent.Scope, field_name="scope")
        giver, guardian = _consent_giver(given_by, guardian_name)
        consent = Consent(
            person_id=locked.person_id,
            case=locked,
            scope=chosen_scope,
            legal_basis=_consent_basis(chosen_scope, legal_basis),
            given_by=giver,
            guardian_name=guardian,
            form=_choice_arg(form, Consent.Form, field_name="form"),
            language=_text_arg(language, field_name="language", max_length=50),
            interpreter=str(interpreter or "").strip(),
            interpreter_language=str(interpreter_language or "").strip(),
            recipient=str(recipient or "").strip(),
            purpose_version=str(purpose_version or "").strip(),
            given_at=given,
            valid_until=valid_until,
            recorded_by=actor,
        )
        _full_clean(consent)
        consent.save()
        history.created(consent)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consent.recorded",
            obj=consent,
            reason=consent.scope,
            data={
                "legal_basis": consent.legal_basis,
                "given_by": consent.given_by,
                "form": consent.form,
            },
        )
    return consent


EVIDENCE_TYPES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def consent_evidence_attach(
    *, consent: Consent, actor: User, now: datetime, content: bytes, language: str = ""
) -> Consent:
    """Store the scan of a signed consent (PDF, PNG or JPEG) as the case's
    document and link it to the consent as its evidence.

    Raises InvalidArguments (400) for another kind of file, an empty or a
    too large one, AlreadyDecided (409) when the consent has its evidence.
    The file is removed again when this transaction fails (called inside
    an outer transaction that rolls back later, it would stay: interfaces
    call it on its own).
    """
    if not content or len(content) > settings.LOTSE_EVIDENCE_MAX_BYTES:
        raise InvalidArguments(
            _("The file is empty or too large."),
            fields={
                "file": [_("At most %(n)d MB.") % {"n": settings.LOTSE_EVIDENCE_MAX_BYTES // 2**20}]
            },
        )
    kind = next((ext for magic, ext in EVIDENCE_TYPES.items() if content.startswith(magic)), None)
    if kind is None:
        raise InvalidArguments(
            _("The scan must be a PDF, PNG or JPEG file."),
            fields={"file": [_("Upload a PDF, PNG or JPEG file.")]},
        )
    stored: list[Any] = []
    try:
        with transaction.atomic():
            locked = _case_for_write(
                case=consent.case_id, actor=actor, now=now, who=(*CONTENT_WRITERS, DPO)
            )
            row = Consent.objects.select_for_update().get(pk=consent.pk)
            if row.evidence_id is not None:
                raise AlreadyDecided(
                    _("This consent already has its evidence document."), code="evidence_exists"
                )
            document = Document(
                case=locked,
                kind=Document.Kind.CONSENT_FORM,
                sensitivity=(
                    Document.Sensitivity.ART9
                    if row.scope == Consent.Scope.SPECIAL_CATEGORIES_ART9
                    else Document.Sensitivity.NORMAL
                ),
                sha256=hashlib.sha256(content).hexdigest(),
                language=str(language or row.language)[:50],
                uploaded_by=actor,
                uploaded_at=now,
            )
            document.file.save(f"einwilligung-{row.pk}.{kind}", ContentFile(content), save=False)
            stored.append((document.file.storage, document.file.name))
            document.save()
            history.created(document)
            before = history.values_of(row)
            row.evidence = document
            row.save(update_fields=["evidence"])
            history.updated(row, before)
            _audit(
                case=locked,
                actor=actor,
                now=now,
                event_type="cases.consent.evidence_attached",
                obj=row,
                reason=row.scope,
                data={"document_id": document.pk},
            )
    except BaseException:
        # The rows were rolled back; the file must not outlive them.
        for storage, name in stored:
            storage.delete(name)
        raise
    return row


def consent_withdraw(*, consent: Consent, actor: User, now: datetime, channel: str) -> Consent:
    """Record that a consent was withdrawn, and how; processing under it
    stops.

    Withdrawing the case-processing consent itself is the transition
    `withdraw_consent`, which also closes the case.
    """
    channel = _choice_arg(channel, Consent.WithdrawalChannel, field_name="channel")
    with transaction.atomic():
        locked = _case_for_write(
            case=consent.case_id, actor=actor, now=now, who=(*CONTENT_WRITERS, DPO)
        )
        row = Consent.objects.select_for_update().get(pk=consent.pk)
        if row.withdrawn_at is not None:
            raise AlreadyDecided(MESSAGES["already_decided"])
        if row.given_at > now:
            raise InvalidArguments(
                _("A consent cannot be withdrawn before it was given."),
                fields={"withdrawn_at": [_("Choose a later time.")]},
            )
        before = history.values_of(row)
        row.withdrawn_at = now
        row.withdrawal_channel = channel
        row.save(update_fields=["withdrawn_at", "withdrawal_channel"])
        history.updated(row, before)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consent.withdrawn",
            obj=row,
            reason=row.scope,
            data={"channel": channel},
        )
    return row


def _not_in_future(moment: datetime, *, now: datetime, field_name: str) -> datetime:
    _plausible(moment.date(), field_name=field_name)
    if moment > now:
        raise InvalidArguments(
            _("This cannot lie in the future."),
            fields={field_name: [_("Choose now or an earlier time.")]},
        )
    return moment


def _full_clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise InvalidArguments(
            _("Some values are not valid."),
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from None


def consultation_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    held_on: date | str,
    duration_minutes: int,
    form: str,
    topics: list[str],
    setting: str = "individual",
    status: str = Consultation.Status.COMPLETED,
    participant_ids: Iterable[int] = (),
    interpreter: str = "",
    notes: str = "",
) -> Consultation:
    """Record one consultation (form, topics, duration) in seconds."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if locked.status in (CaseStatus.REJECTED, CaseStatus.DELETED):
            raise _guard("case_not_open")
        day = _date_arg(held_on, field_name="held_on")
        if day > _local_date(now):
            raise InvalidArguments(
                _("A consultation cannot lie in the future."),
                fields={"held_on": [_("Choose today or an earlier date.")]},
            )
        if not topics:
            raise InvalidArguments(
                _("Choose at least one topic."), fields={"topics": [_("This field is required.")]}
            )
        try:
            minutes = int(duration_minutes)
        except (TypeError, ValueError):
            minutes = 0
        if not 1 <= minutes <= 720:
            raise InvalidArguments(
                _("The duration is not valid."),
                fields={"duration_minutes": [_("Between 1 and 720 minutes.")]},
            )
        topic_entries = [
            _entry(Catalogue.CONSULTATION_TOPIC, key, field_name="topics", day=day)
            for key in dict.fromkeys(topics)
        ]
        participants = _participants(locked, participant_ids)
        consultation = Consultation.objects.create(
            case=locked,
            held_on=day,
            duration_minutes=minutes,
            form=_entry(Catalogue.CONSULTATION_FORM, form, field_name="form", day=day),
            setting=_entry(Catalogue.CONSULTATION_SETTING, setting, field_name="setting", day=day),
            status=_choice_arg(status, Consultation.Status, field_name="status"),
            interpreter=interpreter[:100],
            notes=notes,
            recorded_by=actor,
            recorded_at=now,
            traeger_id=locked.traeger_id,
            gemeinde_id=locked.gemeinde_id,
        )
        # The links carry the report copies (cases.models._ConsultationLink).
        copies = consultation_link_copies(consultation)
        consultation.topics.set(topic_entries, through_defaults=copies)
        consultation.participants.set(participants, through_defaults=copies)
        history.created(consultation)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consultation.recorded",
            obj=consultation,
            reason=consultation.status,
            data={"form": form, "topics": sorted(t.key for t in topic_entries)},
        )
    return consultation


def _participants(case: Case, participant_ids: Iterable[int]) -> list[int]:
    """Return the consultation's participants: the case's person and members
    of its household only. Any other id (another client, or none at all)
    is refused alike, so the answer tells nothing about other cases."""
    allowed = {case.person_id}
    if case.household_id is not None:
        allowed |= set(
            HouseholdMembership.objects.filter(household_id=case.household_id).values_list(
                "person_id", flat=True
            )
        )
    chosen = list(dict.fromkeys(participant_ids)) or [case.person_id]
    if not set(chosen) <= allowed:
        raise InvalidArguments(
            _("Some participants do not belong to this case."),
            fields={"participants": [_("Only the person and their household members.")]},
        )
    return chosen


def assessment_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    assessed_on: date | str,
    items: list[dict[str, Any]],
    interpreter_language: str = "",
) -> Assessment:
    """Record a needs assessment: one need level per field of action."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        day = _date_arg(assessed_on, field_name="assessed_on")
        if not items:
            raise InvalidArguments(
                _("Rate at least one field of action."),
                fields={"items": [_("This field is required.")]},
            )
        assessment = Assessment.objects.create(
            case=locked,
            assessed_on=day,
            interpreter_language=interpreter_language[:50],
            created_by=actor,
        )
        history.created(assessment)
        seen: set[int] = set()
        for item in items:
            entry = _entry(
                Catalogue.FIELD_OF_ACTION, item.get("field_of_action"), field_name="items", day=day
            )
            if entry.pk in seen:
                raise InvalidArguments(
                    _("A field of action is rated twice."),
                    fields={"items": [_("Each field of action once.")]},
                )
            seen.add(entry.pk)
            item_row = AssessmentItem.objects.create(
                assessment=assessment,
                field_of_action=entry,
                need_level=_choice_arg(item.get("need_level"), NeedLevel, field_name="items"),
                situation=str(item.get("situation") or ""),
                resources=str(item.get("resources") or ""),
                client_wishes=str(item.get("client_wishes") or ""),
            )
            history.created(item_row)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.assessment.recorded",
            obj=assessment,
            data={"fields": len(seen)},
        )
    return assessment


def _editable_plan(case: Case) -> IntegrationPlan:
    plan = _current_plan(case)
    if plan is None:
        raise _guard("no_current_plan")
    return plan


def goal_add(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    field_of_action: str,
    title: str,
    success_criterion: str,
    target_date: date | str,
    priority: int = 2,
) -> Goal:
    """Add a goal to the current plan version (draft or agreed)."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        plan = _editable_plan(locked)
        day = _local_date(now)
        target = _date_arg(target_date, field_name="target_date")
        if locked.effective_end and target > locked.effective_end:
            raise _guard("goal_after_period_end")
        agreed = plan.status == IntegrationPlan.Status.AGREED
        goal = Goal.objects.create(
            plan=plan,
            field_of_action=_entry(
                Catalogue.FIELD_OF_ACTION, field_of_action, field_name="field_of_action", day=day
            ),
            title=_text_arg(title, field_name="title"),
            success_criterion=_text_arg(success_criterion, field_name="success_criterion"),
            target_date=target,
            priority=priority,
            status=GoalStatus.AGREED if agreed else GoalStatus.PROPOSED,
            agreed_at=now if agreed else None,
        )
        history.created(goal)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.goal.added",
            obj=goal,
            data={"plan_id": plan.pk, "field_of_action": field_of_action},
        )
    return goal


def goal_update(
    *,
    goal: Goal,
    actor: User,
    now: datetime,
    status: str | None = None,
    outcome_note: str | None = None,
) -> Goal:
    """Change a goal's status (final statuses stamp `closed_at`)."""
    with transaction.atomic():
        locked = _case_for_write(case=goal.plan.case_id, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        row = Goal.objects.select_for_update().get(pk=goal.pk)
        if row.plan.status not in ("DRAFT", "AGREED"):
            raise _guard("no_current_plan")
        if status is not None:
            _goal_set_status(row, _choice_arg(status, GoalStatus, field_name="status"), now=now)
        if outcome_note is not None:
            history.update_rows(Goal.objects.filter(pk=row.pk), outcome_note=outcome_note)
        row.refresh_from_db()
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.goal.updated",
            obj=row,
            reason=row.status,
        )
    return row


def measure_add(
    *,
    goal: Goal,
    actor: User,
    now: datetime,
    description: str,
    responsible: str,
    due_date: date | str | None = None,
    referral: Referral | None = None,
) -> Measure:
    """Add a step to a goal of the current plan."""
    with transaction.atomic():
        locked = _case_for_write(case=goal.plan.case_id, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        if goal.plan.status not in ("DRAFT", "AGREED"):
            raise _guard("no_current_plan")
        measure = Measure.objects.create(
            goal=goal,
            description=_text_arg(description, field_name="description"),
            responsible=_choice_arg(responsible, Measure.Responsible, field_name="responsible"),
            due_date=_date_arg(due_date, field_name="due_date") if due_date else None,
            referral=referral,
        )
        history.created(measure)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.measure.added",
            obj=measure,
            data={"goal_id": goal.pk},
        )
    return measure


def referral_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    referred_on: date | str,
    target_service: str,
    mode: str,
    topic: str | None = None,
    is_final: bool = False,
    organisation: str = "",
    outcome: str = Referral.Outcome.PENDING,
) -> Referral:
    """Record a referral to a regular service (final at closure)."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        day = _date_arg(referred_on, field_name="referred_on")
        referral = Referral.objects.create(
            case=locked,
            referred_on=day,
            target_service=_entry(
                Catalogue.REFERRAL_TARGET, target_service, field_name="target_service", day=day
            ),
            topic=_entry(Catalogue.CONSULTATION_TOPIC, topic, field_name="topic", day=day)
            if topic
            else None,
            mode=_choice_arg(mode, Referral.Mode, field_name="mode"),
            is_final=bool(is_final),
            organisation=organisation[:200],
            outcome=_choice_arg(outcome, Referral.Outcome, field_name="outcome"),
            outcome_date=day if outcome != Referral.Outcome.PENDING else None,
            recorded_by=actor,
        )
        history.created(referral)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.referral.recorded",
            obj=referral,
            reason=target_service,
            data={"is_final": referral.is_final},
        )
    return referral


def referral_update(
    *,
    referral: Referral,
    actor: User,
    now: datetime,
    outcome: str,
    outcome_date: date | str | None = None,
    is_final: bool | None = None,
) -> Referral:
    """Record a referral's outcome."""
    with transaction.atomic():
        locked = _case_for_write(case=referral.case_id, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        row = Referral.objects.select_for_update().get(pk=referral.pk)
        before = history.values_of(row)
        row.outcome = _choice_arg(outcome, Referral.Outcome, field_name="outcome")
        row.outcome_date = _date_arg(
            outcome_date, field_name="outcome_date", default=_local_date(now)
        )
        if is_final is not None:
            row.is_final = is_final
        row.save(update_fields=["outcome", "outcome_date", "is_final"])
        history.updated(row, before)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.referral.updated",
            obj=row,
            reason=row.outcome,
        )
    return row


# --- extension requests (own small FSM, four eyes) ---------------------

ART9_REASONS = ("mental_illness", "chronic_illness", "disability")


def extension_request_submit(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    reason: str,
    months: int,
    justification: str,
) -> ExtensionRequest:
    """Create and submit an extension request (draft -> submitted).

    Guards: the case is open and its clock runs, today is within the
    regular period, no extension was approved before, reason and months are
    valid, a justification is given, and reasons about health need an
    active Art. 9 consent.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        today = _local_date(now)
        entry = _entry(Catalogue.EXTENSION_REASON, reason, field_name="reason", day=today)
        try:
            months_value = int(months)
        except (TypeError, ValueError):
            months_value = 0
        if not 1 <= months_value <= 12:
            raise InvalidArguments(
                _("An extension is 1 to 12 months."),
                fields={"months": [_("Between 1 and 12.")]},
            )
        text = _text_arg(justification, field_name="justification", max_length=5000)
        if locked.status not in CLOCK_STATES:
            raise _guard("case_not_open")
        if locked.regular_end is None:
            raise _guard("period_not_started")
        if today > locked.regular_end:
            raise _guard("period_ended")
        if ExtensionRequest.objects.filter(case=locked, status=ExtensionStatus.APPROVED).exists():
            raise _guard("period_already_extended", PeriodAlreadyExtended)
        if ExtensionRequest.objects.filter(
            case=locked, status__in=[ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED]
        ).exists():
            raise _guard("request_open")
        if entry.key in ART9_REASONS and not _active_consent(
            locked, Consent.Scope.SPECIAL_CATEGORIES_ART9, now
        ):
            raise _guard("art9_consent_missing")
        request = ExtensionRequest.objects.create(
            case=locked,
            reason=entry,
            justification=text,
            months=months_value,
            requested_by=actor,
            created_at=now,
        )
        request.submit(at=now)
        _save(request, ["status", "submitted_at"], expected_status=ExtensionStatus.DRAFT)
        history.created(request)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.extension_request.submitted",
            obj=request,
            transition_name="submit",
            from_state=ExtensionStatus.DRAFT,
            to_state=request.status,
            reason=entry.key,
            data={"months": months_value},
        )
        case_changed.send(
            sender=Case, case=locked, change="extension:SUBMITTED", actor=actor, now=now
        )
    return request


def _lock_request(
    *, request: ExtensionRequest | int, actor: User, now: datetime
) -> tuple[Case, ExtensionRequest]:
    """Lock the case row, then the request row (the project's lock order)."""
    request_pk = request.pk if isinstance(request, ExtensionRequest) else request
    case_id = (
        ExtensionRequest.objects.filter(pk=request_pk).values_list("case_id", flat=True).first()
    )
    if case_id is None:
        raise ExtensionRequestNotFound(_("This extension request does not exist."))
    try:
        locked_case = _lock_case(case=case_id, actor=actor, now=now)
    except CaseNotFound:
        raise ExtensionRequestNotFound(_("This extension request does not exist.")) from None
    queryset = ExtensionRequest.objects.all()
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update()
    return locked_case, queryset.get(pk=request_pk)


def _decide(
    *, request: ExtensionRequest | int, actor: User, now: datetime, note: str, approve: bool
) -> ExtensionRequest:
    with transaction.atomic():
        case, row = _lock_request(request=request, actor=actor, now=now)
        if row.status != ExtensionStatus.SUBMITTED:
            raise AlreadyDecided(MESSAGES["already_decided"])
        if row.requested_by_id == actor.pk:
            raise _guard("self_approval", SelfApproval)
        _require(case_relations(user=actor, case=case, now=now), (SUPERVISOR,))
        from_state = row.status
        before = history.values_of(row)
        if approve:
            if ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.APPROVED).exists():
                raise _guard("period_already_extended", PeriodAlreadyExtended)
            if case.status not in CLOCK_STATES or case.regular_end is None:
                raise _guard("case_not_open")
            new_end = extended_end_for(
                start=case.consultation_start, regular_end=case.regular_end, months=row.months
            )
            row.approve(by=actor, at=now, note=note, effective_end=new_end)
            _save(
                row,
                ["status", "decided_by", "decided_at", "decision_note", "resulting_effective_end"],
                expected_status=from_state,
            )
            history.updated(row, before)
            history.update_rows(Case.objects.filter(pk=case.pk), effective_end=new_end)
            case.effective_end = new_end
            data = {"months": row.months, "effective_end": new_end.isoformat()}
        else:
            row.reject(by=actor, at=now, note=note)
            _save(
                row,
                ["status", "decided_by", "decided_at", "decision_note"],
                expected_status=from_state,
            )
            history.updated(row, before)
            data = {"months": row.months}
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type=f"cases.extension_request.{row.status.lower()}",
            obj=row,
            transition_name="approve" if approve else "reject",
            from_state=from_state,
            to_state=row.status,
            reason=row.reason.key,
            data=data,
        )
        case_changed.send(
            sender=Case, case=case, change=f"extension:{row.status}", actor=actor, now=now
        )
    return row


def extension_request_approve(
    *, request: ExtensionRequest | int, actor: User, now: datetime, note: str = ""
) -> ExtensionRequest:
    """Approve as a supervisor of the case's team; never one's own request.

    Raises AlreadyDecided, SelfApproval, PeriodAlreadyExtended (409),
    TransitionForbidden (403), ExtensionRequestNotFound (404).
    """
    return _decide(request=request, actor=actor, now=now, note=note, approve=True)


def extension_request_reject(
    *, request: ExtensionRequest | int, actor: User, now: datetime, note: str
) -> ExtensionRequest:
    """Reject as a supervisor of the case's team, with a note."""
    _text_arg(note, field_name="note", max_length=5000)
    return _decide(request=request, actor=actor, now=now, note=note, approve=False)


def extension_request_withdraw(
    *, request: ExtensionRequest | int, actor: User, now: datetime
) -> ExtensionRequest:
    """Withdraw an undecided request (its requester or the case owner)."""
    with transaction.atomic():
        case, row = _lock_request(request=request, actor=actor, now=now)
        _require(case_relations(user=actor, case=case, now=now), CONTENT_WRITERS)
        if row.status not in (ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED):
            raise AlreadyDecided(MESSAGES["already_decided"])
        from_state = row.status
        before = history.values_of(row)
        row.withdraw(at=now)
        _save(row, ["status", "decided_at"], expected_status=from_state)
        history.updated(row, before)
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type="cases.extension_request.withdrawn",
            obj=row,
            transition_name="withdraw",
            from_state=from_state,
            to_state=row.status,
            reason=row.reason.key,
        )
        case_changed.send(
            sender=Case, case=case, change="extension:WITHDRAWN", actor=actor, now=now
        )
    return row


# --- erasure -----------------------------------------------------------------


def case_anonymise(*, case: Case, now: datetime) -> None:
    """Remove the personal content of `case`; keep ids, dates and codes.

    The person is anonymised only when no other live case needs them.
    Called inside the `retention_elapsed` transition.
    """
    update = history.update_rows
    update(Consultation.objects.filter(case=case), notes="", interpreter="")
    update(Goal.objects.filter(plan__case=case), title="—", success_criterion="", outcome_note="")
    update(Measure.objects.filter(goal__plan__case=case), description="—")
    update(PlanReview.objects.filter(plan__case=case), notes="", participants="")
    update(IntegrationPlan.objects.filter(case=case), situation_summary="", interpreter="")
    update(
        AssessmentItem.objects.filter(assessment__case=case),
        situation="",
        resources="",
        client_wishes="",
    )
    update(ExtensionRequest.objects.filter(case=case), justification="—", decision_note="")
    update(Referral.objects.filter(case=case), organisation="")
    update(Case.objects.filter(pk=case.pk), plan_declined_reason="")
    update(Assessment.objects.filter(case=case), interpreter_language="")
    update(IntegrationPlan.objects.filter(case=case), agreement_language="")
    update(
        Consent.objects.filter(case=case),
        recipient="",
        interpreter="",
        interpreter_language="",
        language="—",
    )
    # The code "given by the legal guardian" stays (proof, Art. 7(1)); the
    # guardian's name goes.
    update(
        Consent.objects.filter(case=case, given_by=Consent.GivenBy.LEGAL_GUARDIAN),
        guardian_name="—",
    )
    # Files go once the erasure has committed: a rolled-back sweep keeps them.
    storage_names = [(d.file.storage, d.file.name) for d in case.documents.all() if d.file]
    update(case.documents.all(), file="", sha256="", language="")
    transaction.on_commit(
        lambda: [storage.delete(name) for storage, name in storage_names], robust=True
    )
    others = (
        Case.objects.filter(person_id=case.person_id)
        .exclude(pk=case.pk)
        .exclude(status=CaseStatus.DELETED)
    )
    if not others.exists():
        update(
            Consent.objects.filter(person_id=case.person_id),
            recipient="",
            interpreter="",
            interpreter_language="",
            language="—",
        )
        update(
            Consent.objects.filter(
                person_id=case.person_id, given_by=Consent.GivenBy.LEGAL_GUARDIAN
            ),
            guardian_name="—",
        )
        # A household address goes when no other member still has a live case.
        live_members = Case.objects.exclude(status=CaseStatus.DELETED).exclude(
            person_id=case.person_id
        )
        update(
            Household.objects.filter(memberships__person_id=case.person_id).exclude(
                memberships__person__cases__in=live_members
            ),
            address="",
        )
        update(
            Person.objects.filter(pk=case.person_id),
            family_name="—",
            given_names="",
            date_of_birth=None,
            nationality="",
            languages="",
            phone="",
            address="",
            anonymised_at=now,
        )


SYSTEM_TRANSITIONS = tuple(name for name, spec in TRANSITIONS.items() if spec.system_only)
__all__ += ["AUDITOR", "SYSTEM_TRANSITIONS", "TRANSITIONS"]


# --- network contacts (about no client) ---------------------------------------


def network_contact_record(
    *,
    actor: User,
    now: datetime,
    contact_date: date | str,
    category: str,
    organisation: str,
    format: str,
    topic: str = "",
    duration_minutes: int | None = None,
) -> NetworkContact:
    """Record a Netzwerkkontakt of an integration manager (no client data)."""
    if actor.role != Role.INTEGRATION_MANAGER:
        raise TransitionForbidden(MESSAGES["forbidden"])
    day = _date_arg(contact_date, field_name="contact_date")
    if day > _local_date(now):
        raise InvalidArguments(
            _("A network contact cannot lie in the future."),
            fields={"contact_date": [_("Choose today or an earlier date.")]},
        )
    if duration_minutes is not None and not 1 <= int(duration_minutes) <= 720:
        raise InvalidArguments(
            _("The duration is not valid."),
            fields={"duration_minutes": [_("Between 1 and 720 minutes.")]},
        )
    with transaction.atomic():
        contact = NetworkContact.objects.create(
            manager=actor,
            contact_date=day,
            category=_entry(
                Catalogue.NETWORK_CONTACT_CATEGORY, category, field_name="category", day=day
            ),
            organisation=_text_arg(organisation, field_name="organisation", max_length=200),
            format=_choice_arg(format, NetworkContact.Format, field_name="format"),
            topic=str(topic or "")[:200],
            duration_minutes=duration_minutes,
        )
        audit_event_record(
            event_type="cases.network_contact.recorded",
            actor=actor,
            actor_role=actor.role,
            now=now,
            object_type="networkcontact",
            object_id=contact.pk,
            reason=category,
        )
    return contact
