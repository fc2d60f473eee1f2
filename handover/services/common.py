"""What the handover services share: limits, errors and their messages, the
audit event and the conditional state write."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_event_record
from cases.fastpaths import fsm_state_saved
from config.errors import Conflict, Forbidden, InvalidInput
from handover.models import Handover
from notifications.services import (
    notification_handover_submitted,
)

if TYPE_CHECKING:
    from handover.services.imports import ImportReport


EARLIEST_DATE = date(2000, 1, 1)
BIRTH_EARLIEST = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
MAX_MEMBERS = 20

# Handover fields kept without the consent for the data transfer (§9).
ALLOCATION_FACTS = ("gemeinde_ags", "au_allocation_date", "external_reference")
SENDER_FIELDS = ("gu_facility", "gu_contact_name", "gu_contact_phone", "gu_contact_email")
CONSENT_FIELDS = ("consent_form", "consent_language", "consent_interpreter", "consent_given_on")
CONTENT_FIELDS = ("known_needs", "open_matters", "notes", "phone", "address")
MEMBER_FACTS = ("relation", "family_name", "given_names")
MEMBER_CONTENT = ("date_of_birth", "sex", "nationality", "languages", "authority_reference")

TEXT_LIMITS = {
    "external_reference": 100,
    "consent_language": 50,
    "consent_interpreter": 100,
    "known_needs": 5000,
    "open_matters": 5000,
    "notes": 5000,
    "phone": 50,
    "address": 300,
    "gu_facility": 200,
    "gu_contact_name": 200,
    "gu_contact_phone": 50,
    "gu_contact_email": 254,
    "family_name": 200,
    "given_names": 200,
    "nationality": 100,
    "languages": 200,
    "authority_reference": 100,
}


# --- errors ----------------------------------------------------------------


class HandoverInvalid(InvalidInput):
    default_code = "invalid"


class HandoverForbidden(Forbidden):
    default_code = "forbidden"


class HandoverNotOpen(Conflict):
    default_code = "handover_not_open"


class HandoverDuplicate(Conflict):
    default_code = "handover_duplicate"


class PossibleDuplicatePerson(Conflict):
    """Existing persons may be the person handed over: the manager decides."""

    default_code = "possible_duplicate"


class ConcurrentChange(Conflict):
    default_code = "concurrent_change"


class ImportInvalid(InvalidInput):
    """A file import with at least one bad row; nothing was written."""

    default_code = "import_invalid"

    def __init__(self, message: Any, *, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body.update(self.report.as_dict())
        return body


MESSAGES: dict[str, Any] = {
    "forbidden": _("Your role may not take this step."),
    "not_open": _("This handover has already been accepted or returned."),
    "not_draft": _("Only a draft can be submitted."),
    "concurrent_change": _(
        "Someone else changed this handover at the same time. Please reload and try again."
    ),
    "required": _("This field is required."),
    "too_long": _("At most %(n)d characters."),
    "date_invalid": _("Not a valid date (use YYYY-MM-DD or DD.MM.YYYY)."),
    "date_implausible": _("Choose a date between 2000 and 2100."),
    "birth_implausible": _("Choose a date of birth after 1900."),
    "date_future": _("This date cannot lie in the future."),
    "allocation_far": _("The allocation date lies more than a year ahead."),
    "choice": _("Unknown value: %(value)s"),
    "gemeinde_unknown": _("There is no Gemeinde with this key (AGS)."),
    "gemeinde_unserved": _("No integration management in Lotse serves this Gemeinde."),
    "email": _("Not a valid e-mail address."),
    "bool": _("Answer yes or no (ja/nein)."),
    "members_count": _("A handover names between 1 and %(n)d persons."),
    "head_first": _("The first person is the contact person of the household."),
    "one_head": _("Only the first person can be the contact person."),
    "member_twice": _("This person is listed twice in the handover."),
    "duplicate_reference": _("A handover with this reference was already sent (no. %(id)s)."),
    "duplicate_open": _(
        "This person is already in a handover waiting to be accepted (no. %(id)s)."
    ),
    "formula": _(
        "The value starts with =, +, - or @ and would be read as a spreadsheet formula; "
        "it was refused. Remove the leading character."
    ),
}


def _invalid(fields: Mapping[str, list[Any]]) -> HandoverInvalid:
    return HandoverInvalid(_("Some values are not valid."), fields=dict(fields))


# --- audit -----------------------------------------------------------------


def _audit(
    *,
    handover: Handover,
    actor: User,
    now: datetime,
    event_type: str,
    transition: str,
    from_state: str = "",
    reason: str = "",
    case_id: int | None = None,
    data: dict[str, Any] | None = None,
    chain_locked: bool = False,
    batch: bool = False,
) -> None:
    audit_event_record(
        event_type=event_type,
        actor=actor,
        actor_role=actor.role,
        now=now,
        object_type="handover",
        object_id=handover.pk,
        case_id=case_id,
        transition=transition,
        from_state=from_state,
        to_state=handover.status,
        reason=reason,
        data=data or {},
        # A new case's chain is serialised by its creating transaction; the
        # global chain takes its advisory lock.
        chain_locked=chain_locked or case_id is not None,
    )
    if transition == "submit" and not batch:  # the outbox row commits with the submission
        notification_handover_submitted(
            handover_id=handover.pk,
            gemeinde_id=handover.gemeinde_id,
            now=now,
            link=reverse("handover:detail", kwargs={"handover_pk": handover.pk}),
        )


def _save(handover: Handover, fields: Iterable[str], *, expected_status: str) -> None:
    """Persist a transition with one conditional UPDATE (see cases.services._save)."""
    values = {name: getattr(handover, name) for name in fields}
    updated = Handover._base_manager.filter(pk=handover.pk, status=expected_status).update(**values)
    if updated != 1:
        raise ConcurrentChange(MESSAGES["concurrent_change"])
    fsm_state_saved(handover)
