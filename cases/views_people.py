"""The pages of issue 19: registering a person or household without a
handover (with the duplicate warning), the household view (members, their
cases with clock and plan, family consultations) with its edits, and the
edit of a person's data.

One service call per POST; its refusal is shown at the field it names and
nothing is written. Edits carry the version the page showed: a stale one
is refused with a message (RELIABILITY.md W4), never written over.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from cases import services
from cases.forms_people import (
    NEW,
    HouseholdEditForm,
    IntakeForm,
    MemberAddForm,
    MemberRelationForm,
    PersonEditForm,
    VersionForm,
    person_rows,
)
from cases.households import HouseholdView, household_get_for_user, person_get_for_user
from cases.models import HouseholdMembership
from cases.services import NewPerson
from config.errors import ApplicationError, NotFound

INTAKE_ROLES = (Role.INTEGRATION_MANAGER, Role.SUPERVISOR)
ROW_FACTS = ("family_name", "given_names", "date_of_birth", "sex", "nationality", "languages")


def _show_error(form: forms.Form, error: ApplicationError, prefix: str = "") -> None:
    """Put the service's error at the fields it names (else on the form)."""
    placed = False
    for name, problems in (error.fields or {}).items():
        field = name.removeprefix(prefix).split(".")[-1]
        if field in form.fields:
            for problem in problems:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))


