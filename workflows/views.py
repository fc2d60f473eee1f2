"""The German task screens: inbox, approvals, the case's flow, task forms.

Task views run behind `workflows.nodes.guarded` (404 for foreign cases and
mismatched URLs, 403 for tasks that are not the user's, POST under the flow
lock in one transaction). A task view validates its form, calls the case
services and completes the task in that transaction: a refused service call
rolls back everything the request did (`Refused`) and shows the service's
message at the field it names; nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from viewflow.workflow import chart
from viewflow.workflow.status import STATUS

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest, request_user
from audit.services import read_access_record
from cases import services
from cases.dates import case_dates
from cases.models import Consent, IntegrationPlan, Referral
from cases.needs import review_need_fields
from cases.selectors import (
    DEPUTY,
    OWNER,
    SUPERVISOR,
    CaseNotFound,
    case_clock,
    case_get_for_user,
    case_is_visible_to,
    case_relations,
)
from config.errors import ApplicationError
from handover.selectors import handover_of_case
from workflows import context, forms, selectors
from workflows.chart_text import svg_with_titles_as_written
from workflows.confirm import confirmation_page, needs_confirmation

HUMAN_OPEN = (STATUS.NEW, STATUS.ASSIGNED)

if TYPE_CHECKING:

    class TaskRequest(AuthenticatedHttpRequest):
        """A request behind `workflows.nodes.guarded`, which sets these."""

        activation: Any
        case: Any
        now: datetime

else:
    TaskRequest = HttpRequest


class Refused(Exception):
    """Raised by a task view to roll back everything the request wrote
    and answer with `respond()`, built after the rollback (so the page shows
    the data as it is, not as the refused attempt left it)."""

    def __init__(self, respond: Callable[[], HttpResponse]) -> None:
        super().__init__()
        self.respond = respond


def task_url(task: Any, name: str = "execute") -> str:
    return task.flow_task.reverse(name, args=[task.process_id, task.pk])


def _show_form_error(form: Any, error: ApplicationError) -> None:
    """Put a service's refusal at the fields it names (or on the form)."""
    placed = False
    for field, problems in (error.fields or {}).items():
        if field in form.fields:
            for problem in problems:
                form.add_error(field, str(problem))
            placed = True
    if not placed or not error.fields:
        form.add_error(None, str(error.message))


# --- task screens ------------------------------------------------------------


class TaskView(View):
    """One guided task: a page with one or more forms (actions); an action
    either completes the task or changes the case and stays on it."""

    template_name = "workflows/task.html"
    actions: dict[str, str] = {}  # action -> method name
    default_action = ""

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        guarded_request = cast("TaskRequest", request)
        self.activation = guarded_request.activation
        self.task = self.activation.task
        self.node = self.task.flow_task
        self.case = guarded_request.case
        self.now = guarded_request.now
        self.user = request_user(request)
        self.today = timezone.localdate(self.now)

    # hooks
    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def extra_context(self) -> dict[str, Any]:
        return {}

    # http
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.task.status not in HUMAN_OPEN:
            return redirect(task_url(self.task, "detail"))
        read_access_record(
            user=self.user, case_id=self.case.pk, view=f"workflows.{self.node.name}", now=self.now
        )
        return self.render(self.forms_for())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.task.status not in HUMAN_OPEN:
            return render(
                request,
                "workflows/conflict.html",
                {
                    "message": _("This task has already been completed or is no longer open."),
                    "case": self.case,
                },
                status=409,
            )
        action = request.POST.get("action") or self.default_action
        if action not in self.actions:
            return self.render(self.forms_for(), status=400, error=_("Unknown action."))
        all_forms = self.forms_for(data=request.POST, action=action)
        form = all_forms[action]
        form.dates = case_dates(self.case, today=self.today)
        if not form.is_valid():
            return self.render(all_forms, status=400)
        if needs_confirmation(request, action):
            return confirmation_page(request, action=action, back_url=request.path)
        handler: Callable[[Any], bool] = getattr(self, self.actions[action])
        # The request's transaction (opened by the flow lock) holds the task
        # and every service call of the handler: a refusal rolls all of it back.
        try:
            if self.task.owner_id is None:  # an approval taken from the queue
                self.activation.assign(self.user)
            elif self.task.owner_id != self.user.pk and self.node.owner_gone(self.task):
                self.activation.reassign(self.user)  # taken over from a departed supervisor
            completes = handler(form)
            if completes:
                self.complete(outcome=action)
        except ApplicationError as error:
            _show_form_error(form, error)
            status = error.http_status
            raise Refused(lambda: self.render(all_forms, status=status)) from error
        if not completes:
            return HttpResponseRedirect(request.path)
        messages.success(request, _("Done: %(task)s.") % {"task": self.node.task_title})
        return HttpResponseRedirect(self.next_url())

    def complete(self, *, outcome: str) -> None:
        activation = self.activation
        activation.start(self.request)
        self.task.data = {**(self.task.data or {}), "outcome": outcome}
        activation.execute()

    def next_url(self) -> str:
        """The next task of this case for this user, else the inbox."""
        for task in selectors.open_tasks(self.case):
            if (
                task.flow_task_type == "HUMAN"
                and task.status in HUMAN_OPEN
                and task.owner_id == self.user.pk
            ):
                return task_url(task)
        return reverse("workflows:inbox")

    def render(
        self, all_forms: dict[str, Any], *, status: int = 200, error: str = ""
    ) -> HttpResponse:
        context = {
            "task": self.task,
            "node": self.node,
            "case": self.case,
            "due": self.node.due(self.case),
            "forms": all_forms,
            "error": error,
            "detail_url": task_url(self.task, "detail"),
            "flow_url": reverse("workflows:case", args=[self.case.pk]),
            **self.extra_context(),
        }
        return render(self.request, self.template_name, context, status=status)


