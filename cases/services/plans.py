"""The Integrationsplan: versions, goals and their steps (measures)."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.clock import (
    add_months,
    local_date,
)
from cases.errors import (
    InvalidArguments,
    PlanHasNoGoals,
    guard,
)
from cases.models import (
    Case,
    CaseStatus,
    Catalogue,
    Goal,
    GoalCatalogueEntry,
    GoalStatus,
    IntegrationPlan,
    Measure,
    Referral,
)
from cases.services.args import (
    _choice_arg,
    _date_arg,
    _entry,
    _text_arg,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _audit,
    _case_for_write,
    _current_plan,
    _editable_plan,
    _goal_set_status,
    _plan_set_status,
    _require_open,
    _save,
)

EDITABLE_PLAN_STATES = ("DRAFT", "AGREED", "REVISION")


def plan_change_pending(case: Case) -> IntegrationPlan | None:
    """The drafted change of the agreed plan awaiting agreement, if any."""
    return IntegrationPlan.objects.filter(case=case, status=IntegrationPlan.Status.REVISION).first()


def plans_discard_drafts(case: Case) -> None:
    """Close a pending change (at closure or withdrawal: never agreed)."""
    history.update_rows(
        IntegrationPlan.objects.filter(case=case, status=IntegrationPlan.Status.REVISION),
        status=IntegrationPlan.Status.CLOSED,
    )


def _plan_change_for(case: Case, *, now: datetime) -> IntegrationPlan:
    """The pending change of the agreed plan, drafted on the first change
    as a copy of the agreed version (goals and steps carried over)."""
    pending = plan_change_pending(case)
    if pending is not None:
        return pending
    agreed = _editable_plan(case)
    return _copy_plan(agreed, now=now, status=IntegrationPlan.Status.REVISION, next_review_at=None)


def _copy_plan(
    plan: IntegrationPlan, *, now: datetime, status: str, next_review_at: date | None
) -> IntegrationPlan:
    agreed = status == IntegrationPlan.Status.AGREED
    new_plan = IntegrationPlan.objects.create(
        case=plan.case,
        version=plan.version + 1,
        status=status,
        created_at=now,
        agreed_at=now if agreed else None,
        agreement_form=plan.agreement_form if agreed else "",
        agreement_language=plan.agreement_language if agreed else "",
        interpreter=plan.interpreter if agreed else "",
        next_review_at=next_review_at,
        situation_summary=plan.situation_summary,
    )
    history.created(new_plan)
    _copy_goals(plan, new_plan, keep_agreed_at=agreed)
    return new_plan


def plan_new_version(
    *, plan: IntegrationPlan, now: datetime, next_review_at: date
) -> IntegrationPlan:
    """Supersede `plan` with an agreed copy (goals and steps carried over)."""
    _plan_set_status(plan, IntegrationPlan.Status.SUPERSEDED)
    return _copy_plan(
        plan, now=now, status=IntegrationPlan.Status.AGREED, next_review_at=next_review_at
    )


def _copy_goals(plan: IntegrationPlan, new_plan: IntegrationPlan, *, keep_agreed_at: bool) -> None:
    for goal in plan.goals.prefetch_related("measures").order_by("pk"):
        copy = Goal.objects.create(
            plan=new_plan,
            origin=goal,
            field_of_action_id=goal.field_of_action_id,
            catalogue_goal_id=goal.catalogue_goal_id,
            title=goal.title,
            success_criterion=goal.success_criterion,
            target_date=goal.target_date,
            priority=goal.priority,
            status=goal.status,
            # A drafted change counts nothing (K4) until it is agreed.
            agreed_at=goal.agreed_at if keep_agreed_at else None,
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


def goal_add(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    field_of_action: str = "",
    title: str = "",
    success_criterion: str,
    target_date: date | str,
    priority: int = 2,
    catalogue_goal: str = "",
) -> Goal:
    """Add a goal to the current plan version (draft or agreed).

    The goal is either an entry of the goal catalogue (`catalogue_goal`, its
    key: the field of action follows from it, the wording defaults to its
    label and may be made concrete) or worded freely under a field of action.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        plan = _editable_plan(locked)
        if plan.status == IntegrationPlan.Status.AGREED:
            # A new goal changes the agreed plan: it goes into a new draft
            # version that needs the client's agreement (the agreed one
            # stays in force until then).
            plan = _plan_change_for(locked, now=now)
        day = local_date(now)
        target = _date_arg(target_date, field_name="target_date")
        if locked.effective_end and target > locked.effective_end:
            raise guard("goal_after_period_end")
        chosen = _catalogue_goal(catalogue_goal)
        if chosen is not None and not field_of_action:
            field = chosen.field_of_action
            if not field.is_valid_on(day):
                raise _goal_not_in_field()
        else:
            field = _entry(
                Catalogue.FIELD_OF_ACTION, field_of_action, field_name="field_of_action", day=day
            )
            if chosen is not None and chosen.field_of_action_id != field.pk:
                raise _goal_not_in_field()
        wording = title if chosen is None or str(title or "").strip() else chosen.label_de
        # A goal is never agreed by being added: a change of an agreed plan
        # goes into a new version that needs the client's agreement (issue 18).
        agreed = False
        goal = Goal.objects.create(
            plan=plan,
            field_of_action=field,
            catalogue_goal=chosen,
            title=_text_arg(wording, field_name="title"),
            success_criterion=_text_arg(success_criterion, field_name="success_criterion"),
            target_date=target,
            priority=priority,
            status=GoalStatus.AGREED if agreed else GoalStatus.PROPOSED,
            agreed_at=now if agreed else None,
        )
        history.created(goal)
        data = {"plan_id": plan.pk, "plan_version": plan.version, "field_of_action": field.key}
        if chosen is not None:
            data["catalogue_goal"] = chosen.key
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.goal.added",
            obj=goal,
            data=data,
        )
    return goal


