"""Forms of the transfer screens (German labels through i18n)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.forms_people import NEW, DuplicateWarningForm
from cases.services import TransferReason


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.username
        team = obj.team.name if obj.team_id else ""
        traeger = obj.traeger.name if obj.traeger_id else ""
        return " · ".join(part for part in (name, team, traeger) if part)


class TransferForm(forms.Form):
    owner = ManagerChoiceField(
        queryset=User.objects.none(),
        label=_("New integration manager"),
        help_text=_(
            "A manager of another Träger takes the case only with the person's transfer consent."
        ),
    )
    reason = forms.ChoiceField(
        label=_("Reason for the handover"), choices=TransferReason.choices, initial="OTHER"
    )

    def __init__(self, *args: Any, owners: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners


class LeavingManagerForm(forms.Form):
    manager = ManagerChoiceField(
        queryset=User.objects.none(), label=_("Whose cases are to be reassigned?")
    )

    def __init__(self, *args: Any, managers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["manager"]).queryset = managers


class ReassignForm(forms.Form):
    SCOPES = [("alle", _("all cases of this manager")), ("auswahl", _("only the cases ticked"))]

    scope = forms.ChoiceField(
        label=_("Which cases"), choices=SCOPES, widget=forms.RadioSelect, initial="alle"
    )
    case_ids = forms.MultipleChoiceField(
        label=_("Cases"), required=False, widget=forms.CheckboxSelectMultiple
    )
    owner = ManagerChoiceField(queryset=User.objects.none(), label=_("New integration manager"))
    reason = forms.ChoiceField(
        label=_("Reason for the handover"), choices=TransferReason.choices, initial="LEAVING"
    )

    def __init__(
        self, *args: Any, owners: QuerySet[User], case_choices: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners
        cast(forms.ChoiceField, self.fields["case_ids"]).choices = case_choices

    def selected_ids(self) -> list[str] | None:
        return None if self.cleaned_data["scope"] == "alle" else self.cleaned_data["case_ids"]


class ExportForm(forms.Form):
    target = forms.ChoiceField(label=_("Receiving Lotse installation"))

    def __init__(self, *args: Any, targets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target"]).choices = [(t, t) for t in targets]


class ImportForm(DuplicateWarningForm):
    """The package upload; after a duplicate warning also the answer
    (`decision`: a known person's id or "new"), while the file waits in the
    session (`pending`, its token)."""

    file = forms.FileField(label=_("Transfer package (.json)"), required=False)
    owner = ManagerChoiceField(
        queryset=User.objects.none(), label=_("Integration manager of the case")
    )
    pending = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, owners: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners
        if owners.count() == 1:
            self.fields["owner"].initial = owners.first()

    def decided(self) -> dict[str, Any]:
        """The answer as the service's arguments (empty: none given)."""
        choice = self.cleaned_data.get("decision") or ""
        if choice == NEW:
            return {"not_known": True}
        if choice.isdigit():
            return {"known_person_id": int(choice)}
        return {}
