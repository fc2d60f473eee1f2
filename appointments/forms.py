"""Forms of the appointment pages (shape only; the services check)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.types import choice_field
from cases.forms import DateInput, catalogue_label
from cases.models import CatalogueEntry


class AppointmentForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(
        label=_("Time of day"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=720, initial=45
    )
    form = forms.ChoiceField(label=_("Form"))
    topic = forms.ChoiceField(label=_("Topic"))
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        required=False,
        help_text=_("Printed in the letter to the client, not in the calendar feed."),
    )
    interpreter = forms.CharField(label=_("Interpreter"), max_length=100, required=False)

    def __init__(
        self,
        *args: Any,
        form_entries: list[CatalogueEntry],
        topic_entries: list[CatalogueEntry],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "form").choices = [(e.key, catalogue_label(e)) for e in form_entries]
        choice_field(self, "topic").choices = [(e.key, catalogue_label(e)) for e in topic_entries]
        self.fields["day"].widget.attrs["min"] = timezone.localdate().isoformat()

    def plan_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "starts_at": timezone.make_aware(datetime.combine(data["day"], data["time"])),
            "duration_minutes": data["duration_minutes"],
            "form": data["form"],
            "topic": data["topic"],
            "place": data["place"],
            "interpreter": data["interpreter"],
        }