def _catalogue_goal(key: str | None) -> GoalCatalogueEntry | None:
    """The goal catalogue's entry `key` (in use), None for a free wording."""
    if key in (None, ""):
        return None
    entry = (
        GoalCatalogueEntry.objects.select_related("field_of_action")
        .filter(key=str(key), is_active=True)
        .first()
    )
    if entry is None:
        raise InvalidArguments(
            _("Please choose a goal from the catalogue or word it freely."),
            fields={"catalogue_goal": [_("Unknown or retired goal: %(key)s") % {"key": key}]},
        )
    return entry


def _goal_not_in_field() -> InvalidArguments:
    return InvalidArguments(
        _("This goal of the catalogue belongs to another field of action."),
        fields={"catalogue_goal": [_("Choose a goal of the chosen field of action.")]},
    )


def goal_update(
    *,
    goal: Goal,
    actor: User,
    now: datetime,
    status: str | None = None,
    outcome_note: str | None = None,
    title: str | None = None,
    success_criterion: str | None = None,
    target_date: date | str | None = None,
) -> Goal:
    """Change a goal's status (final statuses stamp `closed_at`), outcome or
    wording.

    A changed wording, success criterion or target date of a goal of the
    agreed plan is a change of the plan: it is made in the plan's new draft
    version (created on the first change), which needs the client's
    agreement (`plan_version_agree`); the agreed version stays in force
    until then. The goal returned is the one changed.
    """
    with transaction.atomic():
        locked = _case_for_write(case=goal.plan.case_id, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        row = Goal.objects.select_for_update().get(pk=goal.pk)
        if row.plan.status not in EDITABLE_PLAN_STATES:
            raise guard("no_current_plan")
        wording: dict[str, object] = {}
        if title is not None:
            wording["title"] = _text_arg(title, field_name="title")
        if success_criterion is not None:
            wording["success_criterion"] = _text_arg(
                success_criterion, field_name="success_criterion"
            )
        if target_date is not None:
            target = _date_arg(target_date, field_name="target_date")
            if locked.effective_end and target > locked.effective_end:
                raise guard("goal_after_period_end")
            wording["target_date"] = target
        changed = {k: v for k, v in wording.items() if getattr(row, k) != v}
        if changed and row.plan.status == IntegrationPlan.Status.AGREED:
            change = _plan_change_for(locked, now=now)
            row = Goal.objects.select_for_update().get(plan=change, origin=row)
        if changed:
            history.update_rows(Goal.objects.filter(pk=row.pk), **changed)
        if status is not None:
            chosen = _choice_arg(status, GoalStatus, field_name="status")
            _goal_set_status(row, chosen, now=now)
            # Progress on the agreed goal shows in its pending change too.
            if row.plan.status == IntegrationPlan.Status.AGREED:
                for copy in Goal.objects.filter(
                    origin=row, plan__status=IntegrationPlan.Status.REVISION
                ):
                    _goal_set_status(copy, chosen, now=now)
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
            data={"plan_id": row.plan_id, "changed": sorted(changed)} if changed else None,
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
        if goal.plan.status not in EDITABLE_PLAN_STATES:
            raise guard("no_current_plan")
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


def plan_redraft_after_decline(*, case: Case | int, actor: User, now: datetime) -> IntegrationPlan:
    """Start the Integrationsplan after the client first declined it
    (voluntariness, T6a): the declined draft becomes a draft again (or a
    new one is created); goals and steps are added as usual and
    `plan_version_agree` records the agreement. The case stays active.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        if not locked.plan_declined or locked.status not in (
            CaseStatus.ACTIVE,
            CaseStatus.DORMANT,
        ):
            raise guard("plan_not_declined")
        if _current_plan(locked) is not None:
            raise guard("plan_change_pending")
        last = IntegrationPlan.objects.filter(case=locked).order_by("-version").first()
        if last is not None and last.agreed_at is None:
            # Never agreed: the declined draft (with its goals) comes back.
            _plan_set_status(last, IntegrationPlan.Status.DRAFT)
            plan = IntegrationPlan.objects.get(pk=last.pk)
        else:
            plan = IntegrationPlan.objects.create(
                case=locked,
                version=(last.version + 1) if last else 1,
                status=IntegrationPlan.Status.DRAFT,
                created_at=now,
            )
            history.created(plan)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.plan.drafted_after_decline",
            obj=plan,
            data={"plan_version": plan.version},
        )
    return plan


def _check_agreeable(case: Case, plan: IntegrationPlan) -> None:
    goals = list(plan.goals.all())
    if not goals:
        raise guard("plan_has_no_goals", PlanHasNoGoals)
    for goal in goals:
        if not (goal.title.strip() and goal.success_criterion.strip() and goal.target_date):
            raise guard("goal_incomplete")
        if case.effective_end and goal.target_date > case.effective_end:
            raise guard("goal_after_period_end")
    if not Measure.objects.filter(goal__plan=plan).exclude(responsible="").exists():
        raise guard("plan_has_no_measures")


def plan_version_agree(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    agreement_form: str,
    agreement_language: str,
    interpreter: str = "",
    copy_handed_over: bool = False,
    next_review_at: date | str | None = None,
) -> IntegrationPlan:
    """Record the client's agreement to the pending plan of an active case:
    the drafted change of the agreed plan (which is superseded now) or the
    plan drafted after an earlier decline (`plan_declined` is cleared).

    The same guards as `agree_plan` (409); `no_plan_change` when nothing
    waits for agreement.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        change = plan_change_pending(locked)
        current = _current_plan(locked)
        if change is not None:
            plan = change
        elif (
            locked.plan_declined
            and current is not None
            and current.status == IntegrationPlan.Status.DRAFT
            and locked.status in (CaseStatus.ACTIVE, CaseStatus.DORMANT)
        ):
            plan = current
        else:
            raise guard("no_plan_change")
        _check_agreeable(locked, plan)
        form = _choice_arg(
            agreement_form, IntegrationPlan.AgreementForm, field_name="agreement_form"
        )
        language = _text_arg(agreement_language, field_name="agreement_language", max_length=50)
        today = local_date(now)
        default = add_months(today, settings.LOTSE_REVIEW_MONTHS)
        if locked.effective_end:
            default = min(default, locked.effective_end)
        review = _date_arg(next_review_at, field_name="next_review_at", default=default)
        if review <= today or (locked.effective_end and review > locked.effective_end):
            raise InvalidArguments(
                _("The next review must lie in the future and within the consultation period."),
                fields={"next_review_at": [_("Choose another date.")]},
            )
        if change is not None and current is not None:
            _plan_set_status(current, IntegrationPlan.Status.SUPERSEDED)
        _plan_set_status(
            plan,
            IntegrationPlan.Status.AGREED,
            agreed_at=now,
            agreement_form=form,
            agreement_language=language,
            interpreter=str(interpreter or "")[:100],
            copy_handed_over=bool(copy_handed_over),
            next_review_at=review,
        )
        # Goals carried over keep their first agreement; new ones are agreed now.
        for goal in plan.goals.filter(agreed_at__isnull=True):
            origin_agreed = goal.origin.agreed_at if goal.origin_id else None
            fields: dict[str, object] = {"agreed_at": origin_agreed or now}
            if goal.status in (GoalStatus.NEW, GoalStatus.PROPOSED):
                fields["status"] = GoalStatus.AGREED
            history.update_rows(Goal.objects.filter(pk=goal.pk), **fields)
        before = history.values_of(locked)
        locked.next_review_at = review
        locked.plan_declined = False
        locked.plan_declined_reason = ""
        _save(
            locked,
            ["next_review_at", "plan_declined", "plan_declined_reason"],
            expected_status=locked.status,
        )
        history.updated(locked, before)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.plan.agreed",
            obj=plan,
            reason=form,
            data={
                "plan_version": plan.version,
                "kind": "change" if change is not None else "after_decline",
            },
        )
    return IntegrationPlan.objects.get(pk=plan.pk)


def plan_change_discard(*, case: Case | int, actor: User, now: datetime) -> IntegrationPlan:
    """Discard the drafted change the client did not agree to; the agreed
    version stays as it is."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        change = plan_change_pending(locked)
        if change is None:
            raise guard("no_plan_change")
        _plan_set_status(change, IntegrationPlan.Status.CLOSED)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.plan.change_discarded",
            obj=change,
            data={"plan_version": change.version},
        )
    return IntegrationPlan.objects.get(pk=change.pk)


def goal_add_with_step(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    field_of_action: str,
    title: str,
    success_criterion: str,
    target_date: date | str,
    measure: str,
    responsible: str,
) -> Goal:
    """Add a goal and its first step in one transaction (the browser's goal
    form); on an agreed plan both go into the pending change."""
    with transaction.atomic():
        goal = goal_add(
            case=case,
            actor=actor,
            now=now,
            field_of_action=field_of_action,
            title=title,
            success_criterion=success_criterion,
            target_date=target_date,
        )
        measure_add(goal=goal, actor=actor, now=now, description=measure, responsible=responsible)
    return goal
