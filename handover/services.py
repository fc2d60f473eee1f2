"""Writes of the handover: create, submit, accept, return, import.

Every function is keyword-only, takes the acting user and `now`, runs in one
transaction and writes one audit event per handover it changes. Accepting
creates (or links) the persons, the household and the case, records the
consent for the handover and starts the case flow, all in the transaction
that moves the handover: all of it commits or none.

Acceptance semantics: a manager who accepts for themselves gets a case that
is already accepted (no accept task in the flow). Accepting "for" a named
manager of the team (a supervisor must name one; a manager may name a
colleague) registers the case for that manager, whose flow then opens the
"accept the handover" task.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, Role, User
from audit.services import audit_event_record
from cases.models import Case, Consent, Household, HouseholdMembership, Person
from cases.services import case_create
from config.errors import Conflict, Forbidden, InvalidInput
from handover.limits import xlsx_archive_check
from handover.models import Handover, HandoverMember, HandoverStatus, ReturnReason
from handover.selectors import (
    handover_not_found,
    handovers_visible_to,
    names_key,
    person_candidates,
)
from notifications.services import (
    notification_handover_submitted,
    notification_handovers_imported,
)

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
    handover._update_initial_state()


# --- cleaning input (shared by form, API and import) -----------------------


@dataclass
class Cleaned:
    """A handover's values after checking, or its field errors."""

    values: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[Any]] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)

    def error(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(message)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _date(value: Any, cleaned: Cleaned, name: str, earliest: date = EARLIEST_DATE) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = _text(value)
        match_iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        match_de = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
        try:
            if match_iso:
                value = date(*(int(g) for g in match_iso.groups()))
            elif match_de:
                day, month, year = (int(g) for g in match_de.groups())
                value = date(year, month, day)
            else:
                raise ValueError(text)
        except ValueError:
            cleaned.error(name, MESSAGES["date_invalid"])
            return None
    if not earliest <= value <= LATEST_DATE:
        cleaned.error(
            name,
            MESSAGES["birth_implausible" if earliest == BIRTH_EARLIEST else "date_implausible"],
        )
        return None
    return value


_TRUE = {"true", "ja", "j", "yes", "y", "1", "x"}
_FALSE = {"false", "nein", "n", "no", "0"}


def _bool(value: Any, cleaned: Cleaned, name: str) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    cleaned.error(name, MESSAGES["required"] if not text else MESSAGES["bool"])
    return None


_SEX_ALIASES = {"w": "FEMALE", "f": "FEMALE", "m": "MALE", "d": "DIVERSE", "x": "UNKNOWN", "": ""}


def _choice(value: Any, choices: type, cleaned: Cleaned, name: str, aliases: dict[str, str]) -> str:
    text = _text(value)
    key = aliases.get(text.lower(), text.upper())
    if key and key not in choices.values:
        cleaned.error(name, MESSAGES["choice"] % {"value": text[:50]})
        return ""
    return key


def _limited(value: Any, cleaned: Cleaned, name: str, error_name: str | None = None) -> str:
    text = _text(value)
    limit = TEXT_LIMITS[name]
    if len(text) > limit:
        cleaned.error(error_name or name, MESSAGES["too_long"] % {"n": limit})
        return text[:limit]
    return text


def handover_clean(
    *,
    data: Mapping[str, Any],
    members: list[Mapping[str, Any]],
    today: date,
    gemeinden: dict[str, tuple[Gemeinde | None, bool]] | None = None,
) -> Cleaned:
    """Check a handover's values; without consent drop all but the allocation facts.

    `data` holds the handover's fields (`gemeinde_ags`, `au_allocation_date`,
    `consent_given`, ...), `members` the persons, the first being the
    contact person. Errors are keyed by field (`members.<n>.<field>` for a
    person). Never raises for bad input.
    """
    cleaned = Cleaned()
    values = cleaned.values
    for name in ("external_reference", *SENDER_FIELDS[:3], "consent_language"):
        values[name] = _limited(data.get(name), cleaned, name)
    values["consent_interpreter"] = _limited(
        data.get("consent_interpreter"), cleaned, "consent_interpreter"
    )
    for name in CONTENT_FIELDS:
        values[name] = _limited(data.get(name), cleaned, name)
    email = _limited(data.get("gu_contact_email"), cleaned, "gu_contact_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            cleaned.error("gu_contact_email", MESSAGES["email"])
    values["gu_contact_email"] = email
    if not values["gu_contact_name"]:
        cleaned.error("gu_contact_name", MESSAGES["required"])

    ags = _text(data.get("gemeinde_ags"))
    gemeinde = None
    if not ags:
        cleaned.error("gemeinde_ags", MESSAGES["required"])
    else:
        if gemeinden is None:
            gemeinden = {}
        if ags not in gemeinden:
            found = Gemeinde.objects.filter(ags=ags).first() if len(ags) <= 8 else None
            gemeinden[ags] = (found, found is not None and found.traeger.exists())
        gemeinde, served = gemeinden[ags]
        if gemeinde is None:
            cleaned.error("gemeinde_ags", MESSAGES["gemeinde_unknown"])
        elif not served:
            cleaned.error("gemeinde_ags", MESSAGES["gemeinde_unserved"])
    values["gemeinde"] = gemeinde

    allocation = _date(data.get("au_allocation_date"), cleaned, "au_allocation_date")
    if allocation is None and "au_allocation_date" not in cleaned.errors:
        cleaned.error("au_allocation_date", MESSAGES["required"])
    elif allocation is not None and allocation > today + timedelta(days=366):
        cleaned.error("au_allocation_date", MESSAGES["allocation_far"])
    values["au_allocation_date"] = allocation

    consent = _bool(data.get("consent_given"), cleaned, "consent_given")
    values["consent_given"] = bool(consent)
    values["consent_form"] = _choice(
        data.get("consent_form"), Consent.Form, cleaned, "consent_form", {"": ""}
    )
    given_on = _date(data.get("consent_given_on"), cleaned, "consent_given_on")
    if given_on is not None and given_on > today:
        cleaned.error("consent_given_on", MESSAGES["date_future"])
    values["consent_given_on"] = given_on
    if consent:
        for name in ("consent_form", "consent_language", "consent_given_on"):
            if not values[name] and name not in cleaned.errors:
                cleaned.error(name, MESSAGES["required"])

    if not 1 <= len(members) <= MAX_MEMBERS:
        cleaned.error("members", MESSAGES["members_count"] % {"n": MAX_MEMBERS})
    seen: dict[tuple[Any, ...], int] = {}
    for position, member in enumerate(members[:MAX_MEMBERS]):
        cleaned.members.append(_member_clean(member, position, cleaned, today, seen))

    if consent is False:
        _strip_to_allocation_facts(cleaned)
    return cleaned


def _member_clean(
    member: Mapping[str, Any],
    position: int,
    cleaned: Cleaned,
    today: date,
    seen: dict[tuple[Any, ...], int],
) -> dict[str, Any]:
    prefix = f"members.{position}."
    values: dict[str, Any] = {"position": position}
    for name in ("family_name", "given_names", "nationality", "languages", "authority_reference"):
        values[name] = _limited(member.get(name), cleaned, name, prefix + name)
    if not values["family_name"]:
        cleaned.error(prefix + "family_name", MESSAGES["required"])
    default = HouseholdMembership.Relation.HEAD if position == 0 else "OTHER"
    relation = _choice(
        member.get("relation"), HouseholdMembership.Relation, cleaned, prefix + "relation", {}
    )
    relation = relation or default
    if position == 0 and relation != HouseholdMembership.Relation.HEAD:
        cleaned.error(prefix + "relation", MESSAGES["head_first"])
    if position > 0 and relation == HouseholdMembership.Relation.HEAD:
        cleaned.error(prefix + "relation", MESSAGES["one_head"])
    values["relation"] = relation
    values["sex"] = (
        _choice(member.get("sex"), Person.Sex, cleaned, prefix + "sex", _SEX_ALIASES)
        or Person.Sex.UNKNOWN
    )
    born = _date(member.get("date_of_birth"), cleaned, prefix + "date_of_birth", BIRTH_EARLIEST)
    if born is not None and born > today:
        cleaned.error(prefix + "date_of_birth", MESSAGES["date_future"])
    values["date_of_birth"] = born
    identity = (names_key(values["family_name"]), names_key(values["given_names"])[:1], born)
    if values["family_name"]:
        if identity in seen:
            cleaned.error(prefix + "family_name", MESSAGES["member_twice"])
        seen[identity] = position
    return values


def _strip_to_allocation_facts(cleaned: Cleaned) -> None:
    """Keep names, household relations, Gemeinde and date only (§9)."""
    for name in (*CONTENT_FIELDS, *CONSENT_FIELDS):
        if cleaned.values.get(name):
            cleaned.withheld.append(name)
        cleaned.values[name] = None if name == "consent_given_on" else ""
        cleaned.errors.pop(name, None)
    for member in cleaned.members:
        prefix = f"members.{member['position']}."
        for name in MEMBER_CONTENT:
            empty = (
                Person.Sex.UNKNOWN if name == "sex" else ("" if name != "date_of_birth" else None)
            )
            given = member.get(name) not in ("", None, Person.Sex.UNKNOWN)
            if given and name not in cleaned.withheld:
                cleaned.withheld.append(name)
            member[name] = empty
            cleaned.errors.pop(prefix + name, None)


def identity_key(member: Mapping[str, Any]) -> tuple[Any, ...]:
    """The key under which two handed-over persons count as the same."""
    return (
        names_key(member["family_name"]),
        names_key(member.get("given_names") or "")[:1],
        member.get("date_of_birth"),
    )


def _open_identities(actor: User) -> dict[tuple[Any, ...], int]:
    """The persons in the sender's handovers still waiting, by identity."""
    rows = HandoverMember.objects.filter(
        handover__submitted_by=actor,
        handover__status__in=[HandoverStatus.DRAFT, HandoverStatus.SUBMITTED],
    ).values_list("family_name", "given_names", "date_of_birth", "handover_id")
    return {
        identity_key({"family_name": f, "given_names": g, "date_of_birth": d}): h
        for f, g, d, h in rows.order_by("handover_id")
    }


def _build(cleaned: Cleaned, *, actor: User, now: datetime, source: str, submit: bool) -> Handover:
    values = cleaned.values
    handover = Handover(
        source=source,
        external_reference=values["external_reference"],
        gemeinde=values["gemeinde"],
        au_allocation_date=values["au_allocation_date"],
        consent_given=values["consent_given"],
        consent_form=values["consent_form"],
        consent_language=values["consent_language"],
        consent_interpreter=values["consent_interpreter"],
        consent_given_on=values["consent_given_on"],
        known_needs=values["known_needs"],
        open_matters=values["open_matters"],
        notes=values["notes"],
        phone=values["phone"],
        address=values["address"],
        gu_facility=values["gu_facility"],
        gu_contact_name=values["gu_contact_name"],
        gu_contact_phone=values["gu_contact_phone"],
        gu_contact_email=values["gu_contact_email"],
        submitted_by=actor,
        created_at=now,
    )
    if submit:
        handover.submit(at=now)
    return handover


def _members_of(handover: Handover, cleaned: Cleaned) -> list[HandoverMember]:
    return [
        HandoverMember(
            handover=handover,
            position=member["position"],
            relation=member["relation"],
            family_name=member["family_name"],
            given_names=member["given_names"],
            date_of_birth=member["date_of_birth"],
            sex=member["sex"],
            nationality=member["nationality"],
            languages=member["languages"],
            authority_reference=member["authority_reference"],
        )
        for member in cleaned.members
    ]


def _require_sender(actor: User) -> None:
    if actor.role != Role.GU_SOCIAL_WORKER or not actor.is_active:
        raise HandoverForbidden(MESSAGES["forbidden"])


def handover_create(
    *,
    actor: User,
    now: datetime,
    data: Mapping[str, Any],
    members: list[Mapping[str, Any]],
    source: str = Handover.Source.API,
    submit: bool = True,
) -> tuple[Handover, bool]:
    """Create a handover (submitted unless `submit` is False) for the GU's
    refugee social worker `actor`; return it and whether it is new.

    The sender's `external_reference` makes this idempotent: the same
    reference again returns the existing handover unchanged. Without the
    consent for the data transfer, only names, household relations,
    Gemeinde and allocation date are stored (DOMAIN.md §9).

    Raises HandoverForbidden for other roles, HandoverInvalid (400) with
    field errors, HandoverDuplicate (409) when a person of it already waits
    in another of the sender's handovers.
    """
    _require_sender(actor)
    today = timezone.localdate(now)
    with transaction.atomic():
        reference = _text(data.get("external_reference"))[: TEXT_LIMITS["external_reference"]]
        if reference:
            existing = Handover.objects.filter(submitted_by=actor, external_reference=reference)
            found = existing.order_by("pk").first()
            if found is not None:
                return found, False
        cleaned = handover_clean(data=data, members=members, today=today)
        if cleaned.errors:
            raise _invalid(cleaned.errors)
        waiting = _open_identities(actor)
        for member in cleaned.members:
            other = waiting.get(identity_key(member))
            if other is not None:
                raise HandoverDuplicate(
                    MESSAGES["duplicate_open"] % {"id": other},
                    fields={
                        f"members.{member['position']}.family_name": [gettext("Listed twice.")]
                    },
                )
        handover = _build(cleaned, actor=actor, now=now, source=source, submit=submit)
        try:
            with transaction.atomic():
                handover.full_clean(exclude=["status", "gemeinde", "submitted_by"])
                handover.save()
        except IntegrityError:
            # The same reference sent twice at the same moment.
            found = Handover.objects.filter(
                submitted_by=actor, external_reference=reference
            ).first()
            if found is None:
                raise
            return found, False
        except ValidationError as exc:
            raise _invalid(exc.message_dict) from None
        HandoverMember.objects.bulk_create(_members_of(handover, cleaned))
        _audit(
            handover=handover,
            actor=actor,
            now=now,
            event_type="handover.handover.created",
            transition="submit" if submit else "create",
            reason=source,
            data={"members": len(cleaned.members), "consent_given": handover.consent_given},
        )
    return handover, True


def _lock(handover: Handover | int) -> Handover:
    pk = handover.pk if isinstance(handover, Handover) else handover
    locked = Handover.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise handover_not_found()
    return locked


def handover_submit(*, handover: Handover | int, actor: User, now: datetime) -> Handover:
    """Submit a draft of the sender; 409 unless it is a draft."""
    _require_sender(actor)
    with transaction.atomic():
        locked = _lock(handover)
        if locked.submitted_by_id != actor.pk:
            raise handover_not_found()
        if locked.status != HandoverStatus.DRAFT:
            raise HandoverNotOpen(MESSAGES["not_draft"], code="not_draft")
        locked.submit(at=now)
        _save(locked, ["status", "submitted_at"], expected_status=HandoverStatus.DRAFT)
        _audit(
            handover=locked,
            actor=actor,
            now=now,
            event_type="handover.handover.submitted",
            transition="submit",
            from_state=HandoverStatus.DRAFT,
        )
    return locked


def _lock_for_decision(handover: Handover | int, actor: User) -> Handover:
    """Lock the handover for accept or return.

    Decided handovers drop out of the incoming list, so whether the actor
    may decide is judged on the Gemeinde alone: a manager who lost the race
    learns it was decided (409) instead of seeing a 404.
    """
    if actor.role == Role.GU_SOCIAL_WORKER:
        if (
            handovers_visible_to(user=actor)
            .filter(pk=handover.pk if isinstance(handover, Handover) else handover)
            .exists()
        ):
            raise HandoverForbidden(MESSAGES["forbidden"])
        raise handover_not_found()
    if actor.role not in (Role.INTEGRATION_MANAGER, Role.SUPERVISOR) or not actor.is_active:
        raise handover_not_found()
    locked = _lock(handover)
    if not actor.traeger_id or not locked.gemeinde.traeger.filter(pk=actor.traeger_id).exists():
        raise handover_not_found()
    if locked.status == HandoverStatus.DRAFT:
        raise handover_not_found()
    if locked.status != HandoverStatus.SUBMITTED:
        raise HandoverNotOpen(MESSAGES["not_open"])
    return locked


def _assignee(actor: User, assignee: User | int | None, locked: Handover) -> User:
    if assignee is None:
        if actor.role != Role.INTEGRATION_MANAGER:
            raise _invalid(
                {"assignee": [gettext("Name the integration manager who takes the case.")]}
            )
        return actor
    pk = assignee.pk if isinstance(assignee, User) else assignee
    owner = User.objects.filter(
        pk=pk,
        role=Role.INTEGRATION_MANAGER,
        is_active=True,
        team_id=actor.team_id,
        team__isnull=False,
    ).first()
    if owner is None:
        raise _invalid(
            {"assignee": [gettext("Choose an active integration manager of your team.")]}
        )
    return owner


def handover_accept(
    *,
    handover: Handover | int,
    actor: User,
    now: datetime,
    assignee: User | int | None = None,
    persons: Mapping[int, int | None] | None = None,
) -> Handover:
    """Accept a submitted handover: create or link the persons, the
    household and a case in `registered` for `assignee` (default: the
    actor), record the handover consent and start the case flow.

    `persons` maps a handed-over person (member id) to an existing person
    id to link, or None to create a new person. A member with duplicate
    candidates (see `handover.selectors.person_candidates`) must be decided.

    Raises HandoverNotFound (404) unless the actor's Träger serves the
    Gemeinde, HandoverNotOpen (409) when already decided (also the loser of
    two simultaneous accepts), PossibleDuplicatePerson (409) with the
    candidates in `fields`, HandoverInvalid (400), and the case errors of
    `case_create` (for example 409 `open_case_exists`).
    """
    decisions = dict(persons or {})
    with transaction.atomic():
        locked = _lock_for_decision(handover, actor)
        owner = _assignee(actor, assignee, locked)
        members = list(locked.members.order_by("position"))
        chosen: dict[int, Person | None] = {}
        undecided: dict[str, list[str]] = {}
        for member in members:
            candidates = person_candidates(
                traeger_id=owner.traeger_id,
                family_name=member.family_name,
                given_names=member.given_names,
                date_of_birth=member.date_of_birth,
                nationality=member.nationality,
                authority_reference=member.authority_reference,
            )
            by_id = {c.person.pk: c.person for c in candidates}
            if member.pk not in decisions:
                if candidates:
                    undecided[str(member.pk)] = [str(pk) for pk in by_id]
                chosen[member.pk] = None
                continue
            wanted = decisions[member.pk]
            if wanted is not None and wanted not in by_id:
                raise _invalid(
                    {f"persons.{member.pk}": [gettext("Not one of the proposed persons.")]}
                )
            chosen[member.pk] = None if wanted is None else by_id[wanted]
        linked = [p.pk for p in chosen.values() if p is not None]
        if len(linked) != len(set(linked)):
            raise _invalid({"persons": [gettext("Each known person can be linked only once.")]})
        if undecided:
            raise PossibleDuplicatePerson(
                _(
                    "Persons already known may be the persons handed over. Choose for each "
                    "whether to link the existing person or to create a new one."
                ),
                fields=undecided,
            )
        people = [
            chosen[member.pk] or _new_person(member, locked, owner.traeger_id) for member in members
        ]
        household = None
        if len(members) > 1:
            household = Household.objects.create(
                traeger_id=owner.traeger_id, address=locked.address, gemeinde=locked.gemeinde
            )
            HouseholdMembership.objects.bulk_create(
                HouseholdMembership(household=household, person=person, relation=member.relation)
                for member, person in zip(members, people, strict=True)
            )
        for member, person in zip(members, people, strict=True):
            member.person = person
        HandoverMember.objects.bulk_update(members, ["person"])
        case = case_create(
            person=people[0],
            owner=owner,
            actor=actor,
            now=now,
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
            gemeinde=locked.gemeinde,
            household=household,
            handover_accepted_at=now if owner.pk == actor.pk else None,
        )
        if locked.consent_given:
            Consent.objects.create(
                person=people[0],
                case=case,
                scope=Consent.Scope.HANDOVER_IN,
                # The GU's consent covers the transfer of ordinary data only
                # (Art. 9 content is never handed over, §9), given by the
                # person: a guardian's consent is recorded on the case.
                legal_basis=Consent.LegalBasis.CONSENT_ART6_1A,
                given_by=Consent.GivenBy.PERSON,
                recipient=locked.gu_facility[:200],
                form=locked.consent_form,
                language=locked.consent_language,
                interpreter=locked.consent_interpreter,
                given_at=_start_of(locked.consent_given_on or timezone.localdate(now)),
                recorded_by=actor,
            )
        locked.accept(by=actor, at=now, assignee=owner, case=case)
        _save(
            locked,
            ["status", "decided_by", "decided_at", "assignee", "case"],
            expected_status=HandoverStatus.SUBMITTED,
        )
        _audit(
            handover=locked,
            actor=actor,
            now=now,
            event_type="handover.handover.accepted",
            transition="accept",
            from_state=HandoverStatus.SUBMITTED,
            case_id=case.pk,
            data={
                "case_id": case.pk,
                "assignee_id": owner.pk,
                "linked_person_ids": sorted(p.pk for p in chosen.values() if p is not None),
            },
        )
    return locked


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()), timezone.get_default_timezone())


