"""Writes of the case domain: the only place that moves a case.

Every function here is keyword-only, takes the acting user and `now`, runs
in one transaction, locks the case row first, checks access (404), the
actor's right (403) and the guards (409), changes only what it must and
writes exactly one audit event. Nothing leaves the database before commit.

One module per aggregate (docs/ARCHITECTURE.md has the map); this package
re-exports every public name, so `from cases import services` and
`from cases.services import X` keep working. The date rules live in
`cases.clock`, the errors and their messages in `cases.errors`.
"""

from audit.services import audit_event_record
from cases.clock import (
    add_months,
    extended_end_for,
    latest_end_for,
    local_date,
    no_contact_timeout_on,
    regular_end_for,
    retention_deadline,
)
from cases.errors import (
    MESSAGES,
    AlreadyDecided,
    ConcurrentChange,
    ExtensionRequestNotFound,
    GuardFailed,
    InvalidArguments,
    PeriodAlreadyExtended,
    PlanHasNoGoals,
    SelfApproval,
    TransitionForbidden,
    TransitionNotAvailable,
    UnknownTransition,
    guard,
)
from cases.selectors import AUDITOR, CaseNotFound, case_is_visible_to
from cases.services.appointment_outcomes import consultation_of_appointment_record
from cases.services.args import (
    EARLIEST_DATE,
    LATEST_DATE,
    _choice_arg,
    _date_arg,
    _entry,
    _full_clean,
    _not_in_future,
    _plausible,
    _text_arg,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _active_consent,
    _actor_role,
    _audit,
    _case_for_write,
    _consultation_recorded_after,
    _current_plan,
    _editable_plan,
    _goal_set_status,
    _lock_case,
    _plan_set_status,
    _require,
    _require_open,
    _save,
)
from cases.services.case import (
    case_create,
    case_handover_accept,
    case_owner_change,
    case_review_date_set,
)
from cases.services.consents import (
    EVIDENCE_TYPES,
    consent_evidence_attach,
    consent_record,
    consent_withdraw,
)
from cases.services.consultations import assessment_record, consultation_record
from cases.services.documents import (
    DocumentNotFound,
    cv_entry_add,
    cv_entry_remove,
    document_delete,
    document_download,
    document_upload,
)
from cases.services.erasure import case_anonymise
from cases.services.extensions import (
    ART9_REASONS,
    extension_request_approve,
    extension_request_reject,
    extension_request_submit,
    extension_request_withdraw,
)
from cases.services.network import network_contact_record
from cases.services.plans import goal_add, goal_update, measure_add, plan_new_version
from cases.services.referrals import referral_record, referral_update
from cases.services.steps import (
    case_assessment_to_plan,
    case_close,
    case_first_consultation,
    case_reopen,
    case_resume,
)
from cases.services.transitions import (
    NEEDS_FINAL_REFERRAL,
    SYSTEM_TRANSITIONS,
    TRANSITIONS,
    ClosingGround,
    Ctx,
    PauseReason,
    ReopenReason,
    Step,
    TransitionSpec,
    _pre_reopen,
    case_allowed_transitions,
    case_transition,
)
from config.errors import ApplicationError

_guard = guard
_local_date = local_date

__all__ = [
    "ART9_REASONS",
    "AUDITOR",
    "CONTENT_WRITERS",
    "EARLIEST_DATE",
    "EVIDENCE_TYPES",
    "LATEST_DATE",
    "MESSAGES",
    "NEEDS_FINAL_REFERRAL",
    "SYSTEM_TRANSITIONS",
    "TRANSITIONS",
    "AlreadyDecided",
    "ApplicationError",
    "CaseNotFound",
    "ClosingGround",
    "ConcurrentChange",
    "Ctx",
    "DocumentNotFound",
    "ExtensionRequestNotFound",
    "GuardFailed",
    "InvalidArguments",
    "PauseReason",
    "PeriodAlreadyExtended",
    "PlanHasNoGoals",
    "ReopenReason",
    "SelfApproval",
    "Step",
    "TransitionForbidden",
    "TransitionNotAvailable",
    "TransitionSpec",
    "UnknownTransition",
    "_active_consent",
    "_actor_role",
    "_audit",
    "_case_for_write",
    "_choice_arg",
    "_consultation_recorded_after",
    "_current_plan",
    "_date_arg",
    "_editable_plan",
    "_entry",
    "_full_clean",
    "_goal_set_status",
    "_guard",
    "_local_date",
    "_lock_case",
    "_not_in_future",
    "_plan_set_status",
    "_plausible",
    "_pre_reopen",
    "_require",
    "_require_open",
    "_save",
    "_text_arg",
    "add_months",
    "assessment_record",
    "audit_event_record",
    "case_allowed_transitions",
    "case_anonymise",
    "case_assessment_to_plan",
    "case_close",
    "case_create",
    "case_first_consultation",
    "case_handover_accept",
    "case_is_visible_to",
    "case_owner_change",
    "case_reopen",
    "case_resume",
    "case_review_date_set",
    "case_transition",
    "consent_evidence_attach",
    "consent_record",
    "consent_withdraw",
    "consultation_of_appointment_record",
    "consultation_record",
    "cv_entry_add",
    "cv_entry_remove",
    "document_delete",
    "document_download",
    "document_upload",
    "extended_end_for",
    "extension_request_approve",
    "extension_request_reject",
    "extension_request_submit",
    "extension_request_withdraw",
    "goal_add",
    "goal_update",
    "guard",
    "latest_end_for",
    "local_date",
    "measure_add",
    "network_contact_record",
    "no_contact_timeout_on",
    "plan_new_version",
    "referral_record",
    "referral_update",
    "regular_end_for",
    "retention_deadline",
]