class AcceptHandoverView(TaskView):
    template_name = "workflows/task_accept_handover.html"
    actions = {"accept": "accept", "reject": "reject"}

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {
            "accept": forms.forms.Form(data if action == "accept" else None),
            "reject": forms.RejectForm(data if action == "reject" else None),
        }

    def accept(self, form: Any) -> bool:
        services.case_handover_accept(case=self.case, actor=self.user, now=self.now)
        return True

    def reject(self, form: Any) -> bool:
        services.case_transition(
            case=self.case,
            name="reject_ineligible",
            actor=self.user,
            now=self.now,
            reason=form.cleaned_data["rejection_reason"],
        )
        return True


class FirstConsultationView(TaskView):
    """The first consultation; for a person whose consultation period is
    already over (an earlier case, a start known from elsewhere) the talk
    for the final referral instead, which closes the case."""

    template_name = "workflows/task_first_consultation.html"
    actions = {"consult": "consult", "reject": "reject"}

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.clock = case_clock(case=self.case, now=self.now)
        # Only the final referral is left (cases.services.case_final_referral_talk).
        self.period_over = bool(self.clock.carried_over and self.clock.days_ago)
        # Closing is the owner's (or the supervisor's): a deputy sees why
        # instead of a form that would be refused.
        self.may_close = bool(
            case_relations(user=self.user, case=self.case, now=self.now) & {OWNER, SUPERVISOR}
        )
        if self.period_over:
            self.actions = (
                {"final_talk": "final_talk", "reject": "reject"}
                if self.may_close
                else {"reject": "reject"}
            )

    def extra_context(self) -> dict[str, Any]:
        return {"clock": self.clock, "period_over": self.period_over, "may_close": self.may_close}

    def needs_consent(self) -> bool:
        return (
            not self.case.anonymous_mode
            and not Consent.objects.filter(
                person_id=self.case.person_id,
                scope=Consent.Scope.CASE_PROCESSING,
                withdrawn_at__isnull=True,
                given_at__lte=self.now,
            )
            .exclude(valid_until__lt=self.now)
            .exists()
        )

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        if self.period_over:
            return {
                "final_talk": forms.FinalReferralTalkForm(
                    data if action == "final_talk" else None,
                    day=self.today,
                    needs_consent=self.needs_consent(),
                    initial={"held_on": self.today},
                ),
                "reject": forms.RejectForm(data if action == "reject" else None),
            }
        return {
            "consult": forms.FirstConsultationForm(
                data if action == "consult" else None,
                day=self.today,
                needs_consent=self.needs_consent(),
                initial={"held_on": self.today},
            ),
            "reject": forms.RejectForm(data if action == "reject" else None),
        }

    def _first_consultation_args(self, form: Any) -> dict[str, Any]:
        data = form.cleaned_data
        return {
            "case": self.case,
            "actor": self.user,
            "now": self.now,
            "consent": {"form": data["consent_form"], "language": data["consent_language"]}
            if form.needs_consent
            else None,
            "consultation": form.consultation_args(),
            "eligibility_basis": data["eligibility_basis"],
            "benefit_status": data["benefit_status"],
        }

    def consult(self, form: Any) -> bool:
        services.case_first_consultation(**self._first_consultation_args(form))
        return True

    reject = AcceptHandoverView.reject

    def final_talk(self, form: Any) -> bool:
        services.case_final_referral_talk(
            **self._first_consultation_args(form),
            final_referral=form.final_referral(),
            no_further_need=form.cleaned_data["no_further_need"],
        )
        return True


