"""The authorisation matrix: every URL pattern, who may use it, and how.

One entry per URL pattern (its full name with namespaces, or namespace plus
route for an unnamed pattern; a key ending in ":" covers a whole namespace). The
test `tests/config/test_access_matrix.py` resolves the whole URLconf and
fails for a pattern no entry covers, and for an entry that covers nothing.
Adding a route is adding one entry here.

Kinds of route:
- PUBLIC: anyone, signed in or not (sign-in, health check).
- SIGNED_IN: any signed-in user; shows only the user's own rows.
- ROLE: only the listed roles; everyone else signed in gets 404.
- CASE: names a case (directly or through an object of it). Outcome by the
  caller's role and relation to the case, `CASE_OUTCOMES` below; anything
  not listed is 404 (never 403 for a case one may not see).
- OBJECT: names an object that is not a case (a handover, a notification, a
  report unit); that object's own scope decides (the sender, the Gemeinde's
  Träger, the recipient, the units of one's role), everyone else gets 404.
- ADMIN: Django's admin, staff only (Lotse's case roles are not staff).
- NOT_FOUND: answers 404 for everyone (the API's catch-all).

`tested_in` names the module whose tests prove the entry's cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import Role

PUBLIC = "public"
SIGNED_IN = "signed_in"
ROLE = "role"
CASE = "case"
ADMIN = "admin"
OBJECT = "object"
NOT_FOUND = "not_found"

# Relations of a caller to a case (DOMAIN.md §14.6).
OWN = "own"
DEPUTISED = "deputised"
SAME_TEAM = "same_team"
OTHER_TEAM = "other_team"
APPROVAL_TASK = "approval_task"
SAME_TRAEGER = "same_traeger"
# A case of one's own (or deputised, or of one's team, or Träger) that is
# restricted: closed or rejected and no longer reopenable (DOMAIN.md §14.5,
# `cases.selectors.restricted_q`; tests/cases/test_restriction.py).
ARCHIVED = "archived"
SAME_KREIS = "same_kreis"
RELATIONS = (
    OWN,
    DEPUTISED,
    SAME_TEAM,
    OTHER_TEAM,
    APPROVAL_TASK,
    SAME_TRAEGER,
    ARCHIVED,
    SAME_KREIS,
)

ALLOW = "allow"  # the route does its work (2xx, or 4xx/409 for bad input)
METADATA = "metadata"  # the case, without its content (content routes: 403)
DENY_404 = "404"

IM = Role.INTEGRATION_MANAGER
SUP = Role.SUPERVISOR

# role x relation -> outcome for CASE routes; every other cell is 404.
CASE_OUTCOMES: dict[tuple[str, str], str] = {
    (IM, OWN): ALLOW,
    (IM, DEPUTISED): ALLOW,
    (IM, SAME_TEAM): DENY_404,
    (IM, OTHER_TEAM): DENY_404,
    (SUP, SAME_TEAM): METADATA,
    (SUP, APPROVAL_TASK): ALLOW,
    (SUP, OTHER_TEAM): DENY_404,
    (Role.AUDITOR, SAME_TRAEGER): METADATA,
    (Role.DATA_PROTECTION_OFFICER, SAME_TRAEGER): METADATA,
    # the archive: only the data protection officer, and auditors' timeline
    (IM, ARCHIVED): DENY_404,
    (SUP, ARCHIVED): DENY_404,
    (Role.AUDITOR, ARCHIVED): METADATA,
    (Role.DATA_PROTECTION_OFFICER, ARCHIVED): METADATA,
    # The koordinierende Stelle sees its Kreis's figures, never a case of it
    # (tests/cases/test_api_access.py, tests/workflows/test_access.py).
    (Role.COORDINATOR, SAME_KREIS): DENY_404,
}


def case_outcome(role: str, relation: str) -> str:
    return CASE_OUTCOMES.get((role, relation), DENY_404)


@dataclass(frozen=True)
class Access:
    kind: str
    tested_in: str
    roles: frozenset[str] = field(default_factory=frozenset)  # ROLE routes
    methods: tuple[str, ...] = ("GET",)


def _role(*roles: str, tested_in: str, methods: tuple[str, ...] = ("GET",)) -> Access:
    return Access(ROLE, tested_in, frozenset(roles), methods)


_API_ACCESS = "tests/cases/test_api_access.py"
_TASK_ACCESS = "tests/workflows/test_access.py"
_MATRIX = "tests/config/test_access_matrix.py"
_CASE_PAGES = "tests/cases/test_views.py"
_FILES = "tests/cases/test_client_files.py"
_APPOINTMENTS = "tests/appointments/test_appointments.py"

MATRIX: dict[str, Access] = {
    # project
    "home": Access(SIGNED_IN, "tests/config/test_views.py"),
    "healthz": Access(PUBLIC, "tests/config/test_views.py"),
    "admin:": Access(ADMIN, _MATRIX),
    # sign-in (accounts)
    "accounts:login": Access(PUBLIC, "tests/accounts/test_views.py", methods=("GET", "POST")),
    "accounts:logout": Access(SIGNED_IN, "tests/accounts/test_views.py", methods=("POST",)),
    "accounts:oidc_authenticate": Access(PUBLIC, "tests/accounts/test_directory.py"),
    "accounts:oidc_callback": Access(PUBLIC, "tests/accounts/test_directory.py"),
    "accounts:otp_verify": Access(
        SIGNED_IN, "tests/accounts/test_security.py", methods=("GET", "POST")
    ),
    "accounts:otp_setup": Access(
        SIGNED_IN, "tests/accounts/test_security.py", methods=("GET", "POST")
    ),
    "accounts:password_change": Access(
        SIGNED_IN, "tests/accounts/test_hardening.py", methods=("GET", "POST")
    ),
    "accounts:deputies": _role(
        SUP, tested_in="tests/accounts/test_deputies.py", methods=("GET", "POST")
    ),
    "accounts:deputy_revoke": _role(
        SUP, tested_in="tests/accounts/test_deputies.py", methods=("POST",)
    ),
    # guided work (workflows)
    "workflows:inbox": Access(SIGNED_IN, _TASK_ACCESS),
    "workflows:approvals": Access(SIGNED_IN, _TASK_ACCESS),
    "workflows:flow_chart": _role(IM, SUP, tested_in=_TASK_ACCESS),
    "workflows:case": Access(CASE, _TASK_ACCESS),
    "workflows:case_action": Access(CASE, _TASK_ACCESS, methods=("GET", "POST")),
    "workflows:process_chart": Access(CASE, _TASK_ACCESS),
    # every human task's execute/detail/assign/unassign
    "workflows:case:": Access(CASE, _TASK_ACCESS, methods=("GET", "POST")),
    # the case pages (cases): the file (metadata for supervisors, auditors and
    # data-protection officers), quick entry and plan PDF (content: 403 for them)
    "cases:detail": Access(CASE, _CASE_PAGES),
    "cases:consultation_new": Access(CASE, _CASE_PAGES, methods=("GET", "POST")),
    "cases:plan_pdf": Access(CASE, _CASE_PAGES),
    "cases:consent_pdf": Access(CASE, _CASE_PAGES),
    "cases:extension_request_new": Access(CASE, _CASE_PAGES, methods=("GET", "POST")),
    # issue 18: consents (every scope, scans), the plan awaiting agreement; the
    # DPO's legal hold and erasure (a role check inside the case scope)
    "cases:consents": Access(CASE, _CASE_PAGES, methods=("GET", "POST")),
    "cases:plan_pending": Access(CASE, _CASE_PAGES, methods=("GET", "POST")),
    "cases:legal_hold": Access(CASE, _CASE_PAGES, methods=("POST",)),
    # the person's consultation period known from elsewhere (another Träger,
    # a migration, a transfer): a start or an extension, with evidence
    "cases:clock_fact_new": Access(CASE, _CASE_PAGES, methods=("GET", "POST")),
    "api-clock-facts": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    # the workspace: dashboards and case lists (the user's own rows only)
    "workspace:dashboard": _role(IM, SUP, tested_in="tests/workspace/test_views.py"),
    "workspace:cases": _role(IM, tested_in="tests/workspace/test_views.py"),
    "workspace:team": _role(SUP, tested_in="tests/workspace/test_views.py"),
    # data protection officer
    "dataprotection:overview": _role(
        Role.DATA_PROTECTION_OFFICER, tested_in="tests/dataprotection/test_export.py"
    ),
    "dataprotection:export_json": _role(
        Role.DATA_PROTECTION_OFFICER, tested_in="tests/dataprotection/test_export.py"
    ),
    "dataprotection:export_pdf": _role(
        Role.DATA_PROTECTION_OFFICER, tested_in="tests/dataprotection/test_export.py"
    ),
    # auditors' tools (audit)
    "audit:timeline": Access(CASE, "tests/audit/test_views.py"),
    "audit:export": Access(CASE, "tests/audit/test_views.py"),
    "audit:access_case": _role(
        Role.AUDITOR, Role.DATA_PROTECTION_OFFICER, tested_in="tests/audit/test_views.py"
    ),
    "audit:access_user": _role(
        Role.AUDITOR, Role.DATA_PROTECTION_OFFICER, tested_in="tests/audit/test_views.py"
    ),
    # notifications (the recipient's own)
    "notifications:inbox": Access(SIGNED_IN, "tests/notifications/test_api.py"),
    "notifications:read_all": Access(
        SIGNED_IN, "tests/notifications/test_api.py", methods=("POST",)
    ),
    "notifications:preference": Access(
        SIGNED_IN, "tests/notifications/test_api.py", methods=("POST",)
    ),
    "notifications:read": Access(OBJECT, "tests/notifications/test_api.py", methods=("POST",)),
    "api-notifications": Access(SIGNED_IN, "tests/notifications/test_api.py"),
    "api-notification-read": Access(OBJECT, "tests/notifications/test_api.py", methods=("POST",)),
    # handovers from the GU (handover)
    "handover:list": _role(
        Role.GU_SOCIAL_WORKER, IM, SUP, tested_in="tests/handover/test_views.py"
    ),
    "handover:new": _role(
        Role.GU_SOCIAL_WORKER, tested_in="tests/handover/test_views.py", methods=("GET", "POST")
    ),
    "handover:import": _role(
        Role.GU_SOCIAL_WORKER, tested_in="tests/handover/test_views.py", methods=("GET", "POST")
    ),
    "handover:template_csv": Access(SIGNED_IN, "tests/handover/test_views.py"),
    "handover:template_xlsx": Access(SIGNED_IN, "tests/handover/test_views.py"),
    "handover:detail": Access(OBJECT, "tests/handover/test_views.py"),
    "handover:submit": Access(OBJECT, "tests/handover/test_views.py", methods=("POST",)),
    "handover:accept": Access(OBJECT, "tests/handover/test_views.py", methods=("GET", "POST")),
    "handover:return": Access(OBJECT, "tests/handover/test_views.py", methods=("GET", "POST")),
    "api-handovers": Access(SIGNED_IN, "tests/handover/test_api.py", methods=("GET", "POST")),
    "api-handover-import": Access(SIGNED_IN, "tests/handover/test_api.py", methods=("POST",)),
    "api-handover": Access(OBJECT, "tests/handover/test_api.py"),
    "api-handover-accept": Access(OBJECT, "tests/handover/test_api.py", methods=("POST",)),
    "api-handover-return": Access(OBJECT, "tests/handover/test_api.py", methods=("POST",)),
    # the caseload migration import (caseload): the team's supervisors
    "caseload:import": _role(
        SUP, tested_in="tests/caseload/test_import.py", methods=("GET", "POST")
    ),
    "caseload:template_csv": _role(SUP, tested_in="tests/caseload/test_import.py"),
    "caseload:template_xlsx": _role(SUP, tested_in="tests/caseload/test_import.py"),
    "caseload:run": Access(OBJECT, "tests/caseload/test_import.py"),
    "api-caseload-imports": Access(SIGNED_IN, "tests/caseload/test_import.py", methods=("POST",)),
    "api-caseload-import": Access(OBJECT, "tests/caseload/test_import.py"),
    # Kennzahlen and overviews (reports): the report units of one's role
    "reports:kennzahlen": Access(OBJECT, "tests/reports/test_views.py"),
    "reports:freeze": Access(OBJECT, "tests/reports/test_views.py", methods=("POST",)),
    "reports:overview": _role(
        SUP,
        Role.AUDITOR,
        Role.DATA_PROTECTION_OFFICER,
        Role.COORDINATOR,
        Role.ADMINISTRATOR,
        tested_in="tests/reports/test_views.py",
    ),
    "api-kennzahlen": Access(OBJECT, "tests/reports/test_api.py"),
    # API documentation and sign-in
    "api-schema": Access(SIGNED_IN, "tests/cases/test_api.py"),
    "api-docs": Access(SIGNED_IN, "tests/cases/test_api.py"),
    "api-token": Access(PUBLIC, "tests/accounts/test_security.py", methods=("POST",)),
    # API lists (own rows only)
    "api-tasks": Access(SIGNED_IN, "tests/workflows/test_api.py"),
    "api-catalogues": Access(SIGNED_IN, "tests/cases/test_api.py"),
    "api-cases": Access(SIGNED_IN, _API_ACCESS, methods=("GET", "POST")),
    "api-extension-requests": Access(SIGNED_IN, _API_ACCESS),
    "api-network-contacts": Access(SIGNED_IN, "tests/cases/test_api.py", methods=("GET", "POST")),
    # API: one case and its objects
    "api-case": Access(CASE, _API_ACCESS, methods=("GET", "PATCH")),
    "api-case-transition": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-case-history": Access(CASE, _API_ACCESS),
    "api-consents": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-consent-withdraw": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-consent-evidence": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-consultations": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-assessment": Access(CASE, _API_ACCESS, methods=("GET", "PUT")),
    "api-plan": Access(CASE, _API_ACCESS),
    "api-goals": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-goal": Access(CASE, _API_ACCESS, methods=("PATCH",)),
    "api-measures": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-referrals": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-referral": Access(CASE, _API_ACCESS, methods=("PATCH",)),
    "api-case-extension-requests": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-extension-approve": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-extension-reject": Access(CASE, _API_ACCESS, methods=("POST",)),
    # case transfers (transfers): hand over, reassign, transfer packages
    "api-case-transfer": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-case-transfer-package": Access(CASE, _API_ACCESS, methods=("POST",)),
    # supervisors reassign (others: 403); managers and supervisors import
    "api-cases-reassign": Access(SIGNED_IN, "tests/transfers/test_api.py", methods=("POST",)),
    "api-transfer-package-import": Access(
        SIGNED_IN, "tests/transfers/test_api.py", methods=("POST",)
    ),
    "transfers:index": _role(IM, SUP, tested_in="tests/transfers/test_views.py"),
    "transfers:reassign": _role(
        SUP, tested_in="tests/transfers/test_views.py", methods=("GET", "POST")
    ),
    "transfers:package_import": _role(
        IM, SUP, tested_in="tests/transfers/test_views.py", methods=("GET", "POST")
    ),
    "transfers:case_transfer": Access(
        CASE, "tests/transfers/test_views.py", methods=("GET", "POST")
    ),
    "transfers:package_export": Access(
        CASE, "tests/transfers/test_views.py", methods=("GET", "POST")
    ),
    "transfers:package_received": Access(CASE, "tests/transfers/test_views.py"),
    # issue 18: plan after a decline or changed, anonymous counselling, the
    # DPO's legal hold and erasure
    "api-plan-draft": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-plan-agree": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-plan-change": Access(CASE, _API_ACCESS, methods=("GET", "DELETE")),
    "api-anonymous-mode": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-legal-hold": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-erasure": Access(CASE, _API_ACCESS, methods=("POST",)),
    # client documents and the CV (cases.document_views, cases.api_documents)
    "documents:upload": Access(CASE, _FILES, methods=("GET", "POST")),
    "documents:download": Access(CASE, _FILES),
    "documents:delete": Access(CASE, _FILES, methods=("POST",)),
    "documents:cv": Access(CASE, _FILES, methods=("GET", "POST")),
    "documents:cv_entry_remove": Access(CASE, _FILES, methods=("POST",)),
    "documents:cv_pdf": Access(CASE, _FILES),
    "api-documents": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-document": Access(CASE, _API_ACCESS, methods=("GET", "DELETE")),
    "api-cv-entries": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-cv-entry": Access(CASE, _API_ACCESS, methods=("DELETE",)),
    # appointments: the own week and calendar link; a case's appointments;
    # the iCal feed behind its secret token (no sign-in, no client names)
    "appointments:week": Access(SIGNED_IN, _APPOINTMENTS),
    "appointments:case": Access(CASE, _APPOINTMENTS, methods=("GET", "POST")),
    "appointments:no_show": Access(CASE, _APPOINTMENTS, methods=("POST",)),
    "appointments:held": Access(CASE, _APPOINTMENTS, methods=("POST",)),
    "appointments:cancel": Access(CASE, _APPOINTMENTS, methods=("POST",)),
    "appointments:letter": Access(CASE, _APPOINTMENTS),
    "appointments:feed_rotate": Access(SIGNED_IN, _APPOINTMENTS, methods=("POST",)),
    "appointments:feed_revoke": Access(SIGNED_IN, _APPOINTMENTS, methods=("POST",)),
    "appointments:feed": Access(PUBLIC, _APPOINTMENTS),
    "api-my-appointments": Access(SIGNED_IN, _APPOINTMENTS),
    "api-appointments": Access(CASE, _API_ACCESS, methods=("GET", "POST")),
    "api-appointment-no-show": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-appointment-held": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-appointment-cancel": Access(CASE, _API_ACCESS, methods=("POST",)),
    # issue 19: intake without a handover, persons and households. A person or
    # household is read by whoever reads one of its (or its household's) cases;
    # everyone else gets 404 (tests/cases/test_api_access.py requests each
    # with manager B's ids as every stranger).
    "cases:intake_new": _role(
        IM, SUP, tested_in="tests/cases/test_views_people.py", methods=("GET", "POST")
    ),
    "cases:household": Access(OBJECT, "tests/cases/test_views_people.py"),
    "cases:household_edit": Access(OBJECT, "tests/cases/test_views_people.py", methods=("POST",)),
    "cases:household_member_add": Access(
        OBJECT, "tests/cases/test_views_people.py", methods=("POST",)
    ),
    "cases:household_member_relation": Access(
        OBJECT, "tests/cases/test_views_people.py", methods=("POST",)
    ),
    "cases:household_member_remove": Access(
        OBJECT, "tests/cases/test_views_people.py", methods=("POST",)
    ),
    "cases:household_member_case": Access(
        OBJECT, "tests/cases/test_views_people.py", methods=("POST",)
    ),
    "cases:person_edit": Access(
        OBJECT, "tests/cases/test_views_people.py", methods=("GET", "POST")
    ),
    "api-person": Access(OBJECT, _API_ACCESS, methods=("GET", "PATCH")),
    "api-household": Access(OBJECT, _API_ACCESS, methods=("GET", "PATCH")),
    "api-household-members": Access(OBJECT, _API_ACCESS, methods=("POST",)),
    "api-household-member": Access(OBJECT, _API_ACCESS, methods=("PATCH", "DELETE")),
    "api-household-member-case": Access(OBJECT, _API_ACCESS, methods=("POST",)),
    # issue 20, the manager's day: referrals, corrections and cancellations of
    # a case's entries (the entry must belong to the case named), the needs
    # over time, the chronology; the network-contact register (one's own)
    "cases:referral_new": Access(CASE, _CASE_PAGES, methods=("GET", "POST")),
    "cases:referral_outcome": Access(
        CASE, "tests/cases/test_day_views.py", methods=("GET", "POST")
    ),
    "cases:correction": Access(CASE, "tests/cases/test_day_views.py", methods=("GET", "POST")),
    "api-consultation-correct": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-consultation-cancel": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-referral-correct": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-referral-cancel": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-assessment-correct": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-assessment-cancel": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-goal-correct": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-goal-cancel": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-measure-correct": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-measure-cancel": Access(CASE, _API_ACCESS, methods=("POST",)),
    "api-assessments": Access(CASE, _API_ACCESS),
    "api-chronology": Access(CASE, _API_ACCESS),
    "network:register": Access(SIGNED_IN, "tests/cases/test_day_views.py", methods=("GET", "POST")),
    "network:correction": Access(OBJECT, "tests/cases/test_day_views.py", methods=("GET", "POST")),
    "api-network-contact-correct": Access(OBJECT, _API_ACCESS, methods=("POST",)),
    "api-network-contact-cancel": Access(OBJECT, _API_ACCESS, methods=("POST",)),
    # issue 22: a large handover import in the worker (its sender only)
    "handover:import_job": Access(OBJECT, "tests/handover/test_import_jobs.py"),
    "api-handover-import-job": Access(OBJECT, "tests/handover/test_import_jobs.py"),
    # anything else under /api/v1/
    r"api/v1/^[\s\S]*$": Access(NOT_FOUND, "tests/cases/test_api.py"),
}


def entry_for(name: str) -> tuple[str, Access] | None:
    """The matrix entry covering a pattern's full name (or route), if any."""
    if name in MATRIX:
        return name, MATRIX[name]
    namespaces = [key for key in MATRIX if key.endswith(":") and name.startswith(key)]
    if namespaces:
        key = max(namespaces, key=len)
        return key, MATRIX[key]
    return None
