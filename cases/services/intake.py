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
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import Gemeinde, User
from cases import history
from cases.models import Case, Consent, Household, HouseholdMembership, Person
from cases.services.base import _audit, _lock_case
from cases.services.case import case_create


@dataclass(frozen=True)
class IntakePerson:
    """One person handed over: an existing person to link, or the facts of
    a new one (`Person` field names), and their relation in the household."""

    relation: str
    existing: Person | None = None
    facts: dict[str, Any] = field(default_factory=dict)


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
    return Intake(case=case, people=persons)


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