class AssessmentView(TaskView):
    template_name = "workflows/task_assessment.html"
    actions = {"assess": "assess"}
    default_action = "assess"

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {
            "assess": forms.AssessmentForm(
                data, day=self.today, initial={"assessed_on": self.today}
            )
        }

    def assess(self, form: Any) -> bool:
        services.case_assessment_to_plan(
            case=self.case,
            actor=self.user,
            now=self.now,
            assessed_on=form.cleaned_data["assessed_on"],
            items=form.items(),
        )
        return True


def _current_plan(case: Any) -> IntegrationPlan | None:
    return (
        IntegrationPlan.objects.filter(
            case=case, status__in=[IntegrationPlan.Status.DRAFT, IntegrationPlan.Status.AGREED]
        )
        .order_by("-version")
        .first()
    )


def _plan_goals(plan: IntegrationPlan | None) -> list[Any]:
    if plan is None:
        return []
    return list(
        plan.goals.select_related("field_of_action", "catalogue_goal")
        .prefetch_related("measures")
        .order_by("pk")
    )


class PlanView(TaskView):
    """The goals editor: add goals with a first step, then agree the plan
    with the client (or record that they decline a written plan)."""

    template_name = "workflows/task_plan.html"
    actions = {"add_goal": "add_goal", "agree": "agree", "decline": "decline"}

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {
            "add_goal": forms.GoalForm(data if action == "add_goal" else None, day=self.today),
            "agree": forms.AgreeForm(data if action == "agree" else None),
            "decline": forms.DeclineForm(data if action == "decline" else None),
        }

    def extra_context(self) -> dict[str, Any]:
        return {"goals": _plan_goals(_current_plan(self.case))}

    def add_goal(self, form: Any) -> bool:
        data = form.cleaned_data
        goal = services.goal_add(
            case=self.case,
            actor=self.user,
            now=self.now,
            field_of_action=data["field_of_action"],
            catalogue_goal=data["catalogue_goal"],
            title=data["title"],
            success_criterion=data["success_criterion"],
            target_date=data["target_date"],
        )
        services.measure_add(
            goal=goal,
            actor=self.user,
            now=self.now,
            description=data["measure"],
            responsible=data["responsible"],
        )
        messages.success(self.request, _("The goal was added."))
        return False

    def agree(self, form: Any) -> bool:
        data = form.cleaned_data
        args = {key: value for key, value in data.items() if value not in (None, "")}
        services.case_transition(
            case=self.case, name="agree_plan", actor=self.user, now=self.now, **args
        )
        return True

    def decline(self, form: Any) -> bool:
        services.case_transition(
            case=self.case,
            name="decline_plan",
            actor=self.user,
            now=self.now,
            reason=form.cleaned_data["decline_reason"],
        )
        return True


class ReviewView(TaskView):
    template_name = "workflows/task_review.html"
    actions = {"review": "review"}
    default_action = "review"

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        form = forms.ReviewForm(
            data,
            goals=_plan_goals(_current_plan(self.case)),
            initial={"reviewed_on": self.today},
        )
        form.add_need_fields(*review_need_fields(case=self.case, day=self.today))
        return {"review": form}

    def review(self, form: Any) -> bool:
        data = form.cleaned_data
        args: dict[str, Any] = {
            "reviewed_on": data["reviewed_on"],
            "notes": data["notes"],
            "goal_updates": form.goal_updates(),
            "assessment": form.needs(),
        }
        if data.get("next_review_at"):
            args["next_review_at"] = data["next_review_at"]
        services.case_transition(
            case=self.case, name="review_plan", actor=self.user, now=self.now, **args
        )
        return True


