"""Forms of the guided tasks.

They only shape input; every rule is checked by the case services, whose
errors (`ApplicationError.fields`) are shown at the fields they name.
Catalogue fields list the entries valid today, in the user's language.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cases.forms import CaseDateChecks, catalogue_label
from cases.models import (
    FINAL_GOAL_STATES,
    Case,
    Catalogue,
    CatalogueEntry,
    Consent,
    GoalCatalogueEntry,
    GoalStatus,
    IntegrationPlan,
    Measure,
    NeedLevel,
    Referral,
)
from cases.services import ClosingGround, PauseReason, ReopenReason


def catalogue_choices(catalogue: str, day: date, *, exclude: tuple[str, ...] = ()) -> list:
    german = (translation.get_language() or "de").startswith("de")
    return [
        (entry.key, entry.label_de if german else entry.label_en)
        for entry in CatalogueEntry.objects.filter(catalogue=catalogue).order_by("order", "key")
        if entry.is_valid_on(day) and entry.key not in exclude
    ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class CatalogueForm(forms.Form):
    """A form whose catalogue fields are filled for `day`."""

    catalogues: dict[str, str] = {}

    def _choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        if not isinstance(field, forms.ChoiceField):
            raise TypeError(f"{name} is not a choice field")
        return field

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, catalogue in self.catalogues.items():
            if name in self.fields:
                self._choice_field(name).choices = [
                    *(
                        [("", "—")]
                        if isinstance(self.fields[name], forms.ChoiceField)
                        and not isinstance(self.fields[name], forms.MultipleChoiceField)
                        else []
                    ),
                    *catalogue_choices(catalogue, day),
                ]


class ConsultationFields(CaseDateChecks, CatalogueForm):
    event_dates = ("held_on",)
    catalogues = {
        "consultation_form": Catalogue.CONSULTATION_FORM,
        "topics": Catalogue.CONSULTATION_TOPIC,
    }

    held_on = forms.DateField(label=_("Date of the consultation"), widget=DateInput())
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=1, max_value=600, initial=45
    )
    consultation_form = forms.ChoiceField(label=_("Form"))
    topics = forms.MultipleChoiceField(
        label=_("Topics"), widget=forms.CheckboxSelectMultiple, required=True
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def consultation_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "held_on": data["held_on"],
            "duration_minutes": data["duration_minutes"],
            "form": data["consultation_form"],
            "topics": data["topics"],
            "notes": data["notes"],
        }


class FirstConsultationForm(ConsultationFields):
    catalogues = {**ConsultationFields.catalogues, "benefit_status": Catalogue.BENEFIT_STATUS}

    consent_given = forms.BooleanField(
        label=_("The client consents to the processing of their case data"), required=False
    )
    consent_form = forms.ChoiceField(
        label=_("Form of the consent"), choices=Consent.Form.choices, required=False
    )
    consent_language = forms.CharField(
        label=_("Language of the consent talk"), max_length=50, required=False
    )
    eligibility_basis = forms.ChoiceField(
        label=_("Eligibility"),
        choices=[
            (value, label)
            for value, label in Case.EligibilityBasis.choices
            if value != Case.EligibilityBasis.NONE
        ],
    )
    benefit_status = forms.ChoiceField(label=_("Benefits"))

    def __init__(self, *args: Any, needs_consent: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_consent = needs_consent
        if not needs_consent:
            for name in ("consent_given", "consent_form", "consent_language"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.needs_consent:
            if not data.get("consent_given"):
                self.add_error(
                    "consent_given",
                    _("Without consent the case cannot be processed; reject it instead."),
                )
            if not data.get("consent_form"):
                self.add_error("consent_form", _("This field is required."))
            if not data.get("consent_language"):
                self.add_error("consent_language", _("This field is required."))
        return data


class FinalReferralTalkForm(FirstConsultationForm):
    """The talk for the final referral of a registered case whose person's
    period is over (`cases.services.case_final_referral_talk`): the talk,
    the eligibility check of the first consultation, and the final referral
    to a regular service (or no further need)."""

    catalogues = {**FirstConsultationForm.catalogues, "target_service": Catalogue.REFERRAL_TARGET}

    target_service = forms.ChoiceField(label=_("Final referral to"), required=False)
    mode = forms.ChoiceField(
        label=_("How"), choices=[("", "—"), *Referral.Mode.choices], required=False
    )
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    no_further_need = forms.BooleanField(label=_("No further need for support"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("target_service"):
            if not data.get("mode"):
                self.add_error("mode", _("This field is required."))
        elif not data.get("no_further_need"):
            self.add_error(
                "target_service",
                _("Choose the regular service, or state that there is no further need."),
            )
        return data

    def final_referral(self) -> dict[str, str] | None:
        data = self.cleaned_data
        if not data.get("target_service"):
            return None
        return {
            "target_service": data["target_service"],
            "mode": data["mode"],
            "organisation": data["organisation"],
        }


class RejectForm(forms.Form):
    rejection_reason = forms.ChoiceField(
        label=_("Why the case is not admitted"),
        choices=[
            (value, label)
            for value, label in Case.RejectionReason.choices
            if value != Case.RejectionReason.NO_SHOW
        ],
    )


class AssessmentForm(CaseDateChecks, CatalogueForm):
    event_dates = ("assessed_on",)
    assessed_on = forms.DateField(label=_("Date of the assessment"), widget=DateInput())

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, day=day, **kwargs)
        self.fields_of_action = catalogue_choices(Catalogue.FIELD_OF_ACTION, day)
        for key, label in self.fields_of_action:
            self.fields[f"need_{key}"] = forms.ChoiceField(
                label=label,
                choices=[("", _("not assessed")), *NeedLevel.choices],
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not any(data.get(f"need_{key}") for key, _label in self.fields_of_action):
            raise forms.ValidationError(_("Rate the need in at least one field of action."))
        return data

    def items(self) -> list[dict[str, str]]:
        return [
            {"field_of_action": key, "need_level": self.cleaned_data[f"need_{key}"]}
            for key, _label in self.fields_of_action
            if self.cleaned_data.get(f"need_{key}")
        ]

    def need_fields(self) -> list[Any]:
        return [self[f"need_{key}"] for key, _label in self.fields_of_action]


def goal_catalogue_choices() -> list[Any]:
    """The goal catalogue's entries in use, grouped by field of action."""
    german = (translation.get_language() or "de").startswith("de")
    groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for goal in (
        GoalCatalogueEntry.objects.filter(is_active=True, field_of_action__is_active=True)
        .select_related("field_of_action")
        .order_by("field_of_action__order", "order", "key")
    ):
        field = goal.field_of_action
        group = groups.setdefault(field.pk, (field.label_de if german else field.label_en, []))
        group[1].append((goal.key, goal.label_de if german else goal.label_en))
    return [("", _("— worded freely —")), *groups.values()]


