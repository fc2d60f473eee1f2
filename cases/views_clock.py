"""The person's consultation period in the browser: recording a start or an
extension known from elsewhere (another Träger or Gemeinde, a migrated
caseload, a transfer), with its evidence. One service call:
`cases.services.person_clock_fact_record`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.types import AuthenticatedHttpRequest, choice_field
from cases import services
from cases.forms import DateInput, catalogue_label
from cases.models import Catalogue, CatalogueEntry, PersonClockFact
from cases.person_clock import person_clock
from cases.views import _case, _refusal
from config.errors import ApplicationError


class ClockFactForm(forms.Form):
    source = forms.ChoiceField(
        label=gettext_lazy("Where it is known from"), choices=PersonClockFact.Source.choices
    )
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "What proves it: the other office's certificate, the file reference, the transfer."
        ),
    )
    first_consultation_on = forms.DateField(
        label=gettext_lazy("First consultation there"), required=False, widget=DateInput()
    )
    extension_months = forms.IntegerField(
        label=gettext_lazy("Extension already used (months)"),
        required=False,
        min_value=1,
        max_value=12,
    )
    extension_reason = forms.ChoiceField(
        label=gettext_lazy("Reason of that extension"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reasons = CatalogueEntry.objects.filter(
            catalogue=Catalogue.EXTENSION_REASON, is_active=True
        ).order_by("order", "key")
        choice_field(self, "extension_reason").choices = [
            ("", "–"),
            *((e.key, catalogue_label(e)) for e in reasons),
        ]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def clock_fact_new(request: AuthenticatedHttpRequest, case_pk: Any) -> HttpResponse:
    """Record what is known from elsewhere about the person's period."""
    now = timezone.now()
    try:
        case = _case(request, case_pk, now=now, view="cases.clock_fact_new", content=True)
    except ApplicationError as error:
        return _refusal(request, error)
    form = ClockFactForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.person_clock_fact_record(
                    person=case.person,
                    actor=request.user,
                    now=now,
                    source=data["source"],
                    evidence=data["evidence"],
                    first_consultation_on=data["first_consultation_on"],
                    extension_months=data["extension_months"],
                    extension_reason=data["extension_reason"] or None,
                )
            except ApplicationError as error:
                placed = False
                for name, problems in (error.fields or {}).items():
                    if name in form.fields:
                        for problem in problems:
                            form.add_error(name, str(problem))
                        placed = True
                if not placed:
                    form.add_error(None, str(error.message))
                status = error.http_status
            else:
                messages.success(request, _("The consultation period of the person was updated."))
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
        else:
            status = 400
    facts = case.person.clock_facts.select_related("extension_reason").order_by("-pk")
    return render(
        request,
        "cases/clock_fact_new.html",
        {
            "case": case,
            "form": form,
            "facts": list(facts),
            "clock": person_clock(person=case.person_id, today=timezone.localdate(now)),
        },
        status=status,
    )
