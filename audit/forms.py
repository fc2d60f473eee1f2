"""Filters of the auditor's pages (GET forms)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.types import choice_field
from audit.selectors import KIND_EDIT, KIND_READ, KIND_TASK, KIND_TRANSITION

KIND_CHOICES = [
    ("", _("all")),
    (KIND_TRANSITION, _("status changes")),
    (KIND_EDIT, _("edits")),
    (KIND_TASK, _("task events")),
    (KIND_READ, _("read accesses")),
]
DEFAULT_DAYS = 365
MAX_ID = 2**63 - 1


def day_start(day: date) -> datetime:
    """Return the start of `day` in Lotse's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class PeriodForm(forms.Form):
    von = forms.DateField(
        label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    bis = forms.DateField(
        label=_("until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("von"), data.get("bis")
        if since and until and until < since:
            self.add_error("bis", _("The end lies before the start."))
        for name in ("von", "bis"):
            day = data.get(name)
            if day and not date(2000, 1, 1) <= day <= date(2100, 12, 31):
                self.add_error(name, _("Choose a date between 2000 and 2100."))
        return data

    def period(self, *, today: date, default_days: int | None = DEFAULT_DAYS) -> tuple[Any, Any]:
        """Return [since, until) as aware datetimes (None: open)."""
        since_day = self.cleaned_data.get("von")
        until_day = self.cleaned_data.get("bis")
        if since_day is None and default_days is not None:
            since_day = (until_day or today) - timedelta(days=default_days)
        if until_day is None and default_days is not None:
            until_day = today
        since = day_start(since_day) if since_day else None
        until = day_start(until_day + timedelta(days=1)) if until_day else None
        return since, until


class TimelineForm(PeriodForm):
    art = forms.ChoiceField(label=_("kind"), choices=KIND_CHOICES, required=False)
    person = forms.TypedChoiceField(
        label=_("who"), coerce=int, required=False, empty_value=None, choices=[]
    )

    def __init__(self, *args: Any, actors: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "person").choices = [("", _("everyone")), *actors]


class CaseAccessForm(PeriodForm):
    fall = forms.IntegerField(label=_("case number"), min_value=1, max_value=MAX_ID)


class UserAccessForm(PeriodForm):
    nutzer = forms.TypedChoiceField(label=_("user"), coerce=int, choices=[])

    def __init__(self, *args: Any, users: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "nutzer").choices = [("", "–"), *users]
