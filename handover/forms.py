"""Forms of the handover screens. They only shape input; the rules are in
`handover.services`, whose field errors are shown at the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, Role, User
from accounts.types import choice_field
from cases.dates import past_date_problem
from cases.models import Consent, HouseholdMembership, Person
from handover.models import ReturnReason


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class HandoverForm(forms.Form):
    """The handover itself; the persons come in `MemberFormSet`."""

    gemeinde_ags = forms.ChoiceField(label=_("Gemeinde"))
    au_allocation_date = forms.DateField(label=_("AU allocation date"), widget=DateInput())
    external_reference = forms.CharField(
        label=_("Your reference (optional)"), max_length=100, required=False
    )
    consent_given = forms.BooleanField(
        label=_("The person consented to the transfer of their data to the integration management"),
        required=False,
        help_text=_(
            "Without this consent only the name, the household, the Gemeinde and the "
            "allocation date are transmitted (the Aufnahmebehörde's allocation facts); "
            "everything else you enter below is discarded."
        ),
    )
    consent_form = forms.ChoiceField(
        label=_("Form of the consent"),
        choices=[("", "—"), *Consent.Form.choices],
        required=False,
    )
    consent_language = forms.CharField(
        label=_("Language of the information"), max_length=50, required=False
    )
    consent_interpreter = forms.CharField(label=_("Interpreter"), max_length=100, required=False)
    consent_given_on = forms.DateField(
        label=_("Consent given on"), widget=DateInput(), required=False
    )
    known_needs = forms.CharField(label=_("Known needs"), widget=forms.Textarea, required=False)
    open_matters = forms.CharField(label=_("Open matters"), widget=forms.Textarea, required=False)
    notes = forms.CharField(label=_("Handover notes"), widget=forms.Textarea, required=False)
    phone = forms.CharField(label=_("Phone of the household"), max_length=50, required=False)
    address = forms.CharField(label=_("Address (AU unit or flat)"), max_length=300, required=False)
    gu_facility = forms.CharField(
        label=_("GU (collective accommodation)"), max_length=200, required=False
    )
    gu_contact_name = forms.CharField(label=_("Your name (contact)"), max_length=200)
    gu_contact_phone = forms.CharField(label=_("Your phone"), max_length=50, required=False)
    gu_contact_email = forms.EmailField(label=_("Your e-mail"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        today = timezone.localdate()
        for name in ("au_allocation_date", "consent_given_on"):
            day = data.get(name)
            problem = past_date_problem(day, today=today) if day else None
            if problem:
                self.add_error(name, problem)
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        served = Gemeinde.objects.filter(traeger__isnull=False).distinct().order_by("name")
        choice_field(self, "gemeinde_ags").choices = [("", "—")] + [(g.ags, str(g)) for g in served]


CHOOSE = ("", _("— please choose —"))


class MemberForm(forms.Form):
    """One household member. Nothing is preset but the first row's relation
    (the contact person heads the household): a preset relation or sex was
    sent unread for every member."""

    relation = forms.ChoiceField(
        label=_("Relation"),
        choices=[CHOOSE, *HouseholdMembership.Relation.choices],
        required=False,
    )
    family_name = forms.CharField(label=_("Family name"), max_length=200, required=False)
    given_names = forms.CharField(label=_("Given names"), max_length=200, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput(), required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[CHOOSE, *Person.Sex.choices], required=False)
    nationality = forms.CharField(label=_("Nationality"), max_length=100, required=False)
    languages = forms.CharField(label=_("Languages"), max_length=200, required=False)
    authority_reference = forms.CharField(
        label=_("Authority reference"), max_length=100, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        index = str(self.prefix or "0").rsplit("-", 1)[-1]
        self.position = int(index) if index.isdigit() else 0
        if self.position == 0 and not self.is_bound:
            self.initial.setdefault("relation", HouseholdMembership.Relation.HEAD)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.position > 0 and data.get("family_name") and not data.get("relation"):
            self.add_error("relation", _("Please choose how this person relates to the contact."))
        return data


MemberFormSet = forms.formset_factory(MemberForm, extra=5, max_num=20)


class ReturnForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnReason.choices)
    note = forms.CharField(label=_("Note to the sender"), widget=forms.Textarea, required=False)


class AcceptForm(forms.Form):
    """Whom the case goes to, and per handed-over person new or linked."""

    assignee = forms.ChoiceField(label=_("Integration manager"), required=False)

    def __init__(
        self, *args: Any, actor: User, candidates: dict[int, list[Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        team = (
            User.objects.filter(
                team_id=actor.team_id, role=Role.INTEGRATION_MANAGER, is_active=True
            ).order_by("username")
            if actor.team_id
            else User.objects.none()
        )
        mine = [("", _("myself"))] if actor.role == Role.INTEGRATION_MANAGER else [("", "—")]
        choice_field(self, "assignee").choices = mine + [
            (str(u.pk), u.get_full_name() or u.username) for u in team if u.pk != actor.pk
        ]
        for member_id, found in candidates.items():
            if not found:
                continue
            self.fields[f"person_{member_id}"] = forms.ChoiceField(
                label=_("Known person?"),
                widget=forms.RadioSelect,
                choices=[("new", _("create a new person"))]
                + [
                    (
                        str(c.person.pk),
                        _("link to %(name)s, born %(born)s (no. %(pk)s)")
                        % {
                            "name": f"{c.person.family_name}, {c.person.given_names}",
                            "born": c.person.date_of_birth.strftime("%d.%m.%Y")
                            if c.person.date_of_birth
                            else "?",
                            "pk": c.person.pk,
                        },
                    )
                    for c in found
                ],
            )

    def offer_member_cases(self, members: list[Any]) -> None:
        """Further members may get a case of their own (adults; the service
        refuses minors)."""
        others = members[1:]
        if others:
            self.fields["member_cases"] = forms.TypedMultipleChoiceField(
                label=_("Further adults who get a case of their own"),
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=[(m.pk, f"{m.family_name}, {m.given_names}") for m in others],
            )

    def chosen_member_cases(self) -> list[int]:
        return list(self.cleaned_data.get("member_cases") or [])

    def persons(self) -> dict[int, int | None]:
        return {
            int(name.split("_", 1)[1]): None if value == "new" else int(value)
            for name, value in self.cleaned_data.items()
            if name.startswith("person_")
        }


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    dry_run = forms.BooleanField(label=_("Only check (dry run)"), required=False, initial=True)
