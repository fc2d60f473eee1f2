"""The handover lifecycle: create, submit, accept (the case services take the
case over) and return."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases.models import Person
from cases.services.intake import IntakeConsent, IntakePerson, case_intake_from_handover
from handover.models import Handover, HandoverMember, HandoverStatus, ReturnReason
from handover.selectors import (
    handover_not_found,
    handovers_visible_to,
    person_candidates,
)
from handover.services.cleaning import (
    _build,
    _members_of,
    _open_identities,
    _text,
    handover_clean,
    identity_key,
)
from handover.services.common import (
    MESSAGES,
    TEXT_LIMITS,
    HandoverDuplicate,
    HandoverForbidden,
    HandoverNotOpen,
    PossibleDuplicatePerson,
    _audit,
    _invalid,
    _save,
)


def _require_sender(actor: User) -> None:
    if actor.role != Role.GU_SOCIAL_WORKER or not actor.is_active:
        raise HandoverForbidden(MESSAGES["forbidden"])


def handover_create(
    *,
    actor: User,
    now: datetime,
    data: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
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
    member_cases: Iterable[int] = (),
) -> Handover:
    """Accept a submitted handover: create or link the persons, the
    household and a case in `registered` for `assignee` (default: the
    actor), record the handover consent and start the case flow.

    `persons` maps a handed-over person (member id) to an existing person
    id to link, or None to create a new person. A member with duplicate
    candidates (see `handover.selectors.person_candidates`) must be decided.
    `member_cases` names further adult members (member ids) who get a case
    of their own beside the first person's (family casework).

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
        with_case = set(member_cases)
        if not with_case <= {member.pk for member in members[1:]}:
            raise _invalid(
                {"member_cases": [gettext("Choose further members of this handover only.")]}
            )
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
        intake = case_intake_from_handover(
            actor=actor,
            now=now,
            owner=owner,
            gemeinde=locked.gemeinde,
            address=locked.address,
            people=[
                IntakePerson(
                    relation=member.relation,
                    existing=chosen[member.pk],
                    facts=_person_facts(member, locked),
                    opens_case=member.pk in with_case,
                )
                for member in members
            ],
            consent=IntakeConsent(
                recipient=locked.gu_facility,
                form=locked.consent_form,
                language=locked.consent_language,
                interpreter=locked.consent_interpreter,
                given_at=_start_of(locked.consent_given_on or timezone.localdate(now)),
            )
            if locked.consent_given
            else None,
            handover_accepted_at=now if owner.pk == actor.pk else None,
        )
        case = intake.case
        for member, person in zip(members, intake.people, strict=True):
            member.person = person
        HandoverMember.objects.bulk_update(members, ["person"])
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
                "member_case_ids": [c.pk for c in intake.cases[1:]],
            },
        )
    return locked


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()), timezone.get_default_timezone())


def _person_facts(member: HandoverMember, handover: Handover) -> dict[str, Any]:
    """The facts of a new person for a handed-over member (the first member
    is the contact person: the handover's phone is theirs)."""
    head = member.position == 0
    return {
        "family_name": member.family_name,
        "given_names": member.given_names,
        "date_of_birth": member.date_of_birth,
        "sex": member.sex,
        "nationality": member.nationality,
        "languages": member.languages,
        "phone": handover.phone if head else "",
        "address": handover.address,
        "gemeinde": handover.gemeinde,
        "au_allocation_date": handover.au_allocation_date,
    }


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
