"""The case pages: the case file, the quick entry of a consultation and the
printable Integrationsplan (German first, English through i18n).

Every view reaches its case through `case_get_for_user`, which logs the
read: a case the user may not see is a 404, never a 403. The content (the
client, the plan, consultations) is for the case's integration manager and
a current deputy; supervisors, auditors and data-protection officers see
the case's metadata on the case page and get 403 on the content pages.
Writes are one call of a case service each; its refusal is shown at the
field it names and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from audit.lines import changes_text, event_line
from audit.selectors import case_events
from cases import services
from cases.chronology import case_chronology
from cases.dates import case_dates
from cases.documents import consent as consent_document
from cases.documents import plan as plan_document
from cases.documents.fonts import FontsMissing
from cases.documents.languages import choices as document_language_choices
from cases.documents.languages import document_language
from cases.forms import QuickConsultationForm
from cases.models import Case, CaseStatus
from cases.needs import needs_history
from cases.selectors import (
    CONSULTATIONS_SHOWN,
    DEPUTY,
    OWNER,
    CaseNotFound,
    case_clock,
    case_file,
    case_get_for_user,
    case_relations,
    consultation_choices_for,
    extension_request_offered,
    household_members,
    plan_for_case,
)
from config.errors import ApplicationError

# The case page gathers what other apps keep about the case: the open tasks
# of its flow (the next step) and the handover notes. Only this interface
# module of `cases` imports them; the domain (models, services) does not.
from handover.selectors import handover_of_case
from workflows.selectors import case_next_steps

CONTENT_READERS = frozenset({OWNER, DEPUTY})
# A consultation is quick-entered while the consultation period runs. The
# first consultation and the one that ends a rest move the case: they are
# guided tasks (first_consultation, resume), and the page points to them.
QUICK_ENTRY_STATES = (
    CaseStatus.INITIAL_COUNSELLING,
    CaseStatus.PLANNING,
    CaseStatus.ACTIVE,
    CaseStatus.CLOSING,
)
TIMELINE_PAGE_SIZE = 25


def _case(request: HttpRequest, case_pk: Any, *, now: Any, view: str, content: bool) -> Case:
    """The case, with the read logged; 404 unless visible, 403 (raised as
    `Forbidden`) for a content page the user's relation does not open."""
    try:
        return case_get_for_user(
            user=request.user,
            case_id=case_pk,
            now=now,
            view=view,
            readers=CONTENT_READERS if content else None,
        )
    except CaseNotFound:
        raise Http404 from None


def _refusal(request: HttpRequest, error: ApplicationError, case_pk: Any = None) -> HttpResponse:
    return render(
        request,
        "cases/refused.html",
        {"message": error.message, "case_pk": case_pk},
        status=error.http_status,
    )


# --- the case page -------------------------------------------------------------


@never_cache
@login_required
@require_GET
def case_detail(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """The case file: client and household, the consultation clock, the
    plan, consultations, referrals, documents, consents, the next guided
    step and the case's timeline. Supervisors, auditors and data-protection
    officers see the metadata only."""
    now = timezone.now()
    case = _case(request, case_pk, now=now, view="cases.case_detail", content=False)
    relations = case_relations(user=request.user, case=case, now=now)
    content = bool(relations & CONTENT_READERS)
    steps = case_next_steps(case=case, user=request.user)
    main = next((step for step in steps if step.may_open), None)
    context: dict[str, Any] = {
        "case": case,
        "content": content,
        "clock": case_clock(case=case, now=now),
        "steps": steps,
        "main_step": main,
        "quick_entry": content and case.status in QUICK_ENTRY_STATES,
        "is_auditor": request.user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER),
        "document_languages": document_language_choices(),
        "extension_offer": content and extension_request_offered(case=case, now=now),
    }
    if content:
        show_all = request.GET.get("beratungen") == "alle"
        # issue 20: the chronology (?art= filters by kind) and the needs over
        # time; its plans (every version) serve the plan section too
        chronology = case_chronology(case=case, only=request.GET.getlist("art"))
        plans = [entry.obj for entry in chronology.found.get("plan", [])]
        file = case_file(
            case=case,
            consultations=None if show_all else CONSULTATIONS_SHOWN,
            plans=plans,
            known={
                kind: [entry.obj for entry in chronology.found.get(kind, [])]
                for kind in ("consultation", "referral", "document")
                if kind in chronology.found
            },
        )
        timeline = Paginator(
            case_events(case_id=case.pk).select_related("actor").order_by("-seq"),
            TIMELINE_PAGE_SIZE,
        )
        page = timeline.get_page(request.GET.get("verlauf"))
        handover = handover_of_case(case=case)
        context.update(
            handover=handover,
            handover_members=[(m, None) for m in sorted(handover.members.all(), key=_position)]
            if handover
            else [],
            file=file,
            show_all=show_all,
            timeline=page,
            timeline_rows=[_timeline_row(event) for event in page.object_list],
        )
        context.update(
            chronology=chronology,
            plans=plans,
            needs=needs_history(
                case=case, assessments=[e.obj for e in chronology.found.get("assessment", [])]
            ),
        )
    return render(request, "cases/detail.html", context)