class GoalForm(CaseDateChecks, CatalogueForm):
    """A goal from the catalogue (the Land's sheet counts by it) or worded
    freely under a field of action."""

    target_dates = ("target_date",)
    catalogues = {"field_of_action": Catalogue.FIELD_OF_ACTION}

    catalogue_goal = forms.ChoiceField(
        label=_("Goal from the catalogue"),
        required=False,
        help_text=_("Or leave empty and word the goal freely below."),
    )
    field_of_action = forms.ChoiceField(
        label=_("Field of action"),
        required=False,
        help_text=_("Follows from a goal of the catalogue."),
    )
    title = forms.CharField(
        label=_("Goal"),
        max_length=300,
        required=False,
        help_text=_("Empty with a goal of the catalogue: its wording."),
    )
    success_criterion = forms.CharField(label=_("Success criterion"), max_length=300)
    target_date = forms.DateField(label=_("Target date"), widget=DateInput())
    measure = forms.CharField(label=_("First step"), max_length=300)
    responsible = forms.ChoiceField(label=_("Who does it"), choices=Measure.Responsible.choices)

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, day=day, **kwargs)
        self._choice_field("catalogue_goal").choices = goal_catalogue_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("catalogue_goal"):
            for name in ("field_of_action", "title"):
                if name in data and not data[name]:
                    self.add_error(
                        name, _("Required when the goal is not taken from the catalogue.")
                    )
        return data


class AgreeForm(CaseDateChecks, forms.Form):
    target_dates = ("next_review_at",)
    agreement_form = forms.ChoiceField(
        label=_("How the plan was agreed"), choices=IntegrationPlan.AgreementForm.choices
    )
    agreement_language = forms.CharField(label=_("Language of the talk"), max_length=50)
    interpreter = forms.CharField(label=_("Interpreter"), max_length=100, required=False)
    copy_handed_over = forms.BooleanField(label=_("The client received a copy"), required=False)
    next_review_at = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: in six months."),
    )


class DeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label=_("Why the client declines a written plan"), max_length=300
    )


