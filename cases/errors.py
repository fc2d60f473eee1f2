"""Errors of the case domain and their messages (German from the de catalogue).

Every case service raises these; `cases.services` re-exports them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, Forbidden, InvalidInput, NotFound


class GuardFailed(Conflict):
    """A guard of DOMAIN.md §14.1 refuses the transition now (409)."""


class PlanHasNoGoals(GuardFailed):
    default_code = "plan_has_no_goals"


class PeriodAlreadyExtended(GuardFailed):
    default_code = "period_already_extended"


class SelfApproval(GuardFailed):
    default_code = "self_approval"


class AlreadyDecided(Conflict):
    default_code = "already_decided"


class ConcurrentChange(Conflict):
    default_code = "concurrent_change"


class TransitionNotAvailable(Conflict):
    default_code = "transition_not_allowed"


class TransitionForbidden(Forbidden):
    default_code = "forbidden"


class UnknownTransition(NotFound):
    default_code = "unknown_transition"


class InvalidArguments(InvalidInput):
    default_code = "invalid"


class ExtensionRequestNotFound(NotFound):
    default_code = "not_found"


class PersonNotFound(NotFound):
    default_code = "not_found"


# German texts come from the de catalogue; the msgids stay English.
MESSAGES: dict[str, Any] = {
    "not_eligible": _(
        "The person is not eligible: Anschlussunterbringung (§§ 17, 18 FlüAG) or "
        "displacement from Ukraine and a qualifying benefit are required."
    ),
    "consent_missing": _("There is no active consent for processing this case."),
    "consultation_missing": _("A completed consultation must be recorded first."),
    "assessment_missing": _("The needs assessment must rate at least one field of action."),
    "plan_has_no_goals": _("The Integrationsplan has no goals yet."),
    "goal_incomplete": _(
        "Every goal needs a field of action, a wording, a success criterion and a target date."
    ),
    "goal_after_period_end": _(
        "A goal's target date lies after the end of the consultation period."
    ),
    "plan_has_no_measures": _(
        "The Integrationsplan needs at least one step with a responsible party."
    ),
    "no_current_plan": _("The case has no Integrationsplan in draft."),
    "no_agreed_plan": _("The case has no agreed Integrationsplan to review."),
    "goals_not_final": _(
        "Every goal needs a final status (achieved, partly, not achieved, dropped)."
    ),
    "final_referral_missing": _(
        "Closing for this reason needs a final referral to a regular service or the statement "
        "that there is no further need."
    ),
    "referrals_open": _("Some referrals still have no outcome."),
    "period_not_expired": _("The consultation period has not ended yet."),
    "period_ended": _("The consultation period has ended."),
    "period_not_started": _("The consultation period has not started yet."),
    "no_show_deadline_not_reached": _("The deadline for a first consultation has not passed yet."),
    "contact_within_deadline": _("There was a consultation within the no-contact deadline."),
    "reopen_not_allowed": _("A case closed for this reason cannot be reopened."),
    "retention_not_elapsed": _("The retention period has not elapsed yet."),
    "legal_hold": _("The case is on legal hold and must not be deleted."),
    "case_not_open": _("The case is not open."),
    "period_already_extended": _("The consultation period has already been extended once."),
    "art9_consent_missing": _(
        "This reason concerns health data: an explicit consent under Art. 9 DSGVO is needed."
    ),
    "self_approval": _("You cannot decide your own request (four-eyes principle)."),
    "already_decided": _("This request has already been decided or withdrawn."),
    "concurrent_change": _(
        "Someone else changed this case at the same time. Please reload and try again."
    ),
    "transition_not_allowed": _("This step is not possible in the case's current state."),
    "forbidden": _("Your role may not take this step."),
    "system_only": _("Only the system takes this step, when its deadline has passed."),
    "unknown_transition": _("There is no such step."),
    "open_case_exists": _("The person already has an open case in this programme."),
    "request_open": _("There is already an open extension request for this case."),
    "handover_not_open": _("There is no handover waiting to be accepted for this case."),
    "period_ended_consultation": _(
        "The person's consultation period ended before this date: only the talk for the final "
        "referral can still be recorded."
    ),
    "extension_pending": _(
        "An extension request submitted in time waits for its decision; the case stays open "
        "until then."
    ),
    "clock_start_not_earlier": _(
        "A start known from elsewhere may only move the start of the person's consultation "
        "period earlier."
    ),
    "transfer_consent_missing": _(
        "Passing data on to another service needs the client's consent to the transfer. "
        "Record that consent first."
    ),
    "plan_change_pending": _(
        "A change of the Integrationsplan waits for the client's agreement; agree or discard "
        "it first."
    ),
    "no_plan_change": _("There is no drafted plan waiting for agreement in this case."),
    "plan_not_declined": _("The client has not declined the plan; use the usual plan steps."),
    "anonymous_not_allowed": _(
        "Anonymous counselling is only possible before the first consultation, in a case "
        "without an Integrationsplan and without a person's consent on record."
    ),
    "legal_hold_unchanged": _("The legal hold is already in this state."),
    "consent_not_withdrawn": _("This consent has not been withdrawn."),
    "erasure_not_allowed": _(
        "Immediate erasure needs a closed case whose processing consent was withdrawn and "
        "no other legal basis."
    ),
    "already_cancelled": _("This entry has already been cancelled."),
    "nothing_to_correct": _("Nothing was changed."),
}


def guard(code: str, cls: type[GuardFailed] = GuardFailed) -> GuardFailed:
    """Return the guard error `code` with its message (raise it)."""
    return cls(MESSAGES[code], code=code)
