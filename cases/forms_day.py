"""Forms of the manager's day on the case page (issue 20): a referral
during the case and its outcome, corrections and cancellations, the
network-contact register. They only shape input; the case services check
every rule and the views show their refusals at the fields they name."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.types import choice_field
from cases.forms import DateInput, catalogue_label
from cases.models import (
    Catalogue,
    CatalogueEntry,
    Consultation,
    Measure,
    NeedLevel,
    NetworkContact,
    Referral,
)


def _entries(catalogue: str, day: date) -> list[tuple[str, str]]:
    return [
        (e.key, catalogue_label(e))
        for e in CatalogueEntry.objects.filter(catalogue=catalogue).order_by("order", "key")
        if e.is_valid_on(day)
    ]


class ReferralForm(forms.Form):
    """A referral to a regular service during the case."""

    referred_on = forms.DateField(label=_("Date"), widget=DateInput())
    target_service = forms.ChoiceField(label=_("Referred to"))
    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        help_text=_("The office or service by name, e.g. Jobcenter Biberach."),
    )
    mode = forms.ChoiceField(label=_("How"), choices=Referral.Mode.choices)
    topic = forms.ChoiceField(label=_("Topic"), required=False)

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "target_service").choices = _entries(Catalogue.REFERRAL_TARGET, day)
        choice_field(self, "topic").choices = [
            ("", "—"),
            *_entries(Catalogue.CONSULTATION_TOPIC, day),
        ]
        self.fields["referred_on"].widget.attrs["max"] = day.isoformat()


class ReferralOutcomeForm(forms.Form):
    """The outcome of a referral, in one step (also from its reminder)."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in Referral.Outcome.choices if c[0] != Referral.Outcome.PENDING],
        widget=forms.RadioSelect,
    )
    outcome_date = forms.DateField(label=_("Outcome date"), widget=DateInput())


class ReasonForm(forms.Form):
    """Every correction and cancellation names its reason."""

    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=300,
        help_text=_("E.g. wrong date entered, recorded in the wrong case."),
    )


class ConsultationCorrectionForm(ReasonForm):
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    duration_minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=720)
    form = forms.ChoiceField(label=_("Form"))
    topics = forms.MultipleChoiceField(label=_("Topics"), widget=forms.CheckboxSelectMultiple)
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in Consultation.Status.choices if c[0] != Consultation.Status.CANCELLED],
    )
    interpreter = forms.CharField(label=_("Interpreter"), max_length=100, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "form").choices = _entries(Catalogue.CONSULTATION_FORM, day)
        choice_field(self, "topics").choices = _entries(Catalogue.CONSULTATION_TOPIC, day)

    @staticmethod
    def initial_of(row: Consultation) -> dict[str, Any]:
        return {
            "held_on": row.held_on,
            "duration_minutes": row.duration_minutes,
            "form": row.form.key,
            "topics": [t.key for t in row.topics.all()],
            "status": row.status,
            "interpreter": row.interpreter,
            "notes": row.notes,
        }


class ReferralCorrectionForm(ReasonForm):
    referred_on = forms.DateField(label=_("Date"), widget=DateInput())
    target_service = forms.ChoiceField(label=_("Referred to"))
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    mode = forms.ChoiceField(label=_("How"), choices=Referral.Mode.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Referral.Outcome.choices)

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "target_service").choices = _entries(Catalogue.REFERRAL_TARGET, day)

    @staticmethod
    def initial_of(row: Referral) -> dict[str, Any]:
        return {
            "referred_on": row.referred_on,
            "target_service": row.target_service.key,
            "organisation": row.organisation,
            "mode": row.mode,
            "outcome": row.outcome,
        }


class GoalCorrectionForm(ReasonForm):
    title = forms.CharField(label=_("Goal"), max_length=300)
    success_criterion = forms.CharField(label=_("Success criterion"), max_length=300)
    target_date = forms.DateField(label=_("Target date"), widget=DateInput())

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_of(row: Any) -> dict[str, Any]:
        return {
            "title": row.title,
            "success_criterion": row.success_criterion,
            "target_date": row.target_date,
        }


class MeasureCorrectionForm(ReasonForm):
    description = forms.CharField(label=_("Step"), max_length=300)
    responsible = forms.ChoiceField(label=_("Who does it"), choices=Measure.Responsible.choices)
    due_date = forms.DateField(label=_("Due"), required=False, widget=DateInput())

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_of(row: Measure) -> dict[str, Any]:
        return {
            "description": row.description,
            "responsible": row.responsible,
            "due_date": row.due_date,
        }


class AssessmentCorrectionForm(ReasonForm):
    assessed_on = forms.DateField(label=_("Assessed on"), widget=DateInput())

    def __init__(self, *args: Any, day: date, items: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"need_{item.field_of_action.key}"] = forms.ChoiceField(
                label=catalogue_label(item.field_of_action),
                choices=NeedLevel.choices,
                initial=item.need_level,
            )

    @staticmethod
    def initial_of(row: Any) -> dict[str, Any]:
        return {"assessed_on": row.assessed_on}

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "assessed_on": data["assessed_on"],
            "items": [
                {
                    "field_of_action": item.field_of_action.key,
                    "need_level": data[f"need_{item.field_of_action.key}"],
                }
                for item in self.items
            ],
        }


class NeedLevelsForm(forms.Form):
    """The need level per field of action, as at a re-assessment (plan review)."""

    def __init__(
        self, *args: Any, fields: list[CatalogueEntry], current: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.entries = fields
        for entry in fields:
            self.fields[f"need_{entry.key}"] = forms.ChoiceField(
                label=catalogue_label(entry),
                choices=[("", "—"), *NeedLevel.choices],
                required=False,
                initial=current.get(entry.key, ""),
            )

    def items(self) -> list[dict[str, str]]:
        return [
            {"field_of_action": entry.key, "need_level": self.cleaned_data[f"need_{entry.key}"]}
            for entry in self.entries
            if self.cleaned_data.get(f"need_{entry.key}")
        ]


class NetworkContactForm(forms.Form):
    """A network contact in a few fields (Vernetzung, K6)."""

    contact_date = forms.DateField(label=_("Date"), widget=DateInput())
    category = forms.ChoiceField(label=_("With whom"))
    organisation = forms.CharField(label=_("Organisation"), max_length=200)
    format = forms.ChoiceField(label=_("Format"), choices=NetworkContact.Format.choices)
    topic = forms.CharField(label=_("Topic"), max_length=200, required=False)
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), min_value=1, max_value=720, required=False
    )

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = _entries(Catalogue.NETWORK_CONTACT_CATEGORY, day)
        self.fields["contact_date"].widget.attrs["max"] = day.isoformat()


class NetworkCorrectionForm(NetworkContactForm):
    reason = ReasonForm.base_fields["reason"]

    @staticmethod
    def initial_of(row: NetworkContact) -> dict[str, Any]:
        return {
            "contact_date": row.contact_date,
            "category": row.category.key,
            "organisation": row.organisation,
            "format": row.format,
            "topic": row.topic,
            "duration_minutes": row.duration_minutes,
        }
