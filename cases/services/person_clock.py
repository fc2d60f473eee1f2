"""The person's clock: facts about it known from elsewhere, and keeping
every case of the person in step with it (DOMAIN.md §5, issue 18).

`person_clock_fact_record` is how a migration, a transfer between
installations or another Träger's proof tells Lotse when the person's
consultation period started, or that they already used their one
extension. A fact may only move the start earlier; the cases of the person
follow (`consultation_start`, `regular_end`, `effective_end`), each change
recorded in the chain of the case it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from audit.services import SYSTEM_ROLE, field_digest
from cases import history
from cases.clock import local_date
from cases.effects import CaseChange, ChangeKind, case_changed
from cases.errors import (
    InvalidArguments,
    PeriodAlreadyExtended,
    PersonNotFound,
    guard,
)
from cases.models import (
    OPEN_STATES,
    Case,
    Catalogue,
    CatalogueEntry,
    Person,
    PersonClockFact,
)
from cases.person_clock import PersonClock, clock_for, person_clock, person_extension
from cases.selectors import (
    DEPUTY,
    OWNER,
    SUPERVISOR,
    case_is_visible_to,
    case_relations,
)
from cases.services.args import _choice_arg, _date_arg, _entry, _text_arg
from cases.services.base import _audit, _audit_record

FACT_WRITERS = (OWNER, DEPUTY, SUPERVISOR)


def _lock_person_cases(person_pk: int) -> list[Case]:
    """Lock the person's cases (in id order, the project's lock order for
    several cases), then the person row; return the cases."""
    cases = Case.objects.filter(person_id=person_pk).order_by("pk")
    persons = Person.objects.filter(pk=person_pk)
    if connection.features.has_select_for_update:
        cases = cases.select_for_update()
        persons = persons.select_for_update()
    locked = list(cases)
    if persons.first() is None:
        raise PersonNotFound(_("This person does not exist."))
    return locked


def _check_actor(*, actor: User | None, person: Person, cases: list[Case], now: datetime) -> None:
    """The system (a migration or transfer import), or a manager, deputy
    or supervisor of the person's latest case; a person without a case:
    a manager or supervisor of the person's Träger. Anyone else: 404."""
    if actor is None:
        return
    if cases:
        latest = cases[-1]
        if case_is_visible_to(user=actor, case=latest, now=now) and case_relations(
            user=actor, case=latest, now=now
        ) & set(FACT_WRITERS):
            return
    elif actor.traeger_id == person.traeger_id and actor.role in (
        Role.INTEGRATION_MANAGER,
        Role.SUPERVISOR,
    ):
        return
    raise PersonNotFound(_("This person does not exist."))