def _timeline_row(event: Any) -> tuple[Any, str, str]:
    """An event's German line, split into what happened and what changed
    (the page folds the changes away)."""
    line = event_line(event)
    changes = (event.data or {}).get("changes") or []
    detail = changes_text(changes) if changes else ""
    return event, line.removesuffix(" " + detail) if detail else line, detail


def _position(member: Any) -> int:
    return int(member.position)


# --- quick entry of a consultation ---------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consultation_new(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Record a consultation in under half a minute (one service call)."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.consultation_new", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    if case.status not in QUICK_ENTRY_STATES:
        steps = case_next_steps(case=case, user=request.user)
        return render(
            request,
            "cases/quick_entry_closed.html",
            {"case": case, "main_step": next((s for s in steps if s.may_open), None)},
            status=409,
        )
    today = timezone.localdate(now)
    choices = consultation_choices_for(user=request.user, day=today)
    form = QuickConsultationForm(
        request.POST if request.method == "POST" else None,
        day=today,
        form_entries=choices.forms,
        topic_entries=choices.topics,
        members=household_members(case=case),
        person=case.person,
        usual_minutes=choices.usual_minutes,
    )
    form.dates = case_dates(case, today=today)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.consultation_record(
                    case=case, actor=request.user, now=now, **form.consultation_args()
                )
            except ApplicationError as error:
                _show_error(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The consultation was recorded."))
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]) + "#beratungen")
        else:
            status = 400
    return render(
        request,
        "cases/consultation_new.html",
        {"case": case, "form": form, "today": today},
        status=status,
    )


FIELD_OF_ARGUMENT = {"form": "consultation_form", "setting": "participants"}


def _show_error(form: QuickConsultationForm, error: ApplicationError) -> None:
    """Put a service's refusal at the fields it names (or on the form)."""
    placed = False
    for name, problems in (error.fields or {}).items():
        field = FIELD_OF_ARGUMENT.get(name, name)
        if field in form.fields:
            for problem in problems:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


# --- the printable client documents ----------------------------------------------


def _document_language(request: HttpRequest) -> str | None:
    """The document language `?sprache=` names (default: the page's
    language); None for one documents are not printed in."""
    code = request.GET.get("sprache") or translation.get_language() or "de"
    return code if document_language(code) else None


def _unknown_document_language() -> ApplicationError:
    names = ", ".join(f"{name} ({code})" for code, name in document_language_choices())
    return services.InvalidArguments(
        _("Client documents are not available in this language. Available: %(languages)s.")
        % {"languages": names}
    )


@never_cache
@login_required
@require_GET
def plan_pdf(request: HttpRequest, case_pk: Any) -> HttpResponse:
    """The current Integrationsplan as a PDF to sign, labelled in the
    language `?sprache=` names (default: the page's language)."""
    now = timezone.now()
    language = _document_language(request)
    if language is None:
        return _refusal(request, _unknown_document_language(), case_pk)
    try:
        case = _case(request, case_pk, now=now, view="cases.plan_pdf", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    plan, goals = plan_for_case(case=case)
    if plan is None:
        return _refusal(
            request,
            services.GuardFailed(_("This case has no Integrationsplan yet.")),
            case.pk,
        )
    try:
        body = plan_document.plan_pdf(
            case=case,
            person=case.person,
            plan=plan,
            goals=goals,
            manager_name=case.owner.get_full_name() or case.owner.username,
            language=language,
            now=now,
        )
    except FontsMissing as error:
        return _refusal(request, error, case.pk)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="integrationsplan-fall-{case.pk}-{language}.pdf"'
    )
    return response


@never_cache
@login_required
@require_GET
def consent_pdf(request: HttpRequest, case_pk: Any) -> HttpResponse:
    """The consent form with the data-protection information (Art. 13 GDPR)
    to print and sign, in German and the language `?sprache=` names."""
    now = timezone.now()
    language = _document_language(request)
    if language is None:
        return _refusal(request, _unknown_document_language(), case_pk)
    try:
        case = _case(request, case_pk, now=now, view="cases.consent_pdf", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    try:
        body = consent_document.consent_pdf(
            case=case,
            person=case.person,
            manager_name=case.owner.get_full_name() or case.owner.username,
            language=language,
            now=now,
        )
    except FontsMissing as error:
        return _refusal(request, error, case.pk)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="einwilligung-fall-{case.pk}-{language}.pdf"'
    )
    return response
