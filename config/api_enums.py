"""The API's spelling of stored codes (shared/docs/API.md: keys are snake_case).

Lotse stores its enum codes in upper case (`SIGNED_PAPER`, `REGISTERED`):
templates, forms, reports' SQL and fixtures use them. The API speaks the
contract instead: `signed_paper`, `registered`. The mapping lives here and
only here, at the API's edge, so request bodies, filter parameters,
responses and the OpenAPI schema all use one spelling while the stored
values stay as they are:

- `EnumField` for every enum in a serializer (input and output);
- `ContractModelSerializer`, whose model fields with choices become
  `EnumField`s;
- `EnumFilter` for list filters (`?status=registered`);
- `CodeField` and `spell_codes` for codes inside free code strings (audit
  reasons, report rows).

The contract spelling is the stored value in lower case, unless a
`spelling` names another (DOMAIN.md's `im` for the integration manager as a
step's responsible party). The old upper-case spelling is refused with a
400 that names the contract's spelling and lists the allowed values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import django_filters
from django.utils.functional import lazy
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def snake(value: str) -> str:
    """The contract's spelling of a stored upper-case code (others unchanged)."""
    return value.lower() if CODE.fullmatch(value) else value


class Spelling:
    """Both directions between the stored values of one enum and the API's."""

    def __init__(self, choices: Any, spelling: Mapping[str, str] | None = None) -> None:
        if isinstance(choices, type) and hasattr(choices, "choices"):
            choices = choices.choices
        pairs = [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in choices]
        spelling = spelling or {}
        self.to_api = {str(v): spelling.get(str(v), snake(str(v))) for v, _label in pairs}
        self.to_stored = {api: stored for stored, api in self.to_api.items()}
        self.choices = [(self.to_api[str(v)], label) for v, label in pairs]
        self.values = [api for api, _label in self.choices]

    def api(self, stored: Any) -> Any:
        if stored in ("", None):
            return stored
        return self.to_api.get(str(stored), snake(str(stored)))


def api_choices(choices: Any, spelling: Mapping[str, str] | None = None) -> list[tuple[str, Any]]:
    """`choices` as the API spells them, for `SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]`."""
    return Spelling(choices, spelling).choices


REFUSAL = _("“%(value)s” is not an allowed value. Allowed: %(allowed)s.")


def _refusal(allowed: Iterable[str], placeholder: str) -> Any:
    """The refusal of a value that is not one of `allowed`, translated when
    shown; `placeholder` is where the refused value goes (DRF: `{input}`,
    Django forms: `%(value)s`)."""
    listed = ", ".join(allowed)

    def message() -> str:
        return str(REFUSAL).replace("%(allowed)s", listed).replace("%(value)s", placeholder)

    return lazy(message, str)()


class EnumField(serializers.ChoiceField):
    """A stored enum in the contract's spelling: takes the API value and
    gives the stored one as input; shows the API value in output and schema.
    `exclude` leaves stored values out of what a request may send."""

    def __init__(
        self,
        choices: Any,
        *,
        spelling: Mapping[str, str] | None = None,
        exclude: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        self.spelling = Spelling(choices, spelling)
        excluded = set(exclude)
        allowed = [
            (api, label)
            for api, label in self.spelling.choices
            if self.spelling.to_stored[api] not in excluded
        ]
        messages = {"invalid_choice": _refusal([api for api, _label in allowed], "{input}")}
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(choices=allowed, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return self.spelling.to_stored[super().to_internal_value(data)]

    def to_representation(self, value: Any) -> Any:
        return self.spelling.api(value)


class CodeField(serializers.CharField):
    """A string that may hold a stored code (an audit reason, a task's
    status): upper-case codes are shown in the contract's spelling."""

    def to_representation(self, value: Any) -> str:
        return snake(str(value))


def spell_codes(data: Any, fields: frozenset[str] = frozenset({"key"})) -> Any:
    """`data` (nested dicts and lists) with the codes under `fields` spelled
    as the API spells them (report rows: `{"key": "ACTIVE", ...}`)."""
    if isinstance(data, dict):
        return {
            key: snake(value)
            if key in fields and isinstance(value, str)
            else spell_codes(value, fields)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [spell_codes(item, fields) for item in data]
    return data


class ContractModelSerializer(serializers.ModelSerializer):
    """A model serializer whose fields with choices speak the contract."""

    serializer_choice_field = EnumField


class EnumFilter(django_filters.ChoiceFilter):
    """A list filter on a stored enum, given in the contract's spelling."""

    def __init__(
        self, *args: Any, enum: Any, spelling: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        self.spelling = Spelling(enum, spelling)
        kwargs.setdefault(
            "error_messages", {"invalid_choice": _refusal(self.spelling.values, "%(value)s")}
        )
        super().__init__(*args, choices=self.spelling.choices, **kwargs)

    def filter(self, qs: Any, value: Any) -> Any:
        if value in self.spelling.to_stored:
            value = self.spelling.to_stored[value]
        return super().filter(qs, value)


# The enum components named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]:
# each name resolves (`config.api_enums.<name>`) to a callable giving the
# API's choices, so the component carries the contract's values.
NAMED_ENUMS = {
    "CaseStatusEnum": "cases.models.CaseStatus",
    "ConsultationStatusEnum": "cases.models.Consultation.Status",
    "ExtensionStatusEnum": "cases.models.ExtensionStatus",
    "GoalStatusEnum": "cases.models.GoalStatus",
    "ConsentFormEnum": "cases.models.Consent.Form",
    "ConsentLegalBasisEnum": "cases.models.Consent.LegalBasis",
    "ConsentGivenByEnum": "cases.models.Consent.GivenBy",
    "ConsentWithdrawalChannelEnum": "cases.models.Consent.WithdrawalChannel",
    "HandoverStatusEnum": "handover.models.HandoverStatus",
    "ReturnReasonEnum": "handover.models.ReturnReason",
    "ClockFactSourceEnum": "cases.models.PersonClockFact.Source",
    "DocumentKindEnum": "cases.models.Document.Kind",
    "CvEntryKindEnum": "cases.models.CvEntry.Kind",
    "IntakeChannelEnum": "cases.models.Case.IntakeChannel",
}


def _resolve(path: str) -> Any:
    """Import `app.models.Class` or `app.models.Class.Inner`."""
    module, _dot, names = path.partition(".models.")
    first, *inner = names.split(".")
    found = import_string(f"{module}.models.{first}")
    for name in inner:
        found = getattr(found, name)
    return found


def __getattr__(name: str) -> Any:
    if name in NAMED_ENUMS:
        source = NAMED_ENUMS[name]
        return lambda: api_choices(_resolve(source))
    raise AttributeError(name)
