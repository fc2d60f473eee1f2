"""Keeping persons and households current: people move, their benefits and
residence status change, families grow.

Every edit here is checked against the version the user edited
(`Person.version`, `Household.version`): an edit made on an older version
is refused with StaleVersion (409 `stale_version`; the API answers 412 for
a stale `If-Match`), never written over the newer data (RELIABILITY.md
W4). The row is locked first, so two simultaneous edits of one version
cannot both pass.

A person's or a household's data belongs to every case it is part of, so
each edit writes one audit event, with the field-level before and after
(`cases.history`), into the history of each case it touches: the cases of
the person (and of the households they live in), or the cases of the
household. The actor must be the integration manager (or a current
deputy) of one of those cases that is open; a person or household none of
whose cases the actor may see is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, User
from cases import history
from cases.clock import local_date
from cases.errors import InvalidArguments, TransitionForbidden
from cases.models import (
    FINAL_STATES,
    OPEN_STATES,
    Case,
    Catalogue,
    Household,
    HouseholdMembership,
    Person,
)
from cases.selectors import case_is_visible_to, case_relations, parse_pk
from cases.services.args import _choice_arg, _entry
from cases.services.base import CONTENT_WRITERS, _audit
from cases.services.case import case_create
from cases.services.intake import (
    NewPerson,
    PossibleDuplicate,
    _person_new,
    is_minor,
    person_facts_clean,
    person_resolve,
)
from config.errors import Conflict, NotFound

# Catalogue fields of a person, edited by their catalogue key.
PERSON_CATALOGUE_FACTS = {
    "residence_status": Catalogue.RESIDENCE_STATUS,
    "benefit_status": Catalogue.BENEFIT_STATUS,
    "accommodation_stage": Catalogue.ACCOMMODATION_STAGE,
}


class StaleVersion(Conflict):
    """The data changed since the user loaded it (RELIABILITY.md W4)."""

    default_code = "stale_version"


class PersonNotFound(NotFound):
    default_code = "not_found"


class HouseholdNotFound(NotFound):
    default_code = "not_found"


STALE = _(
    "Someone else changed these data after you opened them. Please reload the page and enter "
    "your change again."
)


def _version(value: Any) -> int:
    try:
        number = int(str(value).strip().strip('"').removeprefix("W/").strip('"'))
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise InvalidArguments(
            gettext("The version of the data you edited is missing."),
            fields={"version": [gettext("This field is required.")]},
        )
    return number


def _lock_cases(case_filter: Q) -> list[Case]:
    """Lock every case touched (in id order: no deadlock between edits)."""
    return list(
        Case.objects.select_for_update()
        .filter(case_filter)
        .exclude(status__in=[s.value for s in FINAL_STATES])
        .order_by("pk")
    )


def _require_writer(*, cases: list[Case], actor: User, now: datetime, missing: NotFound) -> None:
    visible = [c for c in cases if case_is_visible_to(user=actor, case=c, now=now)]
    if not visible:
        raise missing
    if not any(
        c.status in OPEN_STATES
        and case_relations(user=actor, case=c, now=now) & set(CONTENT_WRITERS)
        for c in visible
    ):
        raise TransitionForbidden(
            _("Only the integration manager of an open case of this person may change the data.")
        )


def _audit_each(
    *, cases: Iterable[Case], actor: User, now: datetime, event_type: str, obj: Any
) -> None:
    changes = history.drain()
    for case in cases:
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type=event_type,
            obj=obj,
            data={"changes": changes},
        )


def _person_locked(person: Person | int | str, actor: User) -> Person:
    number = parse_pk(person.pk if isinstance(person, Person) else person)
    found = (
        None
        if number is None
        else Person.objects.select_for_update()
        .filter(pk=number, anonymised_at__isnull=True)
        .first()
    )
    if found is None or found.traeger_id != actor.traeger_id:
        raise PersonNotFound(_("This person does not exist."))
    return found


def _household_locked(household: Household | int | str, actor: User) -> Household:
    number = parse_pk(household.pk if isinstance(household, Household) else household)
    found = None if number is None else Household.objects.select_for_update().filter(pk=number)
    row = found.first() if found is not None else None
    if row is None or row.traeger_id != actor.traeger_id:
        raise HouseholdNotFound(_("This household does not exist."))
    return row


def _person_cases_filter(person: Person) -> Q:
    households = HouseholdMembership.objects.filter(person=person).values("household_id")
    return Q(person=person) | Q(household_id__in=households)


def person_update(
    *, person: Person | int | str, actor: User, now: datetime, version: Any, **changes: Any
) -> Person:
    """Change a person's data (address, phone, languages, literacy,
    residence and benefit status by catalogue key, ...): only the fields
    given. Raises PersonNotFound (404), TransitionForbidden (403),
    InvalidArguments (400), StaleVersion (409)."""
    expected = _version(version)
    today = local_date(now)
    catalogue_changes = {
        name: changes.pop(name) for name in list(changes) if name in PERSON_CATALOGUE_FACTS
    }
    facts = person_facts_clean(changes, key="person", today=today, required=False)
    for name, catalogue in PERSON_CATALOGUE_FACTS.items():
        if name in catalogue_changes:
            key = catalogue_changes[name]
            facts[name] = (
                None
                if key in (None, "")
                else _entry(catalogue, key, field_name=f"person.{name}", day=today)
            )
    if "family_name" in facts and not facts["family_name"]:
        raise InvalidArguments(
            gettext("A required text is missing."),
            fields={"person.family_name": [gettext("This field is required.")]},
        )
    with transaction.atomic():
        history.begin()
        locked = _person_locked(person, actor)
        cases = _lock_cases(_person_cases_filter(locked))
        _require_writer(
            cases=cases,
            actor=actor,
            now=now,
            missing=PersonNotFound(_("This person does not exist.")),
        )
        if locked.version != expected:
            raise StaleVersion(STALE)
        values = {name: value for name, value in facts.items() if _differs(locked, name, value)}
        if not values:
            return locked
        history.update_rows(Person.objects.filter(pk=locked.pk), **values, version=expected + 1)
        _audit_each(
            cases=cases, actor=actor, now=now, event_type="cases.person.updated", obj=locked
        )
        locked.refresh_from_db()
    return locked


def _differs(obj: Any, name: str, value: Any) -> bool:
    current = getattr(obj, name)
    if hasattr(current, "pk") or hasattr(value, "pk"):
        return getattr(current, "pk", current) != getattr(value, "pk", value)
    return bool(current != value)


def household_update(
    *,
    household: Household | int | str,
    actor: User,
    now: datetime,
    version: Any,
    address: str | None = None,
    gemeinde: Gemeinde | str | None = "",
) -> Household:
    """Change the household's address or Gemeinde (a move). The address of
    each member who lived at the old address moves with the household.

    Raises HouseholdNotFound (404), TransitionForbidden (403),
    InvalidArguments (400), StaleVersion (409)."""
    expected = _version(version)
    with transaction.atomic():
        history.begin()
        locked = _household_locked(household, actor)
        cases = _lock_cases(Q(household=locked))
        _require_writer(
            cases=cases,
            actor=actor,
            now=now,
            missing=HouseholdNotFound(_("This household does not exist.")),
        )
        if locked.version != expected:
            raise StaleVersion(STALE)
        values: dict[str, Any] = {}
        if address is not None:
            text = str(address).strip()
            if len(text) > 300:
                raise InvalidArguments(
                    gettext("A text is too long."),
                    fields={"address": [gettext("At most 300 characters.")]},
                )
            if text != locked.address:
                values["address"] = text
        if gemeinde != "" and getattr(gemeinde, "pk", None) != locked.gemeinde_id:
            if gemeinde is not None and not actor.traeger.gemeinden.filter(pk=gemeinde.pk).exists():
                raise InvalidArguments(
                    gettext("The Träger does not serve this Gemeinde."),
                    fields={"gemeinde": [gettext("Choose a Gemeinde of your Träger.")]},
                )
            values["gemeinde"] = gemeinde
        if not values:
            return locked
        history.update_rows(Household.objects.filter(pk=locked.pk), **values, version=expected + 1)
        if "address" in values:
            members = HouseholdMembership.objects.filter(household=locked).values("person_id")
            history.update_rows(
                Person.objects.filter(pk__in=members, address=locked.address),
                address=values["address"],
            )
        _audit_each(
            cases=cases, actor=actor, now=now, event_type="cases.household.updated", obj=locked
        )
        locked.refresh_from_db()
    return locked


def household_member_add(
    *, household: Household | int | str, actor: User, now: datetime, version: Any, member: NewPerson
) -> HouseholdMembership:
    """Add a person to the household (a child born, a spouse joining): a
    new person, or a known one after the duplicate check (`NewPerson`).

    Raises HouseholdNotFound (404), TransitionForbidden (403),
    InvalidArguments (400), PossibleDuplicate (409 with candidates),
    StaleVersion (409), GuardFailed-like 409 `already_member`."""
    expected = _version(version)
    _choice_arg(member.relation, HouseholdMembership.Relation, field_name="relation")
    with transaction.atomic():
        history.begin()
        locked = _household_locked(household, actor)
        cases = _lock_cases(Q(household=locked))
        _require_writer(
            cases=cases,
            actor=actor,
            now=now,
            missing=HouseholdNotFound(_("This household does not exist.")),
        )
        if locked.version != expected:
            raise StaleVersion(STALE)
        person, candidates, facts = person_resolve(
            traeger_id=locked.traeger_id, entry=member, key="member", today=local_date(now)
        )
        if candidates:
            raise PossibleDuplicate(
                _(
                    "A person already known may be the person added. Say whether it is the "
                    "known person or someone else."
                ),
                candidates={"member": candidates},
            )
        if person is not None and locked.memberships.filter(person=person).exists():
            raise Conflict(
                _("This person already belongs to the household."), code="already_member"
            )
        before = history.values_of(locked)
        if person is None:
            person = _person_new(
                traeger_id=locked.traeger_id,
                facts={
                    **facts,
                    "address": facts.get("address") or locked.address,
                    "gemeinde": locked.gemeinde,
                },
            )
        membership = HouseholdMembership.objects.create(
            household=locked, person=person, relation=member.relation
        )
        history.created(membership)
        history.updated(locked, before)
        history.update_rows(Household.objects.filter(pk=locked.pk), version=expected + 1)
        _audit_each(
            cases=cases,
            actor=actor,
            now=now,
            event_type="cases.household.member_added",
            obj=membership,
        )
    return membership


def _membership_locked(household: Household, person: Any) -> HouseholdMembership:
    number = parse_pk(person.pk if isinstance(person, Person) else person)
    found = (
        None
        if number is None
        else HouseholdMembership.objects.filter(household=household, person_id=number).first()
    )
    if found is None:
        raise PersonNotFound(_("This person does not belong to the household."))
    return found


def household_member_remove(
    *,
    household: Household | int | str,
    person: Person | int | str,
    actor: User,
    now: datetime,
    version: Any,
) -> Household:
    """Take a person out of the household (moved out, separated). Their own
    case, if any, leaves the household with them. The last member stays.

    Raises HouseholdNotFound/PersonNotFound (404), TransitionForbidden
    (403), StaleVersion (409), Conflict 409 `last_member`."""
    expected = _version(version)
    with transaction.atomic():
        history.begin()
        locked = _household_locked(household, actor)
        cases = _lock_cases(Q(household=locked))
        _require_writer(
            cases=cases,
            actor=actor,
            now=now,
            missing=HouseholdNotFound(_("This household does not exist.")),
        )
        if locked.version != expected:
            raise StaleVersion(STALE)
        membership = _membership_locked(locked, person)
        if locked.memberships.count() <= 1:
            raise Conflict(
                _("The last member of a household cannot be removed."), code="last_member"
            )
        before = history.values_of(locked)
        history.deleted(membership)
        membership.delete()
        history.updated(locked, before)
        history.update_rows(Household.objects.filter(pk=locked.pk), version=expected + 1)
        history.update_rows(
            Case.objects.filter(household=locked, person_id=membership.person_id), household=None
        )
        _audit_each(
            cases=cases,
            actor=actor,
            now=now,
            event_type="cases.household.member_removed",
            obj=locked,
        )
        locked.refresh_from_db()
    return locked


def household_member_relation_set(
    *,
    household: Household | int | str,
    person: Person | int | str,
    actor: User,
    now: datetime,
    version: Any,
    relation: str,
) -> HouseholdMembership:
    """Change how a member relates to the household (contact person,
    spouse, child, ...). Raises as `household_member_remove`."""
    expected = _version(version)
    _choice_arg(relation, HouseholdMembership.Relation, field_name="relation")
    with transaction.atomic():
        history.begin()
        locked = _household_locked(household, actor)
        cases = _lock_cases(Q(household=locked))
        _require_writer(
            cases=cases,
            actor=actor,
            now=now,
            missing=HouseholdNotFound(_("This household does not exist.")),
        )
        if locked.version != expected:
            raise StaleVersion(STALE)
        membership = _membership_locked(locked, person)
        if membership.relation == relation:
            return membership
        history.update_rows(HouseholdMembership.objects.filter(pk=membership.pk), relation=relation)
        history.update_rows(Household.objects.filter(pk=locked.pk), version=expected + 1)
        _audit_each(
            cases=cases,
            actor=actor,
            now=now,
            event_type="cases.household.relation_changed",
            obj=membership,
        )
        membership.relation = relation
    return membership


def household_member_case_open(
    *,
    household: Household | int | str,
    person: Person | int | str,
    actor: User,
    now: datetime,
    owner: User | None = None,
) -> Case:
    """Open an adult member's own case (their own plan and consultations)
    in the household, owned by `owner` (default: the actor). It comes the
    way the household came (the intake channel of the household's first
    case); a handed-over household's member case counts as accepted by its
    owner when the owner opens it.

    Raises HouseholdNotFound/PersonNotFound (404), TransitionForbidden
    (403), InvalidArguments 400 (a minor), and `case_create`'s errors
    (409 `open_case_exists`)."""
    with transaction.atomic():
        locked = _household_locked(household, actor)
        cases = _lock_cases(Q(household=locked))
        _require_writer(
            cases=cases,
            actor=actor,
            now=now,
            missing=HouseholdNotFound(_("This household does not exist.")),
        )
        membership = _membership_locked(locked, person)
        member = membership.person
        if is_minor(member, today=local_date(now)):
            raise InvalidArguments(
                gettext("Only adults get a case of their own."),
                fields={"person": [gettext("This person is a minor.")]},
            )
        first = min(cases, key=lambda c: c.pk) if cases else None
        channel = first.intake_channel if first else Case.IntakeChannel.SELF_REFERRAL
        owner = owner or actor
        return case_create(
            person=member,
            owner=owner,
            actor=actor,
            now=now,
            intake_channel=channel,
            programme=first.programme if first else Case.Programme.BW_IM,
            gemeinde=locked.gemeinde,
            household=locked,
            handover_accepted_at=(
                now if channel == Case.IntakeChannel.HANDOVER_FSA and owner.pk == actor.pk else None
            ),
        )


__all__ = [
    "HouseholdNotFound",
    "PersonNotFound",
    "StaleVersion",
    "household_member_add",
    "household_member_case_open",
    "household_member_relation_set",
    "household_member_remove",
    "household_update",
    "person_update",
]
