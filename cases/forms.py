"""Forms of the case pages.

They only shape input: every rule is checked by the case services, whose
errors (`ApplicationError.fields`) the views show at the fields they name.
Catalogue fields list the entries valid on the day, in the user's language,
in the order the caller passes (the most used first).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, cast

from django import forms
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.types import choice_field
from cases.dates import CaseDates, event_date_problem, target_date_problem
from cases.models import CatalogueEntry, Consultation, HouseholdMembership

# The durations most consultations take; anything else goes into "other".
DURATION_PRESETS = (15, 30, 45, 60, 90)
DEFAULT_MINUTES = 45
MAX_MINUTES = 720


def catalogue_label(entry: CatalogueEntry) -> str:
    """Return the entry's label in the active language (German, else English)."""
    german = (translation.get_language() or "de").startswith("de")
    return entry.label_de if german else entry.label_en


class CaseDateChecks:
    """Form mixin: the case's date rules (`cases.dates`) at the field.

    `event_dates` name fields holding the date of something that happened,
    `target_dates` fields holding a date to be reached. The interface sets
    `dates` (a `CaseDates`) before validating; without it only the rules
    that need no case apply (not in the future, not in the past).
    """

    event_dates: tuple[str, ...] = ()
    target_dates: tuple[str, ...] = ()
    # Event fields whose date may lie after the period end because the
    # service decides it (the person clock: only the final-referral talk,
    # refused otherwise with 409 and its own code and message).
    after_end_decided_by_service: tuple[str, ...] = ()
    dates: CaseDates | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        dates = self.dates or CaseDates(today=timezone.localdate())
        for names, problem in (
            (self.event_dates, event_date_problem),
            (self.target_dates, target_date_problem),
        ):
            for name in names:
                day = data.get(name)
                if day is not None and name in self.fields:
                    checked = dates
                    if name in self.after_end_decided_by_service:
                        checked = dataclasses.replace(dates, period_end=None)
                    message = problem(day, checked)
                    if message:
                        self.add_error(name, message)
        return data


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class QuickConsultationForm(CaseDateChecks, forms.Form):
    """One consultation in a few keystrokes: form, topics, duration; the
    date defaults to today, the participants to the client. The date
    follows the case's date rules (`CaseDateChecks`; the view sets `dates`)."""

    event_dates = ("held_on",)
    after_end_decided_by_service = ("held_on",)

    consultation_form = forms.ChoiceField(label=_("Form"), widget=forms.RadioSelect)
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one topic.")},
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Duration"),
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
    )
    other_minutes = forms.IntegerField(
        label=_("Other duration (minutes)"),
        required=False,
        min_value=1,
        max_value=MAX_MINUTES,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    participants = forms.TypedMultipleChoiceField(
        label=_("Who took part"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one participant.")},
    )
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=Consultation.Status.choices,
        initial=Consultation.Status.COMPLETED,
        widget=forms.RadioSelect,
    )
    interpreter = forms.CharField(
        label=_("Interpreter"),
        max_length=100,
        required=False,
        help_text=_("Language and kind, e.g. Arabic, by phone."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only what is needed for the work with the client."),
    )
    final_referral = forms.BooleanField(
        label=_("Talk for the final referral"),
        required=False,
        help_text=_(
            "The talk that prepares the handover to a regular service: the only consultation "
            "possible after the consultation period has ended."
        ),
    )

    def __init__(
        self,
        *args: Any,
        day: date,
        form_entries: list[CatalogueEntry],
        topic_entries: list[CatalogueEntry],
        members: list[HouseholdMembership],
        person: Any,
        usual_minutes: int | None = None,
        **kwargs: Any,
    ) -> None:
        minutes = usual_minutes if usual_minutes in DURATION_PRESETS else DEFAULT_MINUTES
        initial = {
            "held_on": day,
            "duration_minutes": minutes,
            "status": Consultation.Status.COMPLETED,
            "participants": [person.pk],
            **({"consultation_form": form_entries[0].key} if form_entries else {}),
            **kwargs.pop("initial", {}),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.day = day
        choice_field(self, "consultation_form").choices = [
            (e.key, catalogue_label(e)) for e in form_entries
        ]
        choice_field(self, "topics").choices = [(e.key, catalogue_label(e)) for e in topic_entries]
        choice_field(self, "duration_minutes").choices = [
            (minutes, _("%(n)d min") % {"n": minutes}) for minutes in DURATION_PRESETS
        ]
        self.fields["held_on"].widget.attrs["max"] = day.isoformat()
        people = {m.person_id: m for m in members}
        choices = [(person.pk, _person_label(person, people.get(person.pk)))]
        choices += [
            (m.person_id, _person_label(m.person, m)) for m in members if m.person_id != person.pk
        ]
        choice_field(self, "participants").choices = choices
        # With the client alone there is nothing to choose.
        self.family = len(choices) > 1
        if not self.family:
            self.fields["participants"].required = False
            self.fields["participants"].widget = forms.MultipleHiddenInput()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("other_minutes") is None and not data.get("duration_minutes"):
            self.add_error("duration_minutes", _("Choose a duration or enter the minutes."))
        return data

    def minutes(self) -> int:
        data = self.cleaned_data
        return int(data.get("other_minutes") or data["duration_minutes"])

    def consultation_args(self) -> dict[str, Any]:
        """The arguments of `cases.services.consultation_record`."""
        data = self.cleaned_data
        participants = data.get("participants") or []
        return {
            "held_on": data["held_on"],
            "duration_minutes": self.minutes(),
            "form": data["consultation_form"],
            "topics": data["topics"],
            # Several household members at one table: a family consultation.
            "setting": "family" if len(participants) > 1 else "individual",
            "participant_ids": participants,
            "status": data["status"],
            "interpreter": data["interpreter"],
            "notes": data["notes"],
            "final_referral": bool(data.get("final_referral")),
        }


def _person_label(person: Any, membership: HouseholdMembership | None) -> str:
    name = ", ".join(part for part in (person.family_name, person.given_names) if part)
    if membership is None:
        return name
    return f"{name} ({membership.get_relation_display()})"


class ExtensionRequestForm(forms.Form):
    """An extension request from the case page (the same fields as the
    guided check task; `extension_request_submit` checks every rule)."""

    reason = forms.ChoiceField(label=_("Reason"))
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=12, initial=12)
    justification = forms.CharField(
        label=_("Justification"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )

    def __init__(self, *args: Any, reasons: list[CatalogueEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["reason"])
        field.choices = [("", "—"), *[(entry.key, catalogue_label(entry)) for entry in reasons]]