class ResumeView(TaskView):
    template_name = "workflows/task_resume.html"
    actions = {"resume": "resume"}
    default_action = "resume"

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {
            "resume": forms.ConsultationFields(
                data, day=self.today, initial={"held_on": self.today}
            )
        }

    def resume(self, form: Any) -> bool:
        services.case_resume(
            case=self.case, actor=self.user, now=self.now, consultation=form.consultation_args()
        )
        return True


class ExtensionCheckView(TaskView):
    template_name = "workflows/task_extension_check.html"
    actions = {"request": "request_extension", "none": "no_extension"}

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {
            "request": forms.ExtensionRequestForm(
                data if action == "request" else None, day=self.today
            ),
            "none": forms.forms.Form(data if action == "none" else None),
        }

    def request_extension(self, form: Any) -> bool:
        services.extension_request_submit(
            case=self.case, actor=self.user, now=self.now, **form.cleaned_data
        )
        return True

    def no_extension(self, form: Any) -> bool:
        return True


class ApproveExtensionView(TaskView):
    """The supervisor's decision; the request's details, no client notes."""

    template_name = "workflows/task_approve_extension.html"
    actions = {"decide": "decide"}
    default_action = "decide"

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {"decide": forms.DecisionForm(data)}

    def extra_context(self) -> dict[str, Any]:
        return {"request_row": selectors.waiting_extension_request(self.case)}

    def next_url(self) -> str:
        """Back to the approvals: a supervisor has no inbox of own tasks,
        and further requests may wait there."""
        return reverse("workflows:approvals")

    def decide(self, form: Any) -> bool:
        request_row = selectors.waiting_extension_request(self.case)
        if request_row is None:
            raise services.AlreadyDecided(services.MESSAGES["already_decided"])
        if form.cleaned_data["decision"] == "approve":
            services.extension_request_approve(
                request=request_row, actor=self.user, now=self.now, note=form.cleaned_data["note"]
            )
        else:
            services.extension_request_reject(
                request=request_row, actor=self.user, now=self.now, note=form.cleaned_data["note"]
            )
        return True


class FinalReferralView(TaskView):
    template_name = "workflows/task_final_referral.html"
    actions = {"close": "close"}
    default_action = "close"

    def _open_goals(self) -> list[Any]:
        from cases.models import FINAL_GOAL_STATES

        return [
            g for g in _plan_goals(_current_plan(self.case)) if g.status not in FINAL_GOAL_STATES
        ]

    def _pending(self) -> list[Any]:
        return list(
            Referral.objects.filter(
                case=self.case, outcome=Referral.Outcome.PENDING, cancelled_at__isnull=True
            )
            .select_related("target_service")
            .order_by("pk")
        )

    def forms_for(self, data: Any = None, action: str | None = None) -> dict[str, Any]:
        return {
            "close": forms.FinalReferralForm(
                data, day=self.today, goals=self._open_goals(), pending=self._pending()
            )
        }

    def close(self, form: Any) -> bool:
        data = form.cleaned_data
        services.case_close(
            case=self.case,
            actor=self.user,
            now=self.now,
            closure_reason=data["closure_reason"],
            no_further_need=data["no_further_need"],
            goal_statuses={goal: data[f"goal_{goal.pk}"] for goal in form.goals},
            referral_outcomes={r: data[f"referral_{r.pk}"] for r in form.pending},
            outcome_date=self.today,
            final_referral={
                "target_service": data["target_service"],
                "mode": data["mode"],
                "organisation": data["organisation"],
            }
            if data.get("target_service")
            else None,
        )
        return True


class TaskDetailView(View):
    """What a task is, who has it, when it is due; no client content."""

    def get(self, request: TaskRequest, **kwargs: Any) -> HttpResponse:
        task, case = request.activation.task, request.case
        read_access_record(
            user=request.user, case_id=case.pk, view="workflows.task_detail", now=request.now
        )
        return render(
            request,
            "workflows/task_detail.html",
            {
                "task": task,
                "case": case,
                "due": task.flow_task.due(case),
                "is_open": task.status in HUMAN_OPEN,
                "may_execute": task.status in HUMAN_OPEN
                and task.flow_task._may_open(request.user, task),
                "may_assign": task.status == STATUS.NEW
                and task.flow_task.can_assign(request.user, task),
                "may_unassign": task.status == STATUS.ASSIGNED
                and task.flow_task.can_unassign(request.user, task),
                "execute_url": task_url(task),
                "assign_url": task_url(task, "assign"),
                "unassign_url": task_url(task, "unassign"),
                "flow_url": reverse("workflows:case", args=[case.pk]),
            },
        )


