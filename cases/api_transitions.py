"""The arguments of each case transition, as the API takes them.

`POST /api/v1/cases/{id}/transitions/{name}/` (API.md) fires transition
`name`; its body is checked by the serializer registered here under that
name before the service sees it: snake_case values (config/api_enums.py),
known keys only, the right types. The rules (guards, dates against the
case's clock, catalogue entries valid today) stay in `cases.services`.

The OpenAPI schema shows one path per transition, each with its own request
component (`expand_transition_paths`, a drf-spectacular preprocessing hook);
the system's transitions (`no_show_timeout`, ...) are not in it: through the
API they are 403.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from cases import services
from cases.api_fields import StrictBooleanField, StrictCharField, StrictIntegerField
from cases.models import Case, Consent, GoalStatus, IntegrationPlan, NeedLevel
from cases.selectors import MAX_PK, case_relations
from config.api_enums import EnumField


class TransitionArguments(serializers.Serializer):
    """Refuses keys the transition does not take (never silently dropped)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("Not an argument of this transition.")] for key in unknown}
                )
        return super().to_internal_value(data)


class NoArguments(TransitionArguments):
    """This transition takes no arguments (send `{}`)."""


class RecordFirstConsultationArguments(TransitionArguments):
    """Erstberatung erfassen: Zielgruppe geprüft, erste Beratung (ihre id)."""

    consultation_id = StrictIntegerField(
        min_value=1,
        max_value=MAX_PK,
        help_text="Die erste Beratung (vorher über /consultations/ erfasst, Status completed).",
    )
    eligibility_basis = EnumField(
        Case.EligibilityBasis, help_text="Grundlage der Zugehörigkeit zur Zielgruppe."
    )
    benefit_status = StrictCharField(
        max_length=50, help_text="Leistungsbezug: Schlüssel des Katalogs benefit_status."
    )
    obliged_to_leave = StrictBooleanField(required=False, help_text="Ausreisepflichtig.")


class RejectIneligibleArguments(TransitionArguments):
    """Nicht aufnehmen, mit Grund."""

    reason = EnumField(
        Case.RejectionReason,
        exclude=[Case.RejectionReason.NO_SHOW],
        help_text="Warum der Fall nicht aufgenommen wird.",
    )


class AgreePlanArguments(TransitionArguments):
    """Integrationsplan vereinbaren: wie, in welcher Sprache, nächste Überprüfung."""

    agreement_form = EnumField(
        IntegrationPlan.AgreementForm, help_text="Wie der Plan vereinbart wurde."
    )
    agreement_language = StrictCharField(max_length=50, help_text="Sprache der Vereinbarung.")
    interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)
    copy_handed_over = StrictBooleanField(required=False)
    next_review_at = serializers.DateField(
        required=False, help_text="Nächste Überprüfung (Standard: in LOTSE_REVIEW_MONTHS Monaten)."
    )


class DeclinePlanArguments(TransitionArguments):
    """Die Person lehnt einen schriftlichen Plan ab; die Beratung geht weiter."""

    reason = StrictCharField(max_length=300, help_text="Warum die Person keinen Plan möchte.")


class GoalUpdate(serializers.Serializer):
    """Neuer Status eines Ziels des Plans."""

    goal_id = StrictIntegerField(min_value=1, max_value=MAX_PK)
    status = EnumField(GoalStatus)


class NeedRating(serializers.Serializer):
    """Bedarf eines Handlungsfelds bei der erneuten Bedarfsermittlung."""

    field_of_action = StrictCharField(max_length=50, help_text="Schlüssel des Handlungsfelds.")
    need_level = EnumField(NeedLevel)
    situation = StrictCharField(max_length=5000, required=False, allow_blank=True)


class ReviewPlanArguments(TransitionArguments):
    """Plan überprüfen: neue Fassung, Stand der Ziele, nächste Überprüfung."""

    reviewed_on = serializers.DateField(required=False, help_text="Standard: heute.")
    next_review_at = serializers.DateField(required=False)
    # DRF passes max_length to the ListSerializer of many=True; the stubs do not know it.
    goal_updates = GoalUpdate(many=True, required=False, max_length=100)  # type: ignore[call-arg]
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)
    participants = StrictCharField(max_length=200, required=False, allow_blank=True)
    # The re-assessment of needs at the review (issue 20).
    assessment = NeedRating(many=True, required=False, max_length=30)  # type: ignore[call-arg]


class PauseArguments(TransitionArguments):
    """Fall ruhen lassen, mit Grund."""

    reason = EnumField(services.PauseReason.values, help_text="Warum der Fall ruht.")


