"""The Integrationsplan: versions, goals and their steps (measures)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.clock import (
    local_date,
)
from cases.errors import (
    InvalidArguments,
    guard,
)
from cases.models import (
    Case,
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
    _editable_plan,
    _goal_set_status,
    _plan_set_status,
    _require_open,
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
            catalogue_goal_id=goal.catalogue_goal_id,
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
        agreed = plan.status == IntegrationPlan.Status.AGREED
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
        data = {"plan_id": plan.pk, "field_of_action": field.key}
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
) -> Goal:
    """Change a goal's status (final statuses stamp `closed_at`)."""
    with transaction.atomic():
        locked = _case_for_write(case=goal.plan.case_id, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        row = Goal.objects.select_for_update().get(pk=goal.pk)
        if row.plan.status not in ("DRAFT", "AGREED"):
            raise guard("no_current_plan")
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