class _QueueAction(View):
    """Take a queued approval or give it back (POST only)."""

    transition = ""
    check = ""

    def post(self, request: TaskRequest, **kwargs: Any) -> HttpResponse:
        activation = request.activation
        task = activation.task
        allowed = getattr(task.flow_task, self.check)(request.user, task)
        if not allowed or not getattr(activation, self.transition).can_proceed():
            return render(
                request,
                "workflows/conflict.html",
                {"message": _("This task cannot be taken or returned now."), "case": request.case},
                status=409,
            )
        if self.transition == "assign":
            activation.assign(request.user)
            return HttpResponseRedirect(task_url(task))
        activation.unassign()
        return HttpResponseRedirect(reverse("workflows:approvals"))

    def get(self, request: TaskRequest, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(task_url(request.activation.task, "detail"))


class TaskAssignView(_QueueAction):
    transition, check = "assign", "can_assign"


class TaskUnassignView(_QueueAction):
    transition, check = "unassign", "can_unassign"


# --- lists ---------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """'Meine Aufgaben'."""
    now = timezone.now()
    rows = selectors.inbox_for(user=request.user, now=now)
    case_ids = sorted({row.case.pk for row in rows})
    if case_ids:
        from audit.services import read_accesses_record

        read_accesses_record(user=request.user, case_ids=case_ids, view="workflows.inbox", now=now)
    return render(
        request,
        "workflows/inbox.html",
        {"rows": rows, "today": timezone.localdate(now), "url_of": task_url},
    )


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """'Freigaben': the supervisor's queue of extension requests."""
    now = timezone.now()
    rows = selectors.approvals_for(user=request.user, now=now)
    return render(
        request, "workflows/approvals.html", {"rows": rows, "today": timezone.localdate(now)}
    )


# --- the case's flow -------------------------------------------------------------

CASE_ACTIONS: dict[str, tuple[type, str]] = {
    "pause": (forms.PauseForm, _("Pause the case")),
    "start_closing": (forms.StartClosingForm, _("Start closing")),
    "withdraw_consent": (forms.WithdrawConsentForm, _("Consent withdrawn")),
    "reopen": (forms.ReopenForm, _("Reopen")),
    "review_date": (forms.ReviewDateForm, _("Move the plan review")),
}


def _case_for(request: HttpRequest, case_pk: Any, now: Any, view: str) -> Any:
    try:
        return case_get_for_user(user=request.user, case_id=case_pk, now=now, view=view)
    except CaseNotFound:
        raise Http404 from None


def _available_actions(case: Any, user: Any, now: Any) -> list[str]:
    allowed = set(services.case_allowed_transitions(case=case, actor=user, now=now))
    relations = case_relations(user=user, case=case, now=now)
    names: list[str] = [
        name for name in ("pause", "start_closing", "withdraw_consent") if name in allowed
    ]
    if case.status == "CLOSED" and relations & {OWNER}:
        names.append("reopen")  # needs a new consultation, recorded by the form
    if case.status == "ACTIVE" and relations & {OWNER, DEPUTY} and case.next_review_at:
        names.append("review_date")
    return names


def _case_page(
    request: AuthenticatedHttpRequest,
    case: Any,
    now: Any,
    *,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    processes = selectors.processes_of_case(case)
    relations = case_relations(user=request.user, case=case, now=now)
    today = timezone.localdate(now)
    action_forms = {}
    for name in _available_actions(case, request.user, now):
        form_class, title = CASE_ACTIONS[name]
        if bound and name in bound:
            form = bound[name]
        elif form_class in (forms.ReopenForm,):
            form = form_class(day=today, initial={"held_on": today})
        else:
            form = form_class()
        action_forms[name] = (title, form)
    history = [(process, selectors.process_tasks(process)) for process in processes]
    show_names = bool(relations & {OWNER, DEPUTY})
    handover = handover_of_case(case=case) if show_names else None
    return render(
        request,
        "workflows/case.html",
        {
            "case": case,
            "show_names": show_names,
            "show_timeline": request.user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER),
            "handover": handover,
            "handover_members": [
                (m, None) for m in sorted(handover.members.all(), key=lambda m: m.position)
            ]
            if handover
            else [],
            "history": history,
            "open_tasks": [t for t in selectors.open_tasks(case) if t.flow_task_type == "HUMAN"],
            "actions": action_forms,
            "url_of": task_url,
            "today": today,
        },
        status=status,
    )


@login_required
def case_flow(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The case's guided work: open tasks, history, diagram, case actions."""
    now = timezone.now()
    case = _case_for(request, case_pk, now, "workflows.case")
    return _case_page(request, case, now)


@login_required
@require_POST
def case_action(request: AuthenticatedHttpRequest, case_pk: Any, name: str) -> HttpResponse:
    """A change of the case outside the guided tasks; the case service
    restarts the case's flow at the new state in the same transaction."""
    now = timezone.now()
    case = _case_for(request, case_pk, now, "workflows.case_action")
    if name not in CASE_ACTIONS:
        raise Http404
    form_class, _title = CASE_ACTIONS[name]
    today = timezone.localdate(now)
    form = (
        form_class(request.POST, day=today)
        if form_class is forms.ReopenForm
        else form_class(request.POST)
    )
    form.dates = case_dates(case, today=today)
    if name not in _available_actions(case, request.user, now):
        form.add_error(None, _("This step is not possible in the case's current state."))
        return _case_page(request, case, now, bound={name: form}, status=409)
    if not form.is_valid():
        return _case_page(request, case, now, bound={name: form}, status=400)
    if needs_confirmation(request, name):
        back = reverse("workflows:case", args=[case.pk])
        return confirmation_page(request, action=name, back_url=back)
    data = form.cleaned_data
    try:
        with transaction.atomic(), context.acting(actor=request.user, now=now):
            if name == "reopen":
                services.case_reopen(
                    case=case,
                    actor=request.user,
                    now=now,
                    consultation=form.consultation_args(),
                    reason=data["reason"],
                )
            elif name == "review_date":
                services.case_review_date_set(
                    case=case, actor=request.user, now=now, next_review_at=data["next_review_at"]
                )
            else:
                args = {key: value for key, value in data.items() if key != "confirm"}
                services.case_transition(case=case, name=name, actor=request.user, now=now, **args)
    except ApplicationError as error:
        _show_form_error(form, error)
        return _case_page(request, case, now, bound={name: form}, status=error.http_status)
    case.refresh_from_db()
    if not case_is_visible_to(user=request.user, case=case, now=now):
        # The step closed the case for good (for example a withdrawn consent
        # before the period started): it is in the archive now.
        messages.success(request, _("Saved. The case is closed and now in the archive."))
        return HttpResponseRedirect(reverse("workflows:inbox"))
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("workflows:case", args=[case.pk]))


@login_required
def flow_chart(request: HttpRequest, *, flow_class: Any) -> HttpResponse:
    """The flow diagram (no case data) as SVG, as viewflow's flowexport
    draws it; `flow_class` comes from the URL config."""
    if not flow_class.instance.has_view_permission(request.user):
        raise Http404
    grid = chart.calc_layout_data(flow_class)
    svg = svg_with_titles_as_written(chart.grid_to_svg(grid), grid)
    return HttpResponse(svg, content_type="image/svg+xml")


@login_required
def process_chart(request: HttpRequest, process_pk: Any) -> HttpResponse:
    """One process of a case drawn with the state of its tasks (404 unless
    the case is visible to the user)."""
    now = timezone.now()
    process = selectors.process_get_for_user(user=request.user, process_pk=process_pk, now=now)
    read_access_record(
        user=request.user, case_id=process.case_id, view="workflows.process_chart", now=now
    )
    flow_class = process.flow_class  # the flow the process was started for
    grid = chart.calc_layout_data(flow_class)
    chart.calc_cell_status(flow_class, grid, process.pk)
    svg = svg_with_titles_as_written(chart.grid_to_svg(grid), grid)
    return HttpResponse(svg, content_type="image/svg+xml")
