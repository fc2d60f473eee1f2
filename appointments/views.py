"""The appointment pages: the manager's week, a case's appointments with
the form to plan one, their outcome (held, no-show, cancelled), the letter
to the client, and the secret calendar feed (iCal).

Case pages reach the case through `case_get_for_user` (read logged; a
foreign case is a 404, a supervisor gets 403 on content); each POST is one
service call whose refusal is shown at the field it names.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.types import AuthenticatedHttpRequest
from appointments import ical, letter, selectors, services
from appointments.forms import AppointmentForm
from appointments.models import Appointment
from audit.services import read_accesses_record
from cases.documents.fonts import FontsMissing
from cases.documents.languages import choices as document_language_choices
from cases.documents.languages import document_language
from cases.selectors import DEPUTY, OWNER, CaseNotFound, case_get_for_user, consultation_choices_for
from config.errors import ApplicationError

CONTENT_READERS = frozenset({OWNER, DEPUTY})


def _case(request: HttpRequest, case_pk: Any, *, now: Any, view: str) -> Any:
    try:
        return case_get_for_user(
            user=request.user, case_id=case_pk, now=now, view=view, readers=CONTENT_READERS
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


@never_cache
@login_required
@require_GET
def week(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in manager's week (`?woche=YYYY-MM-DD`, any day of it)."""
    now = timezone.now()
    try:
        chosen = date.fromisoformat(request.GET.get("woche", ""))
    except ValueError:
        chosen = timezone.localdate(now)
    monday = selectors.week_start(chosen)
    rows = selectors.appointments_of_week(user=request.user, monday=monday, now=now)
    read_accesses_record(
        user=request.user,
        case_ids=sorted({row.case_id for row in rows}),
        view="appointments.week",
        now=now,
    )
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        days.append((day, [row for row in rows if timezone.localdate(row.starts_at) == day]))
    feed = selectors.calendar_feed_of(user=request.user)
    feed_url = (
        request.build_absolute_uri(reverse("appointments:feed", args=[feed.token]))
        if feed and feed.token
        else ""
    )
    return render(
        request,
        "appointments/week.html",
        {
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "days": days,
            "today": timezone.localdate(now),
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "feed_url": feed_url,
            "planned": Appointment.Status.PLANNED,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def case_appointments(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """A case's appointments and the form to plan the next one."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="appointments.case")
    except ApplicationError as error:
        return _refusal(request, error)
    today = timezone.localdate(now)
    choices = consultation_choices_for(user=request.user, day=today)
    form = AppointmentForm(
        request.POST if request.method == "POST" else None,
        form_entries=choices.forms,
        topic_entries=choices.topics,
        initial={"day": today + timedelta(days=7), "duration_minutes": 45},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.appointment_plan(
                    case=case, actor=request.user, now=now, **form.plan_args()
                )
            except ApplicationError as error:
                _place(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The appointment was planned."))
                return HttpResponseRedirect(reverse("appointments:case", args=[case.pk]))
        else:
            status = 400
    return render(
        request,
        "appointments/case.html",
        {
            "case": case,
            "form": form,
            "appointments": selectors.appointments_of_case(case=case),
            "now": now,
            "planned": Appointment.Status.PLANNED,
            "document_languages": document_language_choices(),
        },
        status=status,
    )


FIELD_OF_ARGUMENT = {"starts_at": "day"}


def _place(form: AppointmentForm, error: ApplicationError) -> None:
    placed = False
    for name, problems in (error.fields or {}).items():
        field = FIELD_OF_ARGUMENT.get(name, name)
        if field in form.fields:
            for problem in problems:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


def _outcome(request: AuthenticatedHttpRequest, case_pk: Any, pk: Any, action: str) -> HttpResponse:
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="appointments.case")
        call = {
            "no_show": services.appointment_no_show,
            "held": services.appointment_held,
            "cancel": services.appointment_cancel,
        }[action]
        call(appointment=pk, actor=request.user, now=now, case=case.pk)
    except ApplicationError as error:
        return _refusal(request, error, case_pk)
    messages.success(
        request,
        {
            "no_show": _("Recorded: the client did not come (counted as no-show)."),
            "held": _("The consultation of the appointment was recorded."),
            "cancel": _("The appointment was cancelled."),
        }[action],
    )
    return HttpResponseRedirect(reverse("appointments:case", args=[case.pk]))


@never_cache
@login_required
@require_POST
def no_show(request: AuthenticatedHttpRequest, case_pk: Any, pk: Any) -> HttpResponse:
    return _outcome(request, case_pk, pk, "no_show")


@never_cache
@login_required
@require_POST
def held(request: AuthenticatedHttpRequest, case_pk: Any, pk: Any) -> HttpResponse:
    return _outcome(request, case_pk, pk, "held")


@never_cache
@login_required
@require_POST
def cancel(request: AuthenticatedHttpRequest, case_pk: Any, pk: Any) -> HttpResponse:
    return _outcome(request, case_pk, pk, "cancel")


@never_cache
@login_required
@require_GET
def letter_pdf(request: AuthenticatedHttpRequest, case_pk: Any, pk: Any) -> HttpResponse:
    """The appointment letter for the client, in German and `?sprache=`."""
    now = timezone.now()
    code = request.GET.get("sprache") or translation.get_language() or "de"
    if document_language(code) is None:
        code = "de"
    try:
        case = _case(request, case_pk, now=now, view="appointments.letter")
    except ApplicationError as error:
        return _refusal(request, error)
    row = selectors.appointment_of_case(case=case, appointment_id=pk)
    if row is None:
        raise Http404
    try:
        body = letter.appointment_letter_pdf(
            case=case, person=case.person, appointment=row, language=code, now=now
        )
    except FontsMissing as error:
        return _refusal(request, error, case.pk)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="termin-{row.pk}-{code}.pdf"'
    return response


@never_cache
@login_required
@require_POST
def feed_rotate(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.calendar_feed_rotate(user=request.user, now=timezone.now())
    messages.success(request, _("Your new calendar link is ready; the old one no longer works."))
    return HttpResponseRedirect(reverse("appointments:week") + "#kalender")


@never_cache
@login_required
@require_POST
def feed_revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.calendar_feed_revoke(user=request.user, now=timezone.now())
    messages.success(request, _("Your calendar link was switched off."))
    return HttpResponseRedirect(reverse("appointments:week") + "#kalender")


@never_cache
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The manager's appointments as iCal, behind the secret link (no
    sign-in: calendar apps cannot; no client names in it)."""
    now = timezone.now()
    found = selectors.feed_appointments(token=token, now=now)
    if found is None:
        raise Http404
    _user, rows = found
    response = HttpResponse(
        ical.calendar_bytes(rows, now=now), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="lotse-termine.ics"'
    return response