def _months_arg(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        months = int(value)
    except (TypeError, ValueError):
        months = 0
    if not 1 <= months <= 12:
        raise InvalidArguments(
            _("An extension is 1 to 12 months."),
            fields={"extension_months": [_("Between 1 and 12.")]},
        )
    return months


def _case_in_step(case: Case, clock: PersonClock) -> dict[str, date]:
    """The period fields of `case` that differ from the person's clock (a
    case whose period has not started keeps none)."""
    if case.consultation_start is None or clock.start is None:
        return {}
    wanted = {
        "consultation_start": clock.start,
        "regular_end": clock.regular_end,
        "effective_end": clock.effective_end,
    }
    return {name: value for name, value in wanted.items() if getattr(case, name) != value}


def person_clock_fact_record(
    *,
    person: Person | int,
    actor: User | None,
    now: datetime,
    source: str,
    evidence: str,
    first_consultation_on: date | str | None = None,
    extension_months: int | None = None,
    extension_reason: str | None = None,
) -> PersonClockFact:
    """Record a fact about the person's consultation period known from
    elsewhere (`source`: a `PersonClockFact.Source`), with its `evidence`
    (what proves it: the file reference, the sending installation, ...).

    `first_consultation_on`: the person's first consultation there; it may
    only move the start earlier (a later date: 409 `clock_start_not_earlier`;
    the same date records the evidence and changes nothing).
    `extension_months` (1-12) and `extension_reason` (a key of the extension
    reasons): the one extension the person already used (a second one:
    409 `period_already_extended`).

    The person's cases whose period has started follow the clock; each
    changed case gets its own audit event, the fact itself one event in the
    chain of the person's latest case (the global chain when the person has
    no case yet). `actor` None is the system (imports). Raises
    PersonNotFound (404) for a person the actor may not see,
    InvalidArguments (400), GuardFailed (409).
    """
    person_pk = person.pk if isinstance(person, Person) else int(person)
    today = local_date(now)
    source_value = _choice_arg(source, PersonClockFact.Source, field_name="source")
    evidence_text = _text_arg(evidence, field_name="evidence", max_length=2000)
    start = (
        None
        if first_consultation_on in (None, "")
        else _date_arg(first_consultation_on, field_name="first_consultation_on")
    )
    if start is not None and start > today:
        raise InvalidArguments(
            _("A first consultation cannot lie in the future."),
            fields={"first_consultation_on": [_("Choose today or an earlier date.")]},
        )
    months = _months_arg(extension_months)
    if start is None and months is None:
        raise InvalidArguments(
            _("Give the first consultation or the extension used."),
            fields={"first_consultation_on": [_("This field is required.")]},
        )
    if extension_reason not in (None, "") and months is None:
        raise InvalidArguments(
            _("A reason belongs to an extension."),
            fields={"extension_months": [_("This field is required.")]},
        )
    with transaction.atomic():
        history.begin()
        cases = _lock_person_cases(person_pk)
        locked_person = Person.objects.get(pk=person_pk)
        _check_actor(actor=actor, person=locked_person, cases=cases, now=now)
        reason = (
            _entry(
                Catalogue.EXTENSION_REASON,
                extension_reason,
                field_name="extension_reason",
                day=today,
            )
            if extension_reason not in (None, "")
            else None
        )
        before_clock = person_clock(person=person_pk, today=today)
        if start is not None and before_clock.start is not None and start > before_clock.start:
            raise guard("clock_start_not_earlier")
        if months is not None and person_extension(person_pk) is not None:
            raise guard("period_already_extended", PeriodAlreadyExtended)
        fact = PersonClockFact.objects.create(
            person_id=person_pk,
            source=source_value,
            evidence=evidence_text,
            first_consultation_on=start,
            extension_months=months,
            extension_reason=reason,
            recorded_by=actor,
            recorded_at=now,
        )
        clock = person_clock(person=person_pk, today=today)
        home = cases[-1] if cases else None
        # The other cases first, each with its own event; then the person
        # and the home case, whose changes go into the fact's event.
        moved = [
            case
            for case in cases
            if case is not home and _case_follow(case=case, clock=clock, actor=actor, now=now)
        ]
        prior = locked_person.prior_consultation_start
        if start is not None and (prior is None or start < prior):
            before = history.values_of(locked_person)
            locked_person.prior_consultation_start = start
            locked_person.save(update_fields=["prior_consultation_start"])
            history.updated(locked_person, before)
        if home is not None and _case_follow(
            case=home, clock=clock, actor=actor, now=now, own_event=False
        ):
            moved.append(home)
        data = {
            "person_id": person_pk,
            "fact_id": fact.pk,
            "source": source_value,
            "first_consultation_on": start.isoformat() if start else None,
            "extension_months": months,
            "extension_reason": reason.key if reason else None,
            "evidence_digest": field_digest(
                label="cases.personclockfact", pk=fact.pk, name="evidence", value=evidence_text
            ),
            "clock_start": clock.start.isoformat() if clock.start else None,
            "effective_end": clock.effective_end.isoformat() if clock.effective_end else None,
        }
        if home is None:
            _audit_record(
                event_type="cases.person.clock_fact_recorded",
                actor=actor,
                actor_role=SYSTEM_ROLE if actor is None else actor.role,
                now=now,
                object_type="personclockfact",
                object_id=fact.pk,
                reason=source_value,
                data=data,
            )
        else:
            _audit(
                case=home,
                actor=actor,
                now=now,
                event_type="cases.person.clock_fact_recorded",
                obj=fact,
                reason=source_value,
                data=data,
            )
        for case in moved:
            case_changed(CaseChange(case=case, kind=ChangeKind.CLOCK, actor=actor, now=now))
    return fact


@dataclass(frozen=True)
class NewPersonFact:
    """The clock fact of a person created, with their one case, in the
    current transaction (`person_clock_facts_of_new_persons`)."""

    case: Case
    first_consultation_on: date
    extension_months: int | None = None
    extension_reason: CatalogueEntry | None = None
    evidence: str = ""


def person_clock_facts_of_new_persons(
    *, facts: Sequence[NewPersonFact], actor: User | None, now: datetime, source: str
) -> list[PersonClockFact]:
    """Record, in bulk, the clock facts of persons who were created in the
    current transaction together with their one case, whose period already
    is the one the fact gives (a caseload migration).

    The rows and audit events are those of `person_clock_fact_record`
    (one `cases.person.clock_fact_recorded` event in each case's chain).
    With no earlier case, fact or extension of such a person there is
    nothing to compare and nothing to follow, so nothing is locked or read
    per person; the call checks that this holds (one query for all) and
    raises InvalidArguments otherwise, as it does for a start in the
    future, an extension outside 1-12 months, or a case whose period
    differs from the fact. The caller holds the transaction and has
    checked the actor (the system or the importing supervisor).
    """
    if not facts:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise InvalidArguments(_("Clock facts of new persons are written inside their import."))
    today = local_date(now)
    source_value = _choice_arg(source, PersonClockFact.Source, field_name="source")
    person_ids = [item.case.person_id for item in facts]
    case_ids = [item.case.pk for item in facts]
    if (
        len(set(person_ids)) != len(person_ids)
        or Case.objects.filter(person_id__in=person_ids).exclude(pk__in=case_ids).exists()
        or PersonClockFact.objects.filter(person_id__in=person_ids).exists()
    ):
        raise InvalidArguments(_("These persons already have a consultation period elsewhere."))
    rows = []
    for item in facts:
        start = item.first_consultation_on
        if start > today:
            raise InvalidArguments(
                _("A first consultation cannot lie in the future."),
                fields={"first_consultation_on": [_("Choose today or an earlier date.")]},
            )
        months = _months_arg(item.extension_months)
        clock = clock_for(
            start=start, extension=(months, source_value) if months else None, today=today
        )
        case = item.case
        if (case.consultation_start, case.regular_end, case.effective_end) != (
            clock.start,
            clock.regular_end,
            clock.effective_end,
        ):
            raise InvalidArguments(_("The case's consultation period differs from the fact."))
        rows.append(
            PersonClockFact(
                person_id=case.person_id,
                source=source_value,
                evidence=_text_arg(item.evidence, field_name="evidence", max_length=2000),
                first_consultation_on=start,
                extension_months=months,
                extension_reason=item.extension_reason if months else None,
                recorded_by=actor,
                recorded_at=now,
            )
        )
    PersonClockFact.objects.bulk_create(rows, batch_size=1000)
    for item, fact in zip(facts, rows, strict=True):
        case = item.case
        history.begin()
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type="cases.person.clock_fact_recorded",
            obj=fact,
            reason=source_value,
            data={
                "person_id": case.person_id,
                "fact_id": fact.pk,
                "source": source_value,
                "first_consultation_on": fact.first_consultation_on.isoformat(),
                "extension_months": fact.extension_months,
                "extension_reason": fact.extension_reason.key if fact.extension_reason else None,
                "evidence_digest": field_digest(
                    label="cases.personclockfact",
                    pk=fact.pk,
                    name="evidence",
                    value=fact.evidence,
                ),
                "clock_start": case.consultation_start.isoformat()
                if case.consultation_start
                else None,
                "effective_end": case.effective_end.isoformat() if case.effective_end else None,
            },
        )
    return rows


def _case_follow(
    *, case: Case, clock: PersonClock, actor: User | None, now: datetime, own_event: bool = True
) -> bool:
    """Bring a started case of the person in step with `clock`, with its
    own audit event (`own_event`) or collected for the caller's event.
    Return whether an open case moved (its flow follows)."""
    changes = _case_in_step(case, clock)
    if not changes:
        return False
    history.update_rows(Case.objects.filter(pk=case.pk), **changes)
    for name, value in changes.items():
        setattr(case, name, value)
    if own_event:
        _audit(
            case=case,
            actor=actor,
            now=now,
            event_type="cases.case.clock_followed",
            reason="person_clock",
            data={name: value.isoformat() for name, value in changes.items()},
        )
    return case.status in OPEN_STATES
