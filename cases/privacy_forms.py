"""Forms of the consent page and the plan-agreement page (issue 18)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cases.forms import CaseDateChecks, DateInput
from cases.models import Catalogue, CatalogueEntry, Consent, IntegrationPlan, Measure


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label=_("What the client consents to"), choices=Consent.Scope.choices)
    form = forms.ChoiceField(label=_("Form of the consent"), choices=Consent.Form.choices)
    language = forms.CharField(label=_("language of the information"), max_length=50)
    given_by = forms.ChoiceField(
        label=_("given by"), choices=Consent.GivenBy.choices, initial=Consent.GivenBy.PERSON
    )
    guardian_name = forms.CharField(
        label=_("name of the legal guardian"), max_length=200, required=False
    )
    recipient = forms.CharField(
        label=_("Recipient and purpose (for a transfer)"), max_length=200, required=False
    )
    interpreter = forms.CharField(label=_("interpreter"), max_length=100, required=False)
    interpreter_language = forms.CharField(
        label=_("interpreter language"), max_length=50, required=False
    )


class EvidenceForm(forms.Form):
    consent = forms.IntegerField(widget=forms.HiddenInput)
    file = forms.FileField(label=_("Scan of the signed consent (PDF, PNG or JPEG)"))


class PlanAgreeForm(forms.Form):
    agreement_form = forms.ChoiceField(
        label=_("How the plan was agreed"), choices=IntegrationPlan.AgreementForm.choices
    )
    agreement_language = forms.CharField(label=_("Language of the talk"), max_length=50)
    interpreter = forms.CharField(label=_("Interpreter"), max_length=100, required=False)
    copy_handed_over = forms.BooleanField(label=_("The client received a copy"), required=False)


class LegalHoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the legal hold"), max_length=300, required=False)


def field_of_action_choices(day: date) -> list[tuple[str, str]]:
    german = (translation.get_language() or "de").startswith("de")
    return [
        (entry.key, entry.label_de if german else entry.label_en)
        for entry in CatalogueEntry.objects.filter(catalogue=Catalogue.FIELD_OF_ACTION).order_by(
            "order", "key"
        )
        if entry.is_valid_on(day)
    ]


class NewGoalForm(CaseDateChecks, forms.Form):
    """A new goal with its first step, for a plan that is agreed already or
    drafted after a decline."""

    target_dates = ("target_date",)
    field_of_action = forms.ChoiceField(label=_("Field of action"))
    title = forms.CharField(label=_("Goal"), max_length=300)
    success_criterion = forms.CharField(label=_("Success criterion"), max_length=300)
    target_date = forms.DateField(label=_("Target date"), widget=DateInput())
    measure = forms.CharField(label=_("First step"), max_length=300)
    responsible = forms.ChoiceField(label=_("Who does it"), choices=Measure.Responsible.choices)

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["field_of_action"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [("", "—"), *field_of_action_choices(day)]


class GoalChangeForm(CaseDateChecks, forms.Form):
    """A changed wording, success criterion or target date of a goal."""

    target_dates = ("target_date",)
    goal = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Goal"), max_length=300)
    success_criterion = forms.CharField(label=_("Success criterion"), max_length=300)
    target_date = forms.DateField(label=_("Target date"), widget=DateInput())
