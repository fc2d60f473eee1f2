"""Forms of the intake without a handover and of the person and household
pages. They only shape input; the case services check every rule and the
views show their errors at the fields they name."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, Role, User
from cases.duplicates import HANDOVER, IntakeCandidate
from cases.forms import DateInput, catalogue_label
from cases.models import Case, Catalogue, CatalogueEntry, HouseholdMembership, Person

PERSON_ROWS = 5
NEW = "new"

CHANNELS = [
    (value, label)
    for value, label in Case.IntakeChannel.choices
    if value != Case.IntakeChannel.HANDOVER_FSA
]


class DecisionField(forms.ChoiceField):
    """The answer to the duplicate warning: "new" or a known person's id
    (the choices are offered only once the warning is shown; the service
    checks that the id is one of the candidates)."""

    def valid_value(self, value: Any) -> bool:
        return value == NEW or str(value).isdigit()


class IntakeForm(forms.Form):
    intake_channel = forms.ChoiceField(label=_("How the person came"), choices=CHANNELS)
    owner = forms.ModelChoiceField(
        label=_("Integration manager"), queryset=User.objects.none(), required=False
    )
    gemeinde = forms.ModelChoiceField(
        label=_("Gemeinde"), queryset=Gemeinde.objects.none(), required=False
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gemeinde_field = cast(forms.ModelChoiceField, self.fields["gemeinde"])
        gemeinde_field.queryset = Gemeinde.objects.filter(traeger=user.traeger_id).order_by("name")
        owner_field = cast(forms.ModelChoiceField, self.fields["owner"])
        if user.role == Role.SUPERVISOR and user.team_id is not None:
            owner_field.queryset = User.objects.filter(
                team_id=user.team_id, role=Role.INTEGRATION_MANAGER, is_active=True
            ).order_by("last_name", "username")
            owner_field.required = True
        else:
            del self.fields["owner"]


class DuplicateWarningForm(forms.Form):
    """A form that can offer the candidates of the duplicate check: its
    `decision` field (the known person or "someone else") is filled by
    `warn`; the waiting handovers are shown beside (`handover_candidates`)."""

    decision = DecisionField(
        label=_("Is this a person already known?"),
        required=False,
        widget=forms.RadioSelect,
        choices=[],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates: list[IntakeCandidate] = []
        self.fields["decision"] = self.fields.pop("decision")  # after the form's own fields

    def warn(self, candidates: list[IntakeCandidate]) -> None:
        """Offer the candidates of the duplicate check to decide on."""
        self.candidates = candidates
        field = cast(forms.ChoiceField, self.fields["decision"])
        field.choices = decision_choices(candidates)

    @property
    def handover_candidates(self) -> list[IntakeCandidate]:
        return [c for c in self.candidates if c.kind == HANDOVER]


class PersonRowForm(DuplicateWarningForm):
    """One person of the intake (the first is the contact person)."""

    family_name = forms.CharField(label=_("Family name"), max_length=200, required=False)
    given_names = forms.CharField(label=_("Given names"), max_length=200, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    sex = forms.ChoiceField(label=_("Sex"), choices=Person.Sex.choices, initial=Person.Sex.UNKNOWN)
    nationality = forms.CharField(label=_("Nationality"), max_length=100, required=False)
    languages = forms.CharField(label=_("Languages"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    relation = forms.ChoiceField(
        label=_("Relation in the household"),
        choices=HouseholdMembership.Relation.choices,
        initial=HouseholdMembership.Relation.HEAD,
    )
    opens_case = forms.BooleanField(label=_("Own case for this adult"), required=False)

    def __init__(self, *args: Any, index: int, **kwargs: Any) -> None:
        kwargs["prefix"] = f"p{index}"
        super().__init__(*args, **kwargs)
        self.index = index
        if index == 0:
            del self.fields["opens_case"]
        else:
            self.fields["relation"].initial = HouseholdMembership.Relation.CHILD

    def is_empty(self) -> bool:
        return not (self.cleaned_data.get("family_name") or "").strip()


def decision_choices(candidates: list[IntakeCandidate]) -> list[tuple[str, Any]]:
    """ "Yes, it is this known person" per known person, and "No, someone
    else" (persons in a waiting handover are shown beside, not linked)."""
    choices: list[tuple[str, Any]] = []
    for candidate in candidates:
        if candidate.kind == HANDOVER:
            continue
        born = candidate.date_of_birth.strftime("%d.%m.%Y") if candidate.date_of_birth else "–"
        choices.append(
            (
                str(candidate.object_id),
                _("Yes: %(name)s, born %(born)s (known person no. %(id)s)")
                % {
                    "name": f"{candidate.family_name}, {candidate.given_names}",
                    "born": born,
                    "id": candidate.object_id,
                },
            )
        )
    choices.append((NEW, _("No, someone else: register as a new person")))
    return choices


def person_rows(data: Any = None) -> list[PersonRowForm]:
    return [PersonRowForm(data, index=index) for index in range(PERSON_ROWS)]


def _catalogue_choices(catalogue: str) -> list[tuple[str, str]]:
    entries = CatalogueEntry.objects.filter(catalogue=catalogue, is_active=True).order_by(
        "order", "key"
    )
    return [("", "–"), *((entry.key, catalogue_label(entry)) for entry in entries)]


class PersonEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    family_name = forms.CharField(label=_("Family name"), max_length=200)
    given_names = forms.CharField(label=_("Given names"), max_length=200, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    nationality = forms.CharField(label=_("Nationality"), max_length=100, required=False)
    languages = forms.CharField(label=_("Languages"), max_length=200, required=False)
    literacy = forms.ChoiceField(label=_("Literacy"), choices=Person.Literacy.choices)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    residence_status = forms.ChoiceField(label=_("Residence status"), required=False)
    benefit_status = forms.ChoiceField(label=_("Benefit status"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        residence = cast(forms.ChoiceField, self.fields["residence_status"])
        benefit = cast(forms.ChoiceField, self.fields["benefit_status"])
        residence.choices = _catalogue_choices(Catalogue.RESIDENCE_STATUS)
        benefit.choices = _catalogue_choices(Catalogue.BENEFIT_STATUS)

    @staticmethod
    def initial_for(person: Person) -> dict[str, Any]:
        return {
            "version": person.version,
            "family_name": person.family_name,
            "given_names": person.given_names,
            "date_of_birth": person.date_of_birth,
            "nationality": person.nationality,
            "languages": person.languages,
            "literacy": person.literacy,
            "phone": person.phone,
            "address": person.address,
            "residence_status": person.residence_status.key if person.residence_status else "",
            "benefit_status": person.benefit_status.key if person.benefit_status else "",
        }


class HouseholdEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    address = forms.CharField(label=_("Address of the household"), max_length=300, required=False)


class MemberAddForm(DuplicateWarningForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    family_name = forms.CharField(label=_("Family name"), max_length=200)
    given_names = forms.CharField(label=_("Given names"), max_length=200, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    sex = forms.ChoiceField(label=_("Sex"), choices=Person.Sex.choices, initial=Person.Sex.UNKNOWN)
    relation = forms.ChoiceField(
        label=_("Relation in the household"),
        choices=HouseholdMembership.Relation.choices,
        initial=HouseholdMembership.Relation.CHILD,
    )


class MemberRelationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    relation = forms.ChoiceField(
        label=_("Relation in the household"), choices=HouseholdMembership.Relation.choices
    )


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