def _decision(row: Any) -> dict[str, Any]:
    choice = row.cleaned_data.get("decision") or ""
    if choice == NEW:
        return {"not_known": True}
    if choice.isdigit():
        return {"known_person_id": int(choice)}
    return {}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def intake_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Register a walk-in (self-referral, outreach, allocation by the
    authority, referral by another service): a person or a household."""
    if request.user.role not in INTAKE_ROLES:
        raise Http404
    data = request.POST if request.method == "POST" else None
    form = IntakeForm(data, user=request.user)
    rows = person_rows(data)
    warned = False
    if data is not None and form.is_valid() and all(row.is_valid() for row in rows):
        filled = [row for row in rows if not row.is_empty()]
        people = [
            NewPerson(
                facts={
                    **{name: row.cleaned_data.get(name) for name in ROW_FACTS},
                    **({"phone": row.cleaned_data["phone"]} if row.cleaned_data["phone"] else {}),
                },
                relation=row.cleaned_data["relation"],
                opens_case=bool(row.cleaned_data.get("opens_case")),
                **_decision(row),
            )
            for row in filled
        ]
        try:
            intake = services.case_register(
                actor=request.user,
                now=timezone.now(),
                owner=form.cleaned_data.get("owner") or request.user,
                intake_channel=form.cleaned_data["intake_channel"],
                gemeinde=form.cleaned_data.get("gemeinde"),
                address=form.cleaned_data.get("address", ""),
                people=people,
            )
        except services.PossibleDuplicate as duplicate:
            warned = True
            for key, candidates in duplicate.candidates.items():
                filled[int(key.split(".")[1])].warn(candidates)
        except ApplicationError as error:
            placed = False
            for name, problems in (error.fields or {}).items():
                parts = name.split(".")
                if parts[0] == "people" and len(parts) == 3 and parts[1].isdigit():
                    row = filled[int(parts[1])] if int(parts[1]) < len(filled) else rows[0]
                    if parts[2] in row.fields:
                        for problem in problems:
                            row.add_error(parts[2], str(problem))
                        placed = True
                elif name in form.fields:
                    for problem in problems:
                        form.add_error(name, str(problem))
                    placed = True
            if not placed:
                form.add_error(None, str(error.message))
        else:
            messages.success(
                request,
                _("Registered: %(n)d case(s). The first consultation is the next step.")
                % {"n": len(intake.cases)},
            )
            if intake.case.household_id is not None and request.user.role != Role.SUPERVISOR:
                return HttpResponseRedirect(
                    reverse("cases:household", args=[intake.case.household_id])
                )
            return HttpResponseRedirect(reverse("cases:detail", args=[intake.case.pk]))
    return render(
        request,
        "cases/intake_new.html",
        {"form": form, "rows": rows, "warned": warned},
        status=200
        if data is None or not (form.errors or warned or any(row.errors for row in rows))
        else 400,
    )


def _household_page(
    request: AuthenticatedHttpRequest,
    household_pk: Any,
    *,
    status: int = 200,
    add_form: MemberAddForm | None = None,
    edit_form: HouseholdEditForm | None = None,
    problem: str = "",
) -> HttpResponse:
    try:
        view: HouseholdView = household_get_for_user(
            user=request.user, household_id=household_pk, now=timezone.now(), view="cases.household"
        )
    except NotFound:
        raise Http404 from None
    version = view.household.version
    return render(
        request,
        "cases/household.html",
        {
            "view": view,
            "household": view.household,
            "edit_form": edit_form
            or HouseholdEditForm(initial={"version": version, "address": view.household.address}),
            "add_form": add_form or MemberAddForm(initial={"version": version}),
            "relation_choices": HouseholdMembership.Relation.choices,
            "problem": problem,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def household_detail(request: AuthenticatedHttpRequest, household_pk: Any) -> HttpResponse:
    """The household: members, their cases (clock, plan), family consultations."""
    return _household_page(request, household_pk)


def _household_redirect(household_pk: Any) -> HttpResponse:
    return HttpResponseRedirect(reverse("cases:household", args=[household_pk]))


def _refused(
    request: AuthenticatedHttpRequest, household_pk: Any, error: ApplicationError, **forms_: Any
) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404
    return _household_page(
        request, household_pk, status=error.http_status, problem=str(error.message), **forms_
    )


@never_cache
@login_required
@require_POST
def household_edit(request: AuthenticatedHttpRequest, household_pk: Any) -> HttpResponse:
    form = HouseholdEditForm(request.POST)
    if not form.is_valid():
        return _household_page(request, household_pk, status=400, edit_form=form)
    try:
        services.household_update(
            household=household_pk,
            actor=request.user,
            now=timezone.now(),
            version=form.cleaned_data["version"],
            address=form.cleaned_data["address"],
        )
    except ApplicationError as error:
        return _refused(request, household_pk, error, edit_form=form)
    messages.success(request, _("The household's address was changed."))
    return _household_redirect(household_pk)


@never_cache
@login_required
@require_POST
def household_member_add(request: AuthenticatedHttpRequest, household_pk: Any) -> HttpResponse:
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return _household_page(request, household_pk, status=400, add_form=form)
    facts = {
        name: form.cleaned_data[name]
        for name in ("family_name", "given_names", "date_of_birth", "sex")
    }
    try:
        services.household_member_add(
            household=household_pk,
            actor=request.user,
            now=timezone.now(),
            version=form.cleaned_data["version"],
            member=NewPerson(
                facts=facts, relation=form.cleaned_data["relation"], **_decision(form)
            ),
        )
    except services.PossibleDuplicate as duplicate:
        form.warn(duplicate.candidates["member"])
        return _household_page(request, household_pk, status=409, add_form=form)
    except ApplicationError as error:
        if not isinstance(error, NotFound) and error.fields:
            _show_error(form, error, prefix="member.")
            return _household_page(request, household_pk, status=400, add_form=form)
        return _refused(request, household_pk, error, add_form=form)
    messages.success(request, _("The member was added to the household."))
    return _household_redirect(household_pk)


@never_cache
@login_required
@require_POST
def household_member_relation(
    request: AuthenticatedHttpRequest, household_pk: Any, person_pk: Any
) -> HttpResponse:
    form = MemberRelationForm(request.POST, prefix=f"m{person_pk}")
    if not form.is_valid():
        return _household_page(request, household_pk, status=400)
    try:
        services.household_member_relation_set(
            household=household_pk,
            person=person_pk,
            actor=request.user,
            now=timezone.now(),
            version=form.cleaned_data["version"],
            relation=form.cleaned_data["relation"],
        )
    except ApplicationError as error:
        return _refused(request, household_pk, error)
    messages.success(request, _("The relation was changed."))
    return _household_redirect(household_pk)


@never_cache
@login_required
@require_POST
def household_member_remove(
    request: AuthenticatedHttpRequest, household_pk: Any, person_pk: Any
) -> HttpResponse:
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _household_page(request, household_pk, status=400)
    try:
        services.household_member_remove(
            household=household_pk,
            person=person_pk,
            actor=request.user,
            now=timezone.now(),
            version=form.cleaned_data["version"],
        )
    except ApplicationError as error:
        return _refused(request, household_pk, error)
    messages.success(request, _("The member was removed from the household."))
    return _household_redirect(household_pk)


@never_cache
@login_required
@require_POST
def household_member_case(
    request: AuthenticatedHttpRequest, household_pk: Any, person_pk: Any
) -> HttpResponse:
    """Open an adult member's own case."""
    try:
        case = services.household_member_case_open(
            household=household_pk, person=person_pk, actor=request.user, now=timezone.now()
        )
    except ApplicationError as error:
        return _refused(request, household_pk, error)
    messages.success(request, _("The member has a case of their own now."))
    return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: AuthenticatedHttpRequest, person_pk: Any) -> HttpResponse:
    """Change a person's data (a move, a new phone, a changed residence or
    benefit status, languages, literacy)."""
    try:
        person = person_get_for_user(
            user=request.user, person_id=person_pk, now=timezone.now(), view="cases.person_edit"
        )
    except NotFound:
        raise Http404 from None
    status = 200
    if request.method == "POST":
        form = PersonEditForm(request.POST)
        if form.is_valid():
            changes = dict(form.cleaned_data)
            version = changes.pop("version")
            try:
                services.person_update(
                    person=person.pk,
                    actor=request.user,
                    now=timezone.now(),
                    version=version,
                    **changes,
                )
            except ApplicationError as error:
                if isinstance(error, NotFound):
                    raise Http404 from None
                _show_error(form, error, prefix="person.")
                status = error.http_status
            else:
                messages.success(request, _("The person's data were saved."))
                return HttpResponseRedirect(request.get_full_path())
        else:
            status = 400
    else:
        form = PersonEditForm(initial=PersonEditForm.initial_for(person))
    return render(
        request, "cases/person_edit.html", {"form": form, "person": person}, status=status
    )
