"""The case's state machine: the transition table (DOMAIN.md §14.1) and the
one service that fires a transition, `case_transition`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.models import User
from audit.services import held_events
from cases import history
from cases.atomic import service_atomic
from cases.clock import (
    add_months,
    local_date,
    no_contact_timeout_on,
    retention_deadline,
    start_of_day,
)
from cases.effects import CaseChange, ChangeKind, case_changed
from cases.errors import (
    MESSAGES,
    InvalidArguments,
    PlanHasNoGoals,
    TransitionForbidden,
    TransitionNotAvailable,
    UnknownTransition,
    guard,
)
from cases.models import (
    FINAL_GOAL_STATES,
    AssessmentItem,
    Case,
    Catalogue,
    Consent,
    Consultation,
    ExtensionRequest,
    ExtensionStatus,
    GoalStatus,
    IntegrationPlan,
    Measure,
    NeedLevel,
    PlanReview,
    Referral,
)
from cases.person_clock import person_clock
from cases.selectors import (
    DEPUTY,
    DPO,
    OWNER,
    SUPERVISOR,
    SYSTEM,
    case_relations,
)
from cases.services.args import (
    _choice_arg,
    _date_arg,
    _entry,
    _text_arg,
)
from cases.services.base import (
    _active_consent,
    _audit,
    _consultation_recorded_after,
    _current_plan,
    _editable_plan,
    _goal_set_status,
    _lock_case,
    _plan_set_status,
    _require,
    _save,
)
from cases.services.erasure import case_anonymise
from cases.services.plans import plan_change_pending, plan_new_version, plans_discard_drafts
from cases.services.privacy import (
    TRANSFER_CLOSURE_REASONS,
    erase_after_withdrawal_quietly,
    require_transfer_consent,
)
from cases.services.reassessment import reassessment_items, reassessment_record
from config.errors import ApplicationError


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
        return local_date(self.now)


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
        raise guard("consent_missing")


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
        raise guard("not_eligible")
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
        raise guard("consultation_missing")
    # The person's first consultation: the earliest completed one of this
    # case (also one before the one named), or an earlier start of the
    # person's clock (an earlier case, another Träger or Gemeinde, a fact
    # known from elsewhere). The extension the person used carries over.
    earliest = (
        Consultation.objects.filter(case=case, status=Consultation.Status.COMPLETED)
        .order_by("held_on")
        .values_list("held_on", flat=True)
        .first()
    )
    clock = person_clock(person=case.person_id, today=ctx.today, start=earliest)
    start = clock.start
    if start is None or clock.regular_end is None:  # not reached: a consultation exists
        raise guard("consultation_missing")

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
            "regular_end": clock.regular_end,
            "effective_end": clock.effective_end,
        },
        reason=basis,
        data={
            "consultation_id": consultation.pk,
            "consultation_start": start.isoformat(),
            **(
                {"effective_end": clock.effective_end.isoformat()} if clock.extension_months else {}
            ),
        },
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
    deadline = local_date(ctx.case.registered_at) + timedelta(days=settings.LOTSE_NO_SHOW_DAYS)
    if ctx.today < deadline:
        raise guard("no_show_deadline_not_reached")


# T5 draft_plan
def _pre_draft_plan(ctx: Ctx) -> None:
    if not AssessmentItem.objects.filter(
        assessment__case=ctx.case, need_level__in=NeedLevel.values
    ).exists():
        raise guard("assessment_missing")


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
        raise guard("no_current_plan")
    goals = list(plan.goals.filter(cancelled_at__isnull=True))
    if not goals:
        raise guard("plan_has_no_goals", PlanHasNoGoals)
    for goal in goals:
        if not (goal.title.strip() and goal.success_criterion.strip() and goal.target_date):
            raise guard("goal_incomplete")
        if ctx.case.effective_end and goal.target_date > ctx.case.effective_end:
            raise guard("goal_after_period_end")
    if not Measure.objects.filter(goal__plan=plan).exclude(responsible="").exists():
        raise guard("plan_has_no_measures")


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
        raise guard("no_agreed_plan")
    if plan_change_pending(ctx.case):
        raise guard("plan_change_pending")


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
    needs = reassessment_items(ctx.args.get("assessment"), day=reviewed_on)
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
        reassessment_record(
            case=_case, plan_review=plan_review, assessed_on=reviewed_on, items=needs, actor=actor
        )
        for goal in new_plan.goals.filter(origin_id__in=updates):
            _goal_set_status(goal, updates[goal.origin_id], now=now)

    return Step(
        kwargs={"next_review_at": review},
        data={"plan_id": plan.pk, "new_version": plan.version + 1},
        after=after,
    )


# T8 pause / T9 resume
class PauseReason:
    values = ("NO_CONTACT", "CLIENT_REQUEST", "HOSPITAL_STAY", "OTHER")


def _prep_pause(ctx: Ctx) -> Step:
    reason = _choice_arg(ctx.args.get("reason"), PauseReason, field_name="reason")
    return Step(kwargs={"at": ctx.now}, reason=reason)


def _pre_resume(ctx: Ctx) -> None:
    paused_at = ctx.case.paused_at or ctx.now
    if not _consultation_recorded_after(ctx.case, paused_at):
        raise guard("consultation_missing")


# T10 start_closing
class ClosingGround:
    values = ("ALL_GOALS_FINAL", "CLIENT_REQUEST", "MOVED_AWAY", "TRANSFER")


def _goals_final(case: Case) -> bool:
    plan = _current_plan(case)
    if plan is None:
        return True
    return (
        not plan.goals.filter(cancelled_at__isnull=True)
        .exclude(status__in=FINAL_GOAL_STATES)
        .exists()
    )


def _prep_start_closing(ctx: Ctx) -> Step:
    ground = _choice_arg(ctx.args.get("ground"), ClosingGround, field_name="ground")
    if ground == "ALL_GOALS_FINAL":
        plan = _current_plan(ctx.case)
        if plan is None or not plan.goals.exists():
            raise guard("plan_has_no_goals", PlanHasNoGoals)
        if not _goals_final(ctx.case):
            raise guard("goals_not_final")
    return Step(kwargs={"ground": ground}, reason=ground)


# T11 period_expired
def _pre_period_expired(ctx: Ctx) -> None:
    end = ctx.case.effective_end
    if end is None or ctx.today <= end:
        raise guard("period_not_expired")
    if timely_extension_pending(ctx.case):
        raise guard("extension_pending")


_TIMELY_REQUEST_SQL = (
    f"SELECT EXISTS (SELECT 1 FROM {ExtensionRequest._meta.db_table}"  # noqa: S608 - our table
    " WHERE case_id = %s AND status = %s AND submitted_at < %s)"
)


def timely_extension_pending(case: Case) -> bool:
    """Whether an extension request submitted by the end of the period
    waits for its decision: the period does not run out under it. One
    plain statement: the period-end sweep asks it for every due case."""
    end = case.effective_end
    if end is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            _TIMELY_REQUEST_SQL,
            [
                case.pk,
                ExtensionStatus.SUBMITTED.value,
                connection.ops.adapt_datetimefield_value(start_of_day(end + timedelta(days=1))),
            ],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


# T12 no_contact_timeout


def _pre_no_contact(ctx: Ctx) -> None:
    last = (
        Consultation.objects.filter(case=ctx.case, status=Consultation.Status.COMPLETED)
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )
    due_on = no_contact_timeout_on(paused_at=ctx.case.paused_at, last_consultation=last)
    if due_on is None or due_on > ctx.today:
        raise guard("contact_within_deadline")


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
        raise guard("goals_not_final")
    if Referral.objects.filter(
        case=case, outcome=Referral.Outcome.PENDING, cancelled_at__isnull=True
    ).exists():
        raise guard("referrals_open")
    if (
        reason.key in NEEDS_FINAL_REFERRAL
        and not no_further_need
        and not Referral.objects.filter(
            case=case, is_final=True, cancelled_at__isnull=True
        ).exists()
    ):
        raise guard("final_referral_missing")
    if reason.key in TRANSFER_CLOSURE_REASONS:
        # The handover passes data on: only with a transfer consent (T13).
        require_transfer_consent(case, ctx.now)

    def after() -> None:
        plan = _current_plan(case)
        if plan is not None:
            _plan_set_status(plan, IntegrationPlan.Status.CLOSED)
        plans_discard_drafts(case)

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
        plans_discard_drafts(case)
        # Consent was the only legal basis: erase at once once the
        # withdrawal is committed (DOMAIN.md §14.5); a legal hold keeps it.
        transaction.on_commit(
            lambda: erase_after_withdrawal_quietly(case_pk=case.pk, now=now),
            robust=True,
        )

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
        raise guard("period_ended")
    if case.closure_reason is not None and case.closure_reason.key == "deceased":
        raise guard("reopen_not_allowed")
    if not _active_consent(case, Consent.Scope.CASE_PROCESSING, ctx.now):
        raise guard("consent_missing")
    if not _consultation_recorded_after(case, case.closed_at or ctx.now):
        raise guard("consultation_missing")


def _prep_reopen(ctx: Ctx) -> Step:
    reason = _choice_arg(ctx.args.get("reason"), ReopenReason, field_name="reason")
    case = ctx.case

    def after() -> None:
        last = IntegrationPlan.objects.filter(case=case).order_by("-version").first()
        if last is not None and last.status == IntegrationPlan.Status.CLOSED and last.agreed_at:
            _plan_set_status(last, IntegrationPlan.Status.AGREED)

    return Step(reason=reason, after=after)


def _pre_retention(ctx: Ctx) -> None:
    if ctx.case.legal_hold:
        raise guard("legal_hold")
    deadline = retention_deadline(ctx.case)
    if deadline is None or ctx.today <= deadline:
        raise guard("retention_not_elapsed")


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
    *,
    case: Case | int,
    name: str,
    actor: User | None,
    now: datetime,
    caused_by: User | None = None,
    **args: Any,
) -> Case:
    """Fire transition `name` on `case` as `actor` (None: the system).

    `caused_by`: the person whose step made the system fire it at once
    (told to the handlers of the change; the audit event stays the
    system's).

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
        # Without a follow-up nothing reads or writes rows of the case before
        # the audit event: the UPDATE goes in the event's statement, and both
        # may wait for the flow restart's write to carry them (held events).
        plain = step.after is None
        saved = _save(locked, changed, expected_status=from_state, defer=plain)
        # Only the changed fields can differ (the others are equal by `changed`).
        history.updated(locked, {name: before[name] for name in changed})
        if step.after is not None:
            step.after()
        with held_events() if plain else contextlib.nullcontext():
            _audit(
                saved=saved,
                case=locked,
                actor=actor,
                now=now,
                event_type=f"cases.case.{name}",
                transition_name=name,
                from_state=from_state,
                to_state=locked.status,
                reason=step.reason,
                data=step.data,
                hold=plain,
            )
            case_changed(
                CaseChange(
                    case=locked,
                    kind=ChangeKind.TRANSITION,
                    actor=actor,
                    now=now,
                    transition=name,
                    caused_by=caused_by,
                )
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


SYSTEM_TRANSITIONS = tuple(name for name, spec in TRANSITIONS.items() if spec.system_only)