class StartClosingArguments(TransitionArguments):
    """Abschluss einleiten, mit Anlass."""

    ground = EnumField(services.ClosingGround.values, help_text="Anlass des Abschlusses.")


class CloseArguments(TransitionArguments):
    """Fall abschließen, mit Abschlussgrund."""

    closure_reason = StrictCharField(
        max_length=50, help_text="Abschlussgrund: Schlüssel des Katalogs closure_reason."
    )
    no_further_need = StrictBooleanField(
        required=False, help_text="Keine Verweisung nötig (kein weiterer Bedarf)."
    )


class WithdrawConsentArguments(TransitionArguments):
    """Einwilligung in die Fallbearbeitung widerrufen: der Fall wird geschlossen."""

    channel = EnumField(Consent.WithdrawalChannel, help_text="Wie der Widerruf erklärt wurde.")


class ReopenArguments(TransitionArguments):
    """Geschlossenen Fall innerhalb des Beratungszeitraums wieder öffnen."""

    reason = EnumField(services.ReopenReason.values, help_text="Warum der Fall wieder öffnet.")


# The transitions a person may fire through the API, with their arguments.
TRANSITION_ARGUMENTS: dict[str, type[TransitionArguments]] = {
    "record_first_consultation": RecordFirstConsultationArguments,
    "reject_ineligible": RejectIneligibleArguments,
    "draft_plan": NoArguments,
    "agree_plan": AgreePlanArguments,
    "decline_plan": DeclinePlanArguments,
    "review_plan": ReviewPlanArguments,
    "pause": PauseArguments,
    "resume": NoArguments,
    "start_closing": StartClosingArguments,
    "close": CloseArguments,
    "withdraw_consent": WithdrawConsentArguments,
    "reopen": ReopenArguments,
}


def transition_arguments(
    *, case: Case, name: str, actor: Any, now: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The checked arguments of transition `name`, in stored values; nothing
    for a name the API does not fire (the service then answers 404 or 403).

    Bad input is 400, unless the caller may not fire this transition on this
    case at all: that stays 403 whatever the body says.
    """
    serializer_class = TRANSITION_ARGUMENTS.get(name)
    if serializer_class is None:
        return {}
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        who = services.TRANSITIONS[name].who
        if not case_relations(user=actor, case=case, now=now) & who:
            raise services.TransitionForbidden(services.MESSAGES["forbidden"])
        raise serializers.ValidationError(serializer.errors)
    arguments = dict(serializer.validated_data)
    if "goal_updates" in arguments:
        arguments["goal_updates"] = [dict(update) for update in arguments["goal_updates"]]
    if "assessment" in arguments:
        arguments["assessment"] = [dict(rating) for rating in arguments["assessment"]]
    return arguments


# --- schema: one path per transition -------------------------------------------

NAME_PARAMETER = re.compile(r"\(\?P<name>[^)]*\)")


def _transition_view(name: str, arguments: type[TransitionArguments]) -> Any:
    from cases.api import CASE_ERRORS, CaseDetailOut, CaseTransitionView

    @extend_schema(
        request=arguments,
        responses={200: CaseDetailOut, **CASE_ERRORS},
        operation_id=f"cases_transitions_{name}",
        summary=f"Fire `{name}`",
        description=f"Fire the transition `{name}` (DOMAIN.md §14.1); 200 with the case. "
        "A guard that refuses it is 409 with the guard's code.",
    )
    def post(self: Any, request: Any, case_id: int, **kwargs: Any) -> Any:
        return CaseTransitionView.post(self, request, case_id, name)

    camel = "".join(part.title() for part in name.split("_"))
    view: Any = type(f"{camel}TransitionView", (CaseTransitionView,), {"post": post})
    return view.as_view()


def refuse_unknown_arguments(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Declare what the serializers enforce: a transition takes only its
    own arguments (`additionalProperties: false`)."""
    names = {f"{arguments.__name__}Request" for arguments in TRANSITION_ARGUMENTS.values()}
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in names:
            component["additionalProperties"] = False
    return result


def expand_transition_paths(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """Show `/cases/{case_id}/transitions/{name}/` as one path per
    transition, each with its arguments' schema."""
    expanded = []
    for path, path_regex, method, callback in endpoints:
        if "{name}" not in path or "/transitions/" not in path:
            expanded.append((path, path_regex, method, callback))
            continue
        for name, arguments in TRANSITION_ARGUMENTS.items():
            expanded.append(
                (
                    path.replace("{name}", name),
                    NAME_PARAMETER.sub(name, path_regex),
                    method,
                    _transition_view(name, arguments),
                )
            )
    return expanded