def _new_person(member: HandoverMember, handover: Handover, traeger_id: int) -> Person:
    head = member.position == 0
    person = Person(
        traeger_id=traeger_id,
        family_name=member.family_name,
        given_names=member.given_names,
        date_of_birth=member.date_of_birth,
        sex=member.sex,
        nationality=member.nationality,
        languages=member.languages,
        phone=handover.phone if head else "",
        address=handover.address,
        gemeinde=handover.gemeinde,
        au_allocation_date=handover.au_allocation_date,
    )
    person.save()
    return person


def handover_return(
    *, handover: Handover | int, actor: User, now: datetime, reason: str, note: str = ""
) -> Handover:
    """Return a submitted handover to its sender with a reason.

    Raises HandoverNotFound (404), HandoverNotOpen (409), HandoverInvalid
    (400) for an unknown reason or a note over 5000 characters.
    """
    if reason not in ReturnReason.values:
        raise _invalid({"reason": [MESSAGES["choice"] % {"value": str(reason)[:50]}]})
    note = _text(note)
    if len(note) > 5000:
        raise _invalid({"note": [MESSAGES["too_long"] % {"n": 5000}]})
    if reason == ReturnReason.OTHER and not note:
        raise _invalid({"note": [gettext("Say why the handover goes back.")]})
    with transaction.atomic():
        locked = _lock_for_decision(handover, actor)
        locked.return_to_sender(by=actor, at=now, reason=reason, note=note)
        _save(
            locked,
            ["status", "decided_by", "decided_at", "return_reason", "return_note"],
            expected_status=HandoverStatus.SUBMITTED,
        )
        _audit(
            handover=locked,
            actor=actor,
            now=now,
            event_type="handover.handover.returned",
            transition="return",
            from_state=HandoverStatus.SUBMITTED,
            reason=reason,
        )
    return locked


