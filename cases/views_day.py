"""The manager's day on the case page (issue 20): a referral during the
case and its outcome (also in one step from its reminder), corrections
and cancellations of entries with a reason, and the network-contact
register (Vernetzung, K6).

Like `cases.views`: the case through `case_get_for_user` (the read is
logged; a foreign case is a 404), one service call per write, a refusal
shown at the field it names, nothing written then.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from cases import forms_day, services
from cases.models import (
    Assessment,
    Consultation,
    Goal,
    Measure,
    NetworkContact,
    Referral,
)
from cases.selectors import network_contacts_of, parse_pk
from cases.views import _case, _refusal
from config.errors import ApplicationError


def _show(form: Any, error: ApplicationError) -> None:
    """A service's refusal at the fields it names (or on the form)."""
    placed = False
    for name, problems in (error.fields or {}).items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


def _back(case_pk: Any, anchor: str = "chronik") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("cases:detail", args=[case_pk]) + f"#{anchor}")


# --- referrals during the case -------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Record a referral to a regular service during the case."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.referral_new", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    today = timezone.localdate(now)
    form = forms_day.ReferralForm(
        request.POST if request.method == "POST" else None,
        day=today,
        initial={"referred_on": today, "mode": Referral.Mode.APPOINTMENT_ARRANGED},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.referral_record(
                    case=case,
                    actor=request.user,
                    now=now,
                    referred_on=data["referred_on"],
                    target_service=data["target_service"],
                    mode=data["mode"],
                    topic=data["topic"] or None,
                    organisation=data["organisation"],
                )
            except ApplicationError as error:
                _show(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The referral was recorded."))
                return _back(case.pk)
        else:
            status = 400
    return render(
        request,
        "cases/referral_new.html",
        {"case": case, "form": form},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def referral_outcome(
    request: AuthenticatedHttpRequest, case_pk: Any, referral_pk: Any
) -> HttpResponse:
    """Record a referral's outcome in one step (the reminder links here)."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.referral_outcome", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    number = parse_pk(referral_pk)
    referral = (
        None
        if number is None
        else Referral.objects.filter(case=case, pk=number)
        .select_related("target_service", "topic")
        .first()
    )
    if referral is None:
        raise Http404
    today = timezone.localdate(now)
    form = forms_day.ReferralOutcomeForm(
        request.POST if request.method == "POST" else None,
        initial={"outcome_date": today, "outcome": referral.outcome},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.referral_update(
                    referral=referral,
                    actor=request.user,
                    now=now,
                    outcome=form.cleaned_data["outcome"],
                    outcome_date=form.cleaned_data["outcome_date"],
                )
            except ApplicationError as error:
                _show(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The outcome of the referral was recorded."))
                return _back(case.pk)
        else:
            status = 400
    return render(
        request,
        "cases/referral_outcome.html",
        {"case": case, "referral": referral, "form": form},
        status=status,
    )


# --- corrections and cancellations -------------------------------------------------------

# the kind in the path -> (model, how to reach it from the case, form, title)
CORRECTABLE: dict[str, tuple[type[Any], str, type[Any], str]] = {
    "beratung": (
        Consultation,
        "case",
        forms_day.ConsultationCorrectionForm,
        "consultation",
    ),
    "verweisung": (Referral, "case", forms_day.ReferralCorrectionForm, "referral"),
    "bedarf": (Assessment, "case", forms_day.AssessmentCorrectionForm, "assessment"),
    "ziel": (Goal, "plan__case", forms_day.GoalCorrectionForm, "goal"),
    "schritt": (Measure, "goal__plan__case", forms_day.MeasureCorrectionForm, "measure"),
}
TITLES = {
    "consultation": _lazy("Correct a consultation"),
    "referral": _lazy("Correct a referral"),
    "assessment": _lazy("Correct a needs assessment"),
    "goal": _lazy("Correct a goal"),
    "measure": _lazy("Correct a step"),
}


def _correction_args(kind: str, form: Any) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("reason", None)
    if kind == "assessment":
        return dict(form.service_args())
    return {key: value for key, value in data.items() if value not in (None, "")} | {
        key: value for key, value in data.items() if key in ("notes", "interpreter", "organisation")
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def correction(
    request: AuthenticatedHttpRequest, case_pk: Any, kind: str, object_pk: Any
) -> HttpResponse:
    """Correct an entry, or cancel it, with a reason (one service call)."""
    if kind not in CORRECTABLE:
        raise Http404
    model, path, form_class, name = CORRECTABLE[kind]
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view=f"cases.correction.{name}", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    number = parse_pk(object_pk)
    row = None if number is None else model.objects.filter(**{path: case}, pk=number).first()
    if row is None:
        raise Http404
    today = timezone.localdate(now)
    extra = {"items": list(row.items.select_related("field_of_action"))} if kind == "bedarf" else {}
    correct, cancel = services.CORRECTIONS[name]
    action = request.POST.get("action", "correct")
    data = request.POST if request.method == "POST" and action == "correct" else None
    form = form_class(data, day=today, initial=form_class.initial_of(row), **extra)
    cancel_form = forms_day.ReasonForm(
        request.POST if request.method == "POST" and action == "cancel" else None,
        prefix="storno",
    )
    status = 200
    if request.method == "POST":
        target = cancel_form if action == "cancel" else form
        if target.is_valid():
            try:
                if action == "cancel":
                    cancel(
                        **{name: row},
                        actor=request.user,
                        now=now,
                        reason=cancel_form.cleaned_data["reason"],
                    )
                else:
                    correct(
                        **{name: row},
                        actor=request.user,
                        now=now,
                        reason=form.cleaned_data["reason"],
                        **_correction_args(name, form),
                    )
            except ApplicationError as error:
                _show(target, error)
                status = error.http_status
            else:
                if action == "cancel":
                    messages.success(request, _("The entry was cancelled."))
                else:
                    messages.success(request, _("The correction was saved."))
                return _back(case.pk)
        else:
            status = 400
    return render(
        request,
        "cases/correction.html",
        {
            "case": case,
            "row": row,
            "kind": name,
            "title": TITLES[name],
            "form": form,
            "cancel_form": cancel_form,
        },
        status=status,
    )


# --- the network-contact register (Vernetzung) ---------------------------------------------


def _network_user(request: AuthenticatedHttpRequest) -> HttpResponse | None:
    if request.user.role != Role.INTEGRATION_MANAGER:
        return _refusal(request, services.TransitionForbidden(services.MESSAGES["forbidden"]))
    return None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_register(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The manager's network contacts: quick entry on top, the list below."""
    refused = _network_user(request)
    if refused is not None:
        return refused
    now = timezone.now()
    today = timezone.localdate(now)
    form = forms_day.NetworkContactForm(
        request.POST if request.method == "POST" else None,
        day=today,
        initial={"contact_date": today, "format": NetworkContact.Format.MEETING},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.network_contact_record(actor=request.user, now=now, **form.cleaned_data)
            except ApplicationError as error:
                _show(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The network contact was recorded."))
                return HttpResponseRedirect(reverse("network:register"))
        else:
            status = 400
    contacts = network_contacts_of(user=request.user).select_related("category")
    return render(
        request,
        "cases/network_register.html",
        {"form": form, "contacts": contacts[:200]},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_correction(request: AuthenticatedHttpRequest, contact_pk: Any) -> HttpResponse:
    """Correct or cancel one of the manager's own network contacts."""
    refused = _network_user(request)
    if refused is not None:
        return refused
    number = parse_pk(contact_pk)
    row = (
        None
        if number is None
        else network_contacts_of(user=request.user)
        .select_related("category")
        .filter(pk=number)
        .first()
    )
    if row is None:
        raise Http404
    now = timezone.now()
    today = timezone.localdate(now)
    action = request.POST.get("action", "correct")
    form = forms_day.NetworkCorrectionForm(
        request.POST if request.method == "POST" and action == "correct" else None,
        day=today,
        initial=forms_day.NetworkCorrectionForm.initial_of(row),
    )
    cancel_form = forms_day.ReasonForm(
        request.POST if request.method == "POST" and action == "cancel" else None,
        prefix="storno",
    )
    status = 200
    if request.method == "POST":
        target = cancel_form if action == "cancel" else form
        if target.is_valid():
            data = dict(target.cleaned_data)
            reason = data.pop("reason")
            try:
                if action == "cancel":
                    services.network_contact_cancel(
                        contact=row, actor=request.user, now=now, reason=reason
                    )
                else:
                    data["topic"] = data.get("topic") or ""
                    services.network_contact_correct(
                        contact=row, actor=request.user, now=now, reason=reason, **data
                    )
            except ApplicationError as error:
                _show(target, error)
                status = error.http_status
            else:
                messages.success(request, _("The network contact was changed."))
                return HttpResponseRedirect(reverse("network:register"))
        else:
            status = 400
    return render(
        request,
        "cases/network_correction.html",
        {"row": row, "form": form, "cancel_form": cancel_form},
        status=status,
    )
