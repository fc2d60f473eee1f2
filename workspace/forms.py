"""The filter forms of the case lists (GET parameters, all optional)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.types import choice_field
from cases.models import OPEN_STATES, CaseStatus
from workspace import selectors as s

ANY = ("", _("any"))


class CaseFilterForm(forms.Form):
    """Search, filters, sort order and page of a case list.

    The choices of Gemeinde (and manager) come from the caller, read once
    per page, so that validating and drawing the form costs no query.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name or case number"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    review = forms.ChoiceField(
        label=_("Plan review"),
        required=False,
    )
    ending = forms.TypedChoiceField(
        label=_("Period ends"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[ANY, (30, _("within 30 days")), (90, _("within 90 days"))],
    )
    gemeinde = forms.TypedChoiceField(
        label=_("Gemeinde"), required=False, coerce=int, empty_value=None
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            (s.SORT_DEADLINE, _("next deadline first")),
            (s.SORT_DEADLINE_DESC, _("next deadline last")),
            (s.SORT_NUMBER_DESC, _("newest case first")),
            (s.SORT_NUMBER, _("oldest case first")),
        ],
    )
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=10**6)

    names_searchable = True

    def __init__(self, *args: Any, gemeinden: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = self.status_choices()
        days = settings.LOTSE_REVIEW_REMINDER_DAYS
        choice_field(self, "review").choices = [
            ANY,
            (s.REVIEW_DUE, _("due within %(days)s days") % {"days": days}),
            (s.REVIEW_OVERDUE, _("overdue")),
        ]
        choice_field(self, "gemeinde").choices = [ANY, *gemeinden]
        if not self.names_searchable:
            self.fields["q"].help_text = _("Case number")

    def status_choices(self) -> list[tuple[str, Any]]:
        shown = [state for state in CaseStatus if state != CaseStatus.DELETED]
        return [
            (s.STATUS_OPEN, _("all open cases")),
            *[(state.value, state.label) for state in shown],
            (s.STATUS_ALL, _("all cases")),
        ]

    def clean_q(self) -> str:
        text = " ".join(self.cleaned_data["q"].split())
        if not self.names_searchable and any(
            not s.CASE_NUMBER.fullmatch(term) for term in text.split()
        ):
            raise forms.ValidationError(
                _("Search by case number here; client names are not shown in this list.")
            )
        return text

    def filters(self) -> s.CaseFilters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        return s.CaseFilters(
            status=data["status"] or s.STATUS_OPEN,
            review=data["review"],
            ending=data["ending"],
            gemeinde=data["gemeinde"],
            owner=data.get("owner"),
            q=data["q"],
            sort=data["sort"] or s.SORT_DEADLINE,
        )

    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1

    def is_filtered(self) -> bool:
        """Whether anything beyond the default view was asked for."""
        data = self.cleaned_data
        return bool(
            data["q"]
            or data["review"]
            or data["ending"]
            or data["gemeinde"]
            or data.get("owner")
            or data["status"] not in ("", s.STATUS_OPEN)
        )


class TeamFilterForm(CaseFilterForm):
    """The supervisor's team list: open cases only, by manager, no names."""

    owner = forms.TypedChoiceField(
        label=_("Integration manager"), required=False, coerce=int, empty_value=None
    )
    field_order = ["q", "status", "review", "ending", "gemeinde", "owner", "sort"]
    names_searchable = False

    def __init__(
        self,
        *args: Any,
        managers: list[tuple[int, str]],
        gemeinden: list[tuple[int, str]],
        **kw: Any,
    ) -> None:
        super().__init__(*args, gemeinden=gemeinden, **kw)
        choice_field(self, "owner").choices = [ANY, *managers]

    def status_choices(self) -> list[tuple[str, Any]]:
        return [
            (s.STATUS_OPEN, _("all open cases")),
            *[(state.value, state.label) for state in OPEN_STATES],
        ]