# --- file import -----------------------------------------------------------

# The documented column layout (README "Handover import"), in template order.
COLUMNS = [
    "external_reference",
    "gemeinde_ags",
    "au_allocation_date",
    "relation",
    "family_name",
    "given_names",
    "date_of_birth",
    "sex",
    "nationality",
    "languages",
    "authority_reference",
    "consent_given",
    "consent_form",
    "consent_language",
    "consent_interpreter",
    "consent_given_on",
    "known_needs",
    "open_matters",
    "notes",
    "phone",
    "address",
    "gu_facility",
    "gu_contact_name",
    "gu_contact_phone",
    "gu_contact_email",
]
REQUIRED_COLUMNS = (
    "external_reference",
    "gemeinde_ags",
    "au_allocation_date",
    "family_name",
    "consent_given",
    "gu_contact_name",
)
MEMBER_COLUMNS = frozenset({*MEMBER_FACTS, *MEMBER_CONTENT})
HANDOVER_COLUMNS = [c for c in COLUMNS if c not in MEMBER_COLUMNS]
TEMPLATE_ROWS = [
    {
        "external_reference": "GU-2026-0001",
        "gemeinde_ags": "08999001",
        "au_allocation_date": "2025-12-01",
        "relation": "HEAD",
        "family_name": "Beispiel",
        "given_names": "Amal",
        "date_of_birth": "1990-03-01",
        "sex": "FEMALE",
        "nationality": "SY",
        "languages": "ar, en",
        "consent_given": "ja",
        "consent_form": "SIGNED_PAPER",
        "consent_language": "ar",
        "consent_given_on": "2025-11-20",
        "known_needs": "Sprachkurs",
        "gu_facility": "GU Musterstadt",
        "gu_contact_name": "Gül Demo",
        "gu_contact_email": "gu@demo.invalid",
    },
    {
        "external_reference": "GU-2026-0001",
        "relation": "CHILD",
        "family_name": "Beispiel",
        "given_names": "Sami",
        "date_of_birth": "2015-06-10",
        "sex": "MALE",
    },
]
_FORMULA = re.compile(r"^[=@\t\r]|^[+\-](?![0-9 ()/.\-]*$)")


