"""Cleaning and normalising handover input (shared by the form, the API and the file import)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import Gemeinde, User
from cases.models import Consent, HouseholdMembership, Person
from handover.models import Handover, HandoverMember, HandoverStatus
from handover.selectors import (
    names_key,
)
from handover.services.common import (
    BIRTH_EARLIEST,
    CONSENT_FIELDS,
    CONTENT_FIELDS,
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_MEMBERS,
    MEMBER_CONTENT,
    MESSAGES,
    SENDER_FIELDS,
    TEXT_LIMITS,
)

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
    members: Sequence[Mapping[str, Any]],
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
