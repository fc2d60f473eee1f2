"""Browser pages for consents (every scope, Art. 9 included, with the
evidence scan), anonymous counselling, the pending plan (a change of the
agreed plan or a plan after a decline) and the DPO's legal hold and erasure
(issue 18). One service call per request; reads logged via `_case`."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.types import AuthenticatedHttpRequest
from cases import services
from cases.dates import case_dates
from cases.models import Case, CaseStatus, Consent, Goal
from cases.privacy_forms import (
    ConsentForm,
    EvidenceForm,
    GoalChangeForm,
    LegalHoldForm,
    NewGoalForm,
    PlanAgreeForm,
)
from cases.selectors import DEPUTY, DPO, OWNER, CaseNotFound, case_get_for_user
from cases.services.plans import EDITABLE_PLAN_STATES
from cases.services.privacy import TRANSFER_SCOPES
from config.errors import ApplicationError, Forbidden

CONTENT = frozenset({OWNER, DEPUTY})
OPEN_FOR_PLAN = (CaseStatus.ACTIVE, CaseStatus.DORMANT)


def _case(request: Any, case_pk: Any, *, view: str, readers: frozenset[str]) -> Case:
    try:
        return case_get_for_user(
            user=request.user, case_id=case_pk, now=timezone.now(), view=view, readers=readers
        )
    except CaseNotFound:
        raise Http404 from None


def _refused(view: Any) -> Any:
    """Render a 403 (a role that may not open the page) like the case pages."""

    @wraps(view)
    def wrapper(request: Any, case_pk: Any) -> HttpResponse:
        try:
            return view(request, case_pk)
        except Forbidden as error:
            return render(
                request,
                "cases/refused.html",
                {"message": error.message, "case_pk": case_pk},
                status=error.http_status,
            )

    return wrapper


def _next_url(request: Any, default: str) -> str:
    target = request.POST.get("weiter") or request.GET.get("weiter") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(target)
    return default


def _fail(form: Any, error: ApplicationError) -> None:
    fields = getattr(error, "fields", None) or {}
    placed = False
    for name, problems in fields.items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@_refused
def consents(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Record a consent of any scope (Art. 9 included), attach its scan,
    switch a fresh case to anonymous counselling."""
    case = _case(request, case_pk, view="cases.consents", readers=CONTENT)
    detail = reverse("cases:detail", args=[case.pk])
    scope = str(request.GET.get("umfang") or "").upper()
    form = ConsentForm(
        initial={"scope": scope if scope in Consent.Scope.values else Consent.Scope.CASE_PROCESSING}
    )
    evidence = EvidenceForm()
    if request.method == "POST":
        now = timezone.now()
        action = request.POST.get("action")
        try:
            if action == "record":
                form = ConsentForm(request.POST)
                if form.is_valid():
                    services.consent_record(
                        case=case, actor=request.user, now=now, **form.cleaned_data
                    )
                    messages.success(request, _("The consent is recorded."))
                    return HttpResponseRedirect(_next_url(request, request.path))
            elif action == "evidence":
                evidence = EvidenceForm(request.POST, request.FILES)
                if evidence.is_valid():
                    consent = case.consents.filter(pk=evidence.cleaned_data["consent"]).first()
                    if consent is None:
                        raise Http404
                    upload = evidence.cleaned_data["file"]
                    content = (
                        b"" if upload.size > settings.LOTSE_EVIDENCE_MAX_BYTES else upload.read()
                    )
                    services.consent_evidence_attach(
                        consent=consent, actor=request.user, now=now, content=content
                    )
                    messages.success(request, _("The scan is stored with the consent."))
                    return HttpResponseRedirect(request.path)
            elif action == "anonymous":
                services.case_anonymous_mode_set(case=case, actor=request.user, now=now)
                messages.success(request, _("The case is counselled anonymously now."))
                return HttpResponseRedirect(detail)
            else:
                raise Http404
        except ApplicationError as error:
            _fail(evidence if action == "evidence" else form, error)
    now = timezone.now()
    listed = list(case.consents.order_by("-given_at", "-pk"))
    return render(
        request,
        "cases/consents.html",
        {
            "case": case,
            "form": form,
            "evidence_form": evidence,
            "consents": listed,
            "active_ids": {c.pk for c in listed if c.is_active_at(now)},
            "weiter": _next_url(request, ""),
            "may_go_anonymous": case.status == CaseStatus.REGISTERED
            and not case.anonymous_mode
            and not listed
            and request.user.pk == case.owner_id,
            "transfer_scopes": [str(s) for s in TRANSFER_SCOPES],
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@_refused
def plan_pending(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The plan waiting for the client's agreement: a change of the agreed
    plan or the plan drafted after a decline; draft, agree or discard it."""
    case = _case(request, case_pk, view="cases.plan_pending", readers=CONTENT)
    today = timezone.localdate()
    form = PlanAgreeForm()
    new_goal = NewGoalForm(day=today)
    change_form = None
    if request.method == "POST":
        now = timezone.now()
        action = request.POST.get("action")
        try:
            if action == "add_goal":
                new_goal = NewGoalForm(request.POST, day=today)
                new_goal.dates = case_dates(case, today=today)
                if new_goal.is_valid():
                    data = new_goal.cleaned_data
                    services.goal_add_with_step(
                        case=case,
                        actor=request.user,
                        now=now,
                        field_of_action=data["field_of_action"],
                        title=data["title"],
                        success_criterion=data["success_criterion"],
                        target_date=data["target_date"],
                        measure=data["measure"],
                        responsible=data["responsible"],
                    )
                    messages.success(request, _("The goal was added."))
                    return HttpResponseRedirect(request.path)
            if action == "change_goal":
                change_form = GoalChangeForm(request.POST)
                change_form.dates = case_dates(case, today=today)
                if change_form.is_valid():
                    data = change_form.cleaned_data
                    goal = Goal.objects.filter(
                        plan__case=case, pk=data["goal"], plan__status__in=EDITABLE_PLAN_STATES
                    ).first()
                    if goal is None:
                        raise Http404
                    services.goal_update(
                        goal=goal,
                        actor=request.user,
                        now=now,
                        title=data["title"],
                        success_criterion=data["success_criterion"],
                        target_date=data["target_date"],
                    )
                    messages.success(request, _("The goal was changed."))
                    return HttpResponseRedirect(request.path)
            if action == "draft":
                services.plan_redraft_after_decline(case=case, actor=request.user, now=now)
                messages.success(request, _("The plan is drafted: add goals and steps."))
                return HttpResponseRedirect(request.path)
            if action == "discard":
                services.plan_change_discard(case=case, actor=request.user, now=now)
                messages.success(request, _("The change is discarded; the agreed plan stays."))
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
            if action == "agree":
                form = PlanAgreeForm(request.POST)
                if form.is_valid():
                    services.plan_version_agree(
                        case=case, actor=request.user, now=now, **form.cleaned_data
                    )
                    messages.success(request, _("The plan is agreed."))
                    return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
            if action not in ("add_goal", "change_goal", "agree"):
                raise Http404
        except ApplicationError as error:
            _fail(
                new_goal
                if action == "add_goal"
                else (change_form or form)
                if action == "change_goal"
                else form,
                error,
            )
    change = services.plan_change_pending(case)
    current = case.plans.filter(status__in=["DRAFT", "AGREED"]).order_by("-version").first()
    pending = change or (
        current if case.plan_declined and current and current.status == "DRAFT" else None
    )
    shown = pending or current
    return render(
        request,
        "cases/plan_pending.html",
        {
            "case": case,
            "form": form,
            "pending": pending,
            "agreed": current if change else None,
            "may_draft": case.plan_declined and current is None,
            "editable": current is not None and case.status in OPEN_FOR_PLAN,
            "shown_goals": list(shown.goals.select_related("field_of_action").order_by("pk"))
            if shown is not None
            else [],
            "new_goal": new_goal,
            "change_form": change_form,
        },
    )


@never_cache
@login_required
@require_POST
@_refused
def legal_hold(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The DPO sets or lifts the legal hold, or erases a withdrawn case."""
    case = _case(request, case_pk, view="cases.legal_hold", readers=frozenset({DPO}))
    form = LegalHoldForm(request.POST)
    form.is_valid()
    now = timezone.now()
    action = request.POST.get("action")
    try:
        if action in ("set", "lift"):
            services.case_legal_hold_set(
                case=case,
                actor=request.user,
                now=now,
                hold=action == "set",
                reason=form.cleaned_data.get("reason", ""),
            )
            messages.success(
                request,
                _("The legal hold is set.") if action == "set" else _("The legal hold is lifted."),
            )
        elif action == "erase":
            services.case_erase_after_withdrawal(case=case, actor=request.user, now=now)
            messages.success(request, _("The case is erased; proof and statistics remain."))
        else:
            raise Http404
    except ApplicationError as error:
        messages.error(request, str(error.message))
    return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))


__all__ = ["consents", "legal_hold", "plan_pending"]