class ReviewForm(CaseDateChecks, forms.Form):
    event_dates = ("reviewed_on",)
    target_dates = ("next_review_at",)
    reviewed_on = forms.DateField(label=_("Date of the review talk"), widget=DateInput())
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_review_at = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: in six months."),
    )

    def __init__(self, *args: Any, goals: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goals = goals
        for goal in goals:
            self.fields[f"goal_{goal.pk}"] = forms.ChoiceField(
                label=goal.title, choices=GoalStatus.choices, initial=goal.status
            )

    def goal_updates(self) -> list[dict[str, Any]]:
        return [
            {"goal_id": goal.pk, "status": self.cleaned_data[f"goal_{goal.pk}"]}
            for goal in self.goals
            if self.cleaned_data[f"goal_{goal.pk}"] != goal.status
        ]

    def goal_fields(self) -> list[Any]:
        return [self[f"goal_{goal.pk}"] for goal in self.goals]

    # The re-assessment of needs at the review (issue 20): one need level per
    # field of action, prefilled with the latest assessment.
    def add_need_fields(self, fields: list[Any], current: dict[str, str]) -> None:
        self.need_entries = fields
        for entry in fields:
            self.fields[f"need_{entry.key}"] = forms.ChoiceField(
                label=catalogue_label(entry),
                choices=[("", "—"), *NeedLevel.choices],
                required=False,
                initial=current.get(entry.key, ""),
                help_text=_("Need today (re-assessment at the review)"),
            )

    def need_fields(self) -> list[Any]:
        return [self[f"need_{entry.key}"] for entry in getattr(self, "need_entries", [])]

    def needs(self) -> list[dict[str, str]]:
        return [
            {"field_of_action": entry.key, "need_level": self.cleaned_data[f"need_{entry.key}"]}
            for entry in getattr(self, "need_entries", [])
            if self.cleaned_data.get(f"need_{entry.key}")
        ]


class ExtensionRequestForm(CatalogueForm):
    catalogues = {"reason": Catalogue.EXTENSION_REASON}

    reason = forms.ChoiceField(label=_("Reason"))
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=12, initial=12)
    justification = forms.CharField(
        label=_("Justification"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("decision") == "reject" and not data.get("note", "").strip():
            self.add_error("note", _("Please give the reason for the rejection."))
        return data


class FinalReferralForm(CatalogueForm):
    catalogues = {
        "closure_reason": Catalogue.CLOSURE_REASON,
        "target_service": Catalogue.REFERRAL_TARGET,
    }

    closure_reason = forms.ChoiceField(label=_("Reason for closing"))
    target_service = forms.ChoiceField(label=_("Final referral to"), required=False)
    mode = forms.ChoiceField(
        label=_("How"), choices=[("", "—"), *Referral.Mode.choices], required=False
    )
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    no_further_need = forms.BooleanField(label=_("No further need for support"), required=False)

    def __init__(
        self, *args: Any, day: date, goals: list[Any], pending: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, day=day, **kwargs)
        closure_reason = self._choice_field("closure_reason")
        # CatalogueForm has just filled it with a list of (key, label) pairs.
        filled = cast(list[tuple[str, Any]], closure_reason.choices)
        closure_reason.choices = [choice for choice in filled if choice[0] != "consent_withdrawn"]
        self.goals, self.pending = goals, pending
        final = [
            (value, label) for value, label in GoalStatus.choices if value in FINAL_GOAL_STATES
        ]
        for goal in goals:
            self.fields[f"goal_{goal.pk}"] = forms.ChoiceField(
                label=goal.title, choices=[("", "—"), *final]
            )
        outcomes = [
            (value, label)
            for value, label in Referral.Outcome.choices
            if value != Referral.Outcome.PENDING
        ]
        for referral in pending:
            self.fields[f"referral_{referral.pk}"] = forms.ChoiceField(
                label=catalogue_label(referral.target_service), choices=[("", "—"), *outcomes]
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("target_service") and not data.get("mode"):
            self.add_error("mode", _("This field is required."))
        return data

    def goal_fields(self) -> list[Any]:
        return [self[f"goal_{goal.pk}"] for goal in self.goals]

    def referral_fields(self) -> list[Any]:
        return [self[f"referral_{referral.pk}"] for referral in self.pending]


class PauseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why the case rests"),
        choices=[
            ("NO_CONTACT", _("no contact")),
            ("CLIENT_REQUEST", _("at the client's request")),
            ("HOSPITAL_STAY", _("hospital stay")),
            ("OTHER", _("other")),
        ],
    )


class StartClosingForm(forms.Form):
    ground = forms.ChoiceField(
        label=_("Why the case is being closed"),
        choices=[
            ("ALL_GOALS_FINAL", _("all goals have a final status")),
            ("CLIENT_REQUEST", _("at the client's request")),
            ("MOVED_AWAY", _("the client moved away")),
            ("TRANSFER", _("transfer to another service")),
        ],
    )


class WithdrawConsentForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How the consent was withdrawn"), choices=Consent.WithdrawalChannel.choices
    )
    confirm = forms.BooleanField(
        label=_("The client has withdrawn the consent; processing stops and the case is closed"),
    )


class ReopenForm(ConsultationFields):
    reason = forms.ChoiceField(
        label=_("Why the case is reopened"),
        choices=[
            ("CLIENT_RETURNED", _("the client came back")),
            ("CLOSED_IN_ERROR", _("closed in error")),
            ("NEW_NEED", _("a new need")),
        ],
    )


class ReviewDateForm(CaseDateChecks, forms.Form):
    target_dates = ("next_review_at",)
    next_review_at = forms.DateField(label=_("New review date"), widget=DateInput())


# The choice lists above mirror the services' value sets; a test keeps them equal.
CHOICE_SOURCES = {
    PauseForm: ("reason", PauseReason),
    StartClosingForm: ("ground", ClosingGround),
    ReopenForm: ("reason", ReopenReason),
}