@dataclass
class ImportReport:
    """What an import does (dry run) or did: the same for both."""

    dry_run: bool
    rows: int = 0
    handovers: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, line: int, column: str, message: Any) -> None:
        self.errors.append({"line": line, "field": column, "message": str(message)})

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "handovers": self.handovers,
            "errors": sorted(self.errors, key=lambda e: (e["line"], e["field"], e["message"])),
        }


def _decode(content: bytes, report: ImportReport) -> str | None:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        report.error(0, "file", gettext("UTF-16 is not supported; save the file as UTF-8 or CSV."))
        return None
    if b"\x00" in content:
        report.error(
            0, "file", gettext("The file contains binary data; upload a CSV or XLSX file.")
        )
        return None
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            report.error(0, "file", gettext("The file says UTF-8 but is not valid UTF-8."))
            return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        report.error(
            0, "file", gettext("The encoding is not recognised; save as UTF-8 or Windows-1252.")
        )
        return None


def _csv_rows(content: bytes, report: ImportReport) -> list[tuple[int, list[Any]]] | None:
    text = _decode(content, report)
    if text is None:
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    if first_line.count(";") == first_line.count(",") == 0:
        report.error(1, "file", gettext("No column separator found; separate columns with ; or ,."))
        return None
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
            if len(rows) > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS + 1:
                break
    except csv.Error:
        report.error(reader.line_num, "file", gettext("The CSV structure is broken (quotes?)."))
        return None
    return rows


