"""Taking a case over from the GU's handover: persons, household, case and
the handover consent, written by the case domain so that the case's
history holds all of it (`audit.selectors.case_replay` reproduces the
case's data, the household and its members included).

The handover app decides what is taken over (which persons to link, who
owns the case); this module writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, User
from cases import history
from cases.clock import add_months, local_date
from cases.duplicates import HANDOVER, PERSON, IntakeCandidate, intake_candidates
from cases.errors import InvalidArguments
from cases.models import Case, Consent, Household, HouseholdMembership, Person
from cases.services.args import _choice_arg
from cases.services.base import _audit, _lock_case
from cases.services.case import case_create
from config.errors import Conflict


@dataclass(frozen=True)
class IntakePerson:
    """One person handed over: an existing person to link, or the facts of
    a new one (`Person` field names), and their relation in the household."""

    relation: str
    existing: Person | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    # Another adult member who gets a case of their own (the first person
    # always does).
    opens_case: bool = False


@dataclass(frozen=True)
class IntakeConsent:
    """The consent the person gave the GU for handing their data over."""

    recipient: str
    form: str
    language: str
    interpreter: str
    given_at: datetime


@dataclass(frozen=True)
class Intake:
    case: Case
    people: list[Person]
    # Every case opened (the first person's first, then the members chosen).
    cases: list[Case] = field(default_factory=list)


def case_intake_from_handover(
    *,
    actor: User,
    now: datetime,
    owner: User,
    gemeinde: Gemeinde,
    address: str,
    people: Sequence[IntakePerson],
    consent: IntakeConsent | None,
    handover_accepted_at: datetime | None,
) -> Intake:
    """Create the new persons, the household (more than one person), the
    case of the first person (`case_create`, which records the household
    and its members in the case's first event) and the handover consent
    (its own event), in one transaction.

    Raises what `case_create` raises (403, 409 `open_case_exists`, 400).
    """
    with transaction.atomic():
        persons = [
            item.existing or _person_new(traeger_id=owner.traeger_id, facts=item.facts)
            for item in people
        ]
        household = None
        if len(persons) > 1:
            household = Household.objects.create(
                traeger_id=owner.traeger_id, address=address, gemeinde=gemeinde
            )
            HouseholdMembership.objects.bulk_create(
                HouseholdMembership(household=household, person=person, relation=item.relation)
                for item, person in zip(people, persons, strict=True)
            )
        case = case_create(
            person=persons[0],
            owner=owner,
            actor=actor,
            now=now,
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
            gemeinde=gemeinde,
            household=household,
            handover_accepted_at=handover_accepted_at,
        )
        if consent is not None:
            _handover_consent_record(case=case, actor=actor, now=now, consent=consent)
        cases = [case]
        today = local_date(now)
        for index, (item, person) in enumerate(zip(people, persons, strict=True)):
            if index == 0 or not item.opens_case:
                continue
            if is_minor(person, today=today):
                raise InvalidArguments(
                    gettext("Only adults get a case of their own."),
                    fields={"member_cases": [gettext("This person is a minor.")]},
                )
            cases.append(
                case_create(
                    person=person,
                    owner=owner,
                    actor=actor,
                    now=now,
                    intake_channel=Case.IntakeChannel.HANDOVER_FSA,
                    gemeinde=gemeinde,
                    household=household,
                    handover_accepted_at=handover_accepted_at,
                )
            )
    return Intake(case=case, people=persons, cases=cases)


def _person_new(*, traeger_id: int, facts: dict[str, Any]) -> Person:
    """A person the case domain has not known (recorded by the case that
    takes them: its first event snapshots the person and the household)."""
    person = Person(traeger_id=traeger_id, **facts)
    person.save()
    return person


def _handover_consent_record(
    *, case: Case, actor: User, now: datetime, consent: IntakeConsent
) -> Consent:
    # The case was created in this transaction; its row lock orders the chain.
    locked = _lock_case(case=case.pk, actor=None, now=now)
    row = Consent.objects.create(
        person_id=locked.person_id,
        case=locked,
        scope=Consent.Scope.HANDOVER_IN,
        # The GU's consent covers the transfer of ordinary data only
        # (Art. 9 content is never handed over, §9), given by the
        # person: a guardian's consent is recorded on the case.
        legal_basis=Consent.LegalBasis.CONSENT_ART6_1A,
        given_by=Consent.GivenBy.PERSON,
        recipient=consent.recipient[:200],
        form=consent.form,
        language=consent.language,
        interpreter=consent.interpreter,
        given_at=consent.given_at,
        recorded_by=actor,
    )
    history.created(row)
    _audit(
        case=locked,
        actor=actor,
        now=now,
        event_type="cases.consent.recorded",
        obj=row,
        reason=row.scope,
        data={"legal_basis": row.legal_basis, "given_by": row.given_by, "form": row.form},
    )
    return row


# --- intake without a handover (walk-in, self-referral, referral, outreach) ---

WALK_IN_CHANNELS = tuple(
    channel for channel in Case.IntakeChannel.values if channel != Case.IntakeChannel.HANDOVER_FSA
)
ADULT_AGE = 18
# What a manager records of a person at intake and may correct later
# (`cases.services.people.person_update`): `Person` field names.
PERSON_FACTS = (
    "family_name",
    "given_names",
    "date_of_birth",
    "date_of_birth_approximate",
    "sex",
    "nationality",
    "languages",
    "literacy",
    "phone",
    "address",
    "au_allocation_date",
    "ukraine_displaced",
)


class PossibleDuplicate(Conflict):
    """Persons already known (or handed over and waiting) may be the person
    registered: the user decides (409 with the candidates)."""

    default_code = "possible_duplicate"

    def __init__(self, message: Any, *, candidates: dict[str, list[IntakeCandidate]]) -> None:
        super().__init__(
            message,
            fields={key: [_candidate_text(c) for c in found] for key, found in candidates.items()},
        )
        self.candidates = candidates

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["candidates"] = {
            key: [c.as_dict() for c in found] for key, found in self.candidates.items()
        }
        return body


def _candidate_text(candidate: IntakeCandidate) -> str:
    born = candidate.date_of_birth.strftime("%d.%m.%Y") if candidate.date_of_birth else "?"
    name = f"{candidate.family_name}, {candidate.given_names}".strip(", ")
    if candidate.kind == HANDOVER:
        return gettext("%(name)s (born %(born)s), in waiting handover no. %(id)s") % {
            "name": name,
            "born": born,
            "id": candidate.object_id,
        }
    return gettext("%(name)s (born %(born)s), known person no. %(id)s") % {
        "name": name,
        "born": born,
        "id": candidate.object_id,
    }


@dataclass(frozen=True)
class NewPerson:
    """One person of an intake without a handover.

    `facts` are `Person` field names (PERSON_FACTS). The duplicate check
    runs unless the user decided it: `known_person_id` (it is this known
    person: link them) or `not_known` (it is none of the candidates).
    `opens_case`: the person gets their own case (the first person always
    does; other adult members when chosen).
    """

    facts: dict[str, Any]
    relation: str = HouseholdMembership.Relation.HEAD
    known_person_id: int | None = None
    not_known: bool = False
    opens_case: bool = False


def person_resolve(
    *, traeger_id: int, entry: NewPerson, key: str, today: date
) -> tuple[Person | None, list[IntakeCandidate], dict[str, Any]]:
    """Check one person of an intake: return the known person to link (or
    None for a new one), the undecided candidates (empty when decided or
    none found) and the cleaned facts of a new person. Raises
    InvalidArguments with fields under `key`."""
    facts = person_facts_clean(entry.facts, key=key, today=today, required=True)
    if entry.known_person_id is None and entry.not_known:
        return None, [], facts
    candidates = intake_candidates(
        traeger_id=traeger_id,
        family_name=facts["family_name"],
        given_names=facts.get("given_names", ""),
        date_of_birth=facts.get("date_of_birth"),
        nationality=facts.get("nationality", ""),
    )
    if entry.known_person_id is not None:
        person = known_person_choose(
            candidates=candidates,
            known_person_id=entry.known_person_id,
            field_name=f"{key}.known_person_id",
        )
        return person, [], facts
    return None, candidates, facts


def known_person_choose(
    *, candidates: list[IntakeCandidate], known_person_id: int, field_name: str
) -> Person:
    """The answer "it is this known person" to a duplicate warning: the
    person, who must be one of the persons proposed (`candidates`), else
    InvalidArguments (400) at `field_name`."""
    chosen = [c for c in candidates if c.kind == PERSON and c.object_id == known_person_id]
    person = (
        Person.objects.filter(pk=chosen[0].object_id, anonymised_at__isnull=True).first()
        if chosen
        else None
    )
    if person is None:
        raise InvalidArguments(
            gettext("Not one of the proposed persons."),
            fields={field_name: [gettext("Not one of the proposed persons.")]},
        )
    return person


def person_facts_clean(
    values: dict[str, Any], *, key: str, today: date, required: bool
) -> dict[str, Any]:
    """Validate the facts of a person (new, or the changed ones of an edit):
    unknown names are refused, the rest checked as the model does."""
    unknown = sorted(set(values) - set(PERSON_FACTS))
    if unknown:
        raise InvalidArguments(
            gettext("Some values are not valid."),
            fields={f"{key}.{name}": [gettext("Unknown field.")] for name in unknown},
        )
    facts = dict(values)
    for name in ("date_of_birth", "au_allocation_date"):
        if facts.get(name) not in (None, ""):
            day = _day(facts[name], field_name=f"{key}.{name}")
            if day > today:
                raise InvalidArguments(
                    gettext("This cannot lie in the future."),
                    fields={f"{key}.{name}": [gettext("Choose today or an earlier day.")]},
                )
            facts[name] = day
        elif name in facts:
            facts[name] = None
    probe = Person(**{"family_name": "-", **facts})
    try:
        probe.full_clean(
            exclude=["traeger", *(n for n in PERSON_FACTS if n not in facts and not required)]
        )
    except ValidationError as exc:
        raise InvalidArguments(
            gettext("Some values are not valid."),
            fields={f"{key}.{k}": [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from None
    facts = {name: getattr(probe, name) for name in facts}
    if required and not str(facts.get("family_name") or "").strip():
        raise InvalidArguments(
            gettext("A required text is missing."),
            fields={f"{key}.family_name": [gettext("This field is required.")]},
        )
    for name in ("family_name", "given_names", "nationality", "languages", "phone", "address"):
        if name in facts:
            facts[name] = str(facts[name] or "").strip()
    return facts


def _day(value: Any, *, field_name: str) -> date:
    """A date of a person's life: ISO or German (TT.MM.JJJJ), after 1900."""
    day: date | None = None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                day = datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date only
                break
            except ValueError:
                continue
    if day is None or day.year < 1900:
        raise InvalidArguments(
            gettext("A date is not valid."),
            fields={field_name: [gettext("Use the form DD.MM.YYYY.")]},
        )
    return day


def is_minor(person: Person | dict[str, Any], *, today: date) -> bool:
    born = person.get("date_of_birth") if isinstance(person, dict) else person.date_of_birth
    if born is None:
        return False
    return add_months(born, 12 * ADULT_AGE) > today


def case_register(
    *,
    actor: User,
    now: datetime,
    owner: User,
    intake_channel: str,
    people: Sequence[NewPerson],
    address: str = "",
    gemeinde: Gemeinde | None = None,
) -> Intake:
    """Register a person or a household that came without a handover
    (self-referral, outreach, allocation by the authority, referral by
    another service): the new persons, the household (more than one
    person) and a case (`registered`) for the first person and for each
    adult member chosen, all owned by `owner`, in one transaction.

    Every person not decided yet is checked against the Träger's persons
    and the waiting handovers (`cases.duplicates`); any candidate stops the
    registration with PossibleDuplicate (409 `possible_duplicate`, nothing
    written) until the user says, per person, that it is a known person
    (`known_person_id`: linked, not created again) or that it is not
    (`not_known`).

    Raises InvalidArguments (400), PossibleDuplicate (409), and what
    `case_create` raises: 403 unless the actor registers for themselves or
    is a supervisor of the owner's team, 409 `open_case_exists`.
    """
    _choice_arg(intake_channel, Case.IntakeChannel, field_name="intake_channel")
    if intake_channel == Case.IntakeChannel.HANDOVER_FSA:
        raise InvalidArguments(
            gettext("Handovers are accepted on the handover page."),
            fields={"intake_channel": [gettext("Choose how the person came.")]},
        )
    if not people:
        raise InvalidArguments(
            gettext("Register at least one person."),
            fields={"people": [gettext("This field is required.")]},
        )
    today = local_date(now)
    address = str(address or "").strip()
    if len(address) > 300:
        raise InvalidArguments(
            gettext("A text is too long."), fields={"address": [gettext("At most 300 characters.")]}
        )
    if gemeinde is not None and not owner.traeger.gemeinden.filter(pk=gemeinde.pk).exists():
        raise InvalidArguments(
            gettext("The Träger does not serve this Gemeinde."),
            fields={"gemeinde": [gettext("Choose a Gemeinde of your Träger.")]},
        )
    for index, entry in enumerate(people):
        _choice_arg(
            entry.relation, HouseholdMembership.Relation, field_name=f"people.{index}.relation"
        )
    with transaction.atomic():
        resolved = []
        undecided: dict[str, list[IntakeCandidate]] = {}
        for index, entry in enumerate(people):
            key = f"people.{index}"
            person, candidates, facts = person_resolve(
                traeger_id=owner.traeger_id, entry=entry, key=key, today=today
            )
            if candidates:
                undecided[key] = candidates
            resolved.append((entry, person, facts))
        linked = [p.pk for _, p, _ in resolved if p is not None]
        if len(linked) != len(set(linked)):
            raise InvalidArguments(
                gettext("Each known person can be linked only once."),
                fields={"people": [gettext("Each known person can be linked only once.")]},
            )
        if undecided:
            raise PossibleDuplicate(
                _(
                    "Persons already known may be the persons registered. Say for each "
                    "whether it is the known person or someone else."
                ),
                candidates=undecided,
            )
        for index, (entry, _person, facts) in enumerate(resolved):
            if index and entry.opens_case and is_minor(facts, today=today):
                raise InvalidArguments(
                    gettext("Only adults get a case of their own."),
                    fields={f"people.{index}.opens_case": [gettext("This person is a minor.")]},
                )
        persons = [
            person
            or _person_new(
                traeger_id=owner.traeger_id,
                facts={**facts, "address": facts.get("address") or address, "gemeinde": gemeinde},
            )
            for _entry, person, facts in resolved
        ]
        household = None
        if len(persons) > 1:
            household = Household.objects.create(
                traeger_id=owner.traeger_id, address=address, gemeinde=gemeinde
            )
            HouseholdMembership.objects.bulk_create(
                HouseholdMembership(household=household, person=person, relation=entry.relation)
                for (entry, _p, _f), person in zip(resolved, persons, strict=True)
            )
        cases = [
            case_create(
                person=person,
                owner=owner,
                actor=actor,
                now=now,
                intake_channel=intake_channel,
                gemeinde=gemeinde,
                household=household,
            )
            for index, ((entry, _p, _f), person) in enumerate(zip(resolved, persons, strict=True))
            if index == 0 or entry.opens_case
        ]
        decided = [
            (index, entry)
            for index, entry in enumerate(people)
            if entry.known_person_id is not None or entry.not_known
        ]
        if decided:
            # The user's answer to the duplicate warning, on the first case.
            locked = _lock_case(case=cases[0].pk, actor=None, now=now)
            _audit(
                case=locked,
                actor=actor,
                now=now,
                event_type="cases.case.duplicates_resolved",
                data={
                    "linked_person_ids": sorted(linked),
                    "new_person_ids": sorted(
                        persons[index].pk for index, entry in decided if entry.not_known
                    ),
                },
            )
    return Intake(case=cases[0], people=persons, cases=cases)
