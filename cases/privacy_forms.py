"""Forms of the consent page and the plan-agreement page (issue 18)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Consent, IntegrationPlan


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label=_("What the client consents to"), choices=Consent.Scope.choices)
    form = forms.ChoiceField(label=_("Form of the consent"), choices=Consent.Form.choices)
    language = forms.CharField(label=_("Language of the information"), max_length=50)
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
        label=_("agreement form"), choices=IntegrationPlan.AgreementForm.choices
    )
    agreement_language = forms.CharField(label=_("language"), max_length=50)
    interpreter = forms.CharField(label=_("interpreter"), max_length=100, required=False)
    copy_handed_over = forms.BooleanField(label=_("copy handed to the client"), required=False)


class LegalHoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the legal hold"), max_length=300, required=False)