def _xlsx_rows(content: bytes, report: ImportReport) -> list[tuple[int, list[Any]]] | None:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        rows = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, list(cells)))
            if len(rows) > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS + 1:
                break
        workbook.close()
    except Exception:  # noqa: BLE001 - openpyxl raises many types for broken files
        report.error(0, "file", gettext("The file could not be read as an XLSX workbook."))
        return None
    return rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(content: bytes, filename: str, report: ImportReport) -> list[tuple[int, dict[str, Any]]]:
    if not content.strip():
        report.error(0, "file", gettext("The file is empty."))
        return []
    if len(content) > settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES:
        report.error(
            0,
            "file",
            gettext("The file is larger than %(n)d kB.")
            % {"n": settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES // 1024},
        )
        return []
    is_xlsx = content.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx")
    refused = xlsx_archive_check(content) if is_xlsx else None
    if refused:
        report.error(0, "file", refused)
        return []
    raw = _xlsx_rows(content, report) if is_xlsx else _csv_rows(content, report)
    if not raw:
        if raw is not None:
            report.error(0, "file", gettext("The file is empty."))
        return []
    (header_line, header_cells), body = raw[0], raw[1:]
    header = [_text(cell).lstrip("\ufeff").lower() for cell in header_cells]
    while header and header[-1] == "":
        header.pop()
    for index, name in enumerate(header):
        if name not in COLUMNS:
            report.error(header_line, name or f"#{index + 1}", gettext("Unknown column."))
        elif header.index(name) != index:
            report.error(header_line, name, gettext("The column appears twice."))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.error(header_line, name, gettext("The column is missing."))
    if len(body) > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS:
        report.error(
            0,
            "file",
            gettext("At most %(n)d rows per file.")
            % {"n": settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS},
        )
        return []
    if report.errors:
        return []
    rows = []
    for line, cells in body:
        values = [_cell(cell) for cell in cells]
        if not any(value != "" for value in values):
            continue
        report.rows += 1
        while len(values) > len(header) and values[-1] == "":
            values.pop()
        if len(values) != len(header):
            report.error(
                line,
                "file",
                gettext("The row has %(n)d values, the header %(m)d columns.")
                % {"n": len(values), "m": len(header)},
            )
            continue
        row = dict(zip(header, values, strict=True))
        bad = False
        for name, value in row.items():
            if isinstance(value, str) and _FORMULA.search(value):
                report.error(line, name, MESSAGES["formula"])
                bad = True
        if not bad:
            rows.append((line, row))
    if not report.rows and not report.errors:
        report.error(0, "file", gettext("The file has a header but no rows."))
    return rows


@dataclass
class _Planned:
    lines: list[int]
    cleaned: Cleaned


def _plan_import(
    *, actor: User, now: datetime, content: bytes, filename: str, dry_run: bool
) -> tuple[ImportReport, list[_Planned]]:
    report = ImportReport(dry_run=dry_run)
    rows = _table(content, filename, report)
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for line, row in rows:
        reference = _text(row.get("external_reference"))
        if not reference:
            report.error(line, "external_reference", MESSAGES["required"])
            continue
        groups.setdefault(reference, []).append((line, row))
    today = timezone.localdate(now)
    used = dict(
        Handover.objects.filter(
            submitted_by=actor, external_reference__in=list(groups)
        ).values_list("external_reference", "pk")
    )
    waiting = _open_identities(actor)
    seen_in_file: dict[tuple[Any, ...], tuple[str, int]] = {}
    gemeinden: dict[str, tuple[Gemeinde | None, bool]] = {}
    planned = []
    for reference, group in groups.items():
        first_line, first = group[0]
        for line, row in group[1:]:
            for name in HANDOVER_COLUMNS:
                value = row.get(name, "")
                if value not in ("", first.get(name, "")):
                    report.error(
                        line,
                        name,
                        gettext("Differs from line %(line)d of the same handover; leave it empty.")
                        % {"line": first_line},
                    )
        if reference in used:
            for line, _row in group:
                report.error(
                    line,
                    "external_reference",
                    MESSAGES["duplicate_reference"] % {"id": used[reference]},
                )
            continue
        cleaned = handover_clean(
            data=first,
            members=[{k: v for k, v in row.items() if k in MEMBER_COLUMNS} for _line, row in group],
            today=today,
            gemeinden=gemeinden,
        )
        lines = [line for line, _row in group]
        for name, messages in cleaned.errors.items():
            line = first_line
            column = name
            if name.startswith("members."):
                _prefix, position, column = name.split(".", 2)
                line = lines[int(position)]
            elif name == "members":
                column = "family_name"
            for message in messages:
                report.error(line, column, message)
        for member, line in zip(cleaned.members, lines, strict=False):
            key = identity_key(member)
            if not member["family_name"]:
                continue
            if key in waiting:
                report.error(line, "family_name", MESSAGES["duplicate_open"] % {"id": waiting[key]})
            elif key in seen_in_file and seen_in_file[key][0] != reference:
                report.error(
                    line,
                    "family_name",
                    gettext("The same person is already in line %(line)d of this file.")
                    % {"line": seen_in_file[key][1]},
                )
            seen_in_file.setdefault(key, (reference, line))
        if not cleaned.errors:
            planned.append(_Planned(lines=lines, cleaned=cleaned))
            report.handovers.append(
                {
                    "external_reference": reference,
                    "lines": lines,
                    "persons": len(cleaned.members),
                    "gemeinde_ags": cleaned.values["gemeinde"].ags,
                    "consent_given": cleaned.values["consent_given"],
                    "withheld_fields": sorted(cleaned.withheld),
                }
            )
    return report, planned


def handover_import(
    *, actor: User, now: datetime, content: bytes, filename: str, dry_run: bool
) -> ImportReport:
    """Import handovers from a CSV or XLSX file (layout: `COLUMNS`).

    All or nothing: with any bad row nothing is written and ImportInvalid
    (400) carries the report (line, field, German message per problem).
    The dry run checks exactly as the real run and reports what it would
    create; the real run creates one submitted handover per reference (rows
    with the same `external_reference` are one household) with one audit
    event each.
    """
    _require_sender(actor)
    with transaction.atomic():
        report, planned = _plan_import(
            actor=actor, now=now, content=content, filename=filename, dry_run=dry_run
        )
        if report.errors:
            raise ImportInvalid(
                _("The file was not imported: %(n)d problems. Nothing was saved.")
                % {"n": len(report.errors)},
                report=report,
            )
        if dry_run:
            return report
        handovers = [
            _build(item.cleaned, actor=actor, now=now, source=Handover.Source.IMPORT, submit=True)
            for item in planned
        ]
        Handover.objects.bulk_create(handovers, batch_size=1000)
        HandoverMember.objects.bulk_create(
            (
                member
                for handover, item in zip(handovers, planned, strict=True)
                for member in _members_of(handover, item.cleaned)
            ),
            batch_size=2000,
        )
        for index, (handover, item, entry) in enumerate(
            zip(handovers, planned, report.handovers, strict=True)
        ):
            entry["id"] = handover.pk
            _audit(
                # The first append takes the global chain's advisory lock;
                # it is held to the commit, so the others need not ask.
                chain_locked=index > 0,
                batch=True,
                handover=handover,
                actor=actor,
                now=now,
                event_type="handover.handover.created",
                transition="submit",
                reason=Handover.Source.IMPORT,
                data={
                    "members": len(item.cleaned.members),
                    "consent_given": handover.consent_given,
                },
            )
        by_gemeinde: dict[int, list[int]] = {}
        for handover in handovers:
            by_gemeinde.setdefault(handover.gemeinde_id, []).append(handover.pk)
        for gemeinde_id, ids in sorted(by_gemeinde.items()):
            notification_handovers_imported(
                handover_ids=ids, gemeinde_id=gemeinde_id, now=now, link=reverse("handover:list")
            )
    return report


def import_template_csv() -> bytes:
    """Return the CSV template (UTF-8 with BOM, `;`) with two sample rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in TEMPLATE_ROWS:
        writer.writerow([row.get(name, "") for name in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def import_template_xlsx() -> bytes:
    """Return the XLSX template with the same columns and sample rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Übergaben"
    sheet.append(COLUMNS)
    for row in TEMPLATE_ROWS:
        sheet.append([row.get(name, "") for name in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
