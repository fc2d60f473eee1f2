"""Moving cases between integration managers, teams and Träger.

`case_transfer` hands one case to another integration manager: of the same
team, of another team of the Träger, or of another Träger of this
installation. Where the Träger changes, the person's data leaves one
controller for another: an active consent of the person with the scope
`TRANSFER_TO_RECIPIENT` is required (409 `transfer_consent_missing`). The
case keeps its consultation period (start, regular and effective end): the
clock belongs to the person, and the person comes along.

`cases_reassign` is the supervisor's bulk action when a manager leaves:
all the manager's cases the supervisor sees, or a selection of them, go to
one new manager, one audited `case_transfer` per case, all or none. The
open tasks follow through the flow restart of each case
(`workflows.services.case_flow_sync`), the notifications through
`notifications.services.case_changes`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases import history
from cases.duplicates import intake_candidates
from cases.effects import CaseChange, ChangeKind, case_changed
from cases.errors import GuardFailed, InvalidArguments, TransitionForbidden
from cases.models import (
    Case,
    CaseStatus,
    Consent,
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
    Person,
)
from cases.selectors import (
    SUPERVISOR,
    case_not_found,
    cases_visible_to,
    parse_pk,
    transfer_consent_active,
)
from cases.services.args import _choice_arg
from cases.services.base import CONTENT_WRITERS, _audit, _case_for_write, _lock_case
from cases.services.case import case_create
from cases.services.intake import PossibleDuplicate, _person_new, known_person_choose


class TransferKind(enum.StrEnum):
    """How far a case moves."""

    SAME_TEAM = "SAME_TEAM"
    OTHER_TEAM = "OTHER_TEAM"
    OTHER_TRAEGER = "OTHER_TRAEGER"


TRANSFER_KIND_LABELS = {
    TransferKind.SAME_TEAM: _("to another manager of the team"),
    TransferKind.OTHER_TEAM: _("to another team"),
    TransferKind.OTHER_TRAEGER: _("to another Träger"),
}


class TransferReason(models.TextChoices):
    """Why a case changes hands (recorded as a code in the case's event)."""

    LEAVING = "LEAVING", _("the manager leaves")
    ABSENCE = "ABSENCE", _("absence or illness")
    PERSON_MOVED = "PERSON_MOVED", _("the person moved")
    CASELOAD = "CASELOAD", _("caseload balance")
    OTHER = "OTHER", _("other reason")


class TransferConsentMissing(GuardFailed):
    default_code = "transfer_consent_missing"


class TransferNotPossible(GuardFailed):
    default_code = "transfer_not_possible"


TRANSFER_MESSAGES: dict[str, Any] = {
    "transfer_consent_missing": _(
        "The case moves to another Träger: the person's consent to the transfer "
        "(scope: transfer to a recipient) must be recorded first."
    ),
    "transfer_not_possible": _("A case in this state cannot be handed to someone else."),
    "nothing_to_reassign": _("There are no cases to reassign."),
    "package_consent_missing": _(
        "The case file leaves this installation only with the person's consent to the "
        "transfer (scope: transfer to a recipient): record it first."
    ),
}

# A case that is still worked on or can still be reopened moves; one that is
# rejected or deleted stays where the archive keeps it.
TRANSFERABLE_STATES = (
    CaseStatus.REGISTERED,
    CaseStatus.INITIAL_COUNSELLING,
    CaseStatus.PLANNING,
    CaseStatus.ACTIVE,
    CaseStatus.DORMANT,
    CaseStatus.CLOSING,
    CaseStatus.CLOSED,
)


def transfer_kind(*, case: Case, owner: User) -> TransferKind:
    """Return how far `case` moves when `owner` takes it over."""
    if owner.traeger_id != case.traeger_id:
        return TransferKind.OTHER_TRAEGER
    current_team = User.objects.filter(pk=case.owner_id).values_list("team_id", flat=True).first()
    if owner.team_id != current_team:
        return TransferKind.OTHER_TEAM
    return TransferKind.SAME_TEAM


def _transfer_consent(case: Case, now: datetime) -> Consent | None:
    return transfer_consent_active(person_id=case.person_id, now=now)


def _check_new_owner(case: Case, owner: User) -> None:
    if (
        owner.role != Role.INTEGRATION_MANAGER
        or not owner.is_active
        or owner.team_id is None
        or owner.pk == case.owner_id
    ):
        raise InvalidArguments(
            _("Cases are owned by an active integration manager."),
            fields={"owner": [_("Choose another integration manager.")]},
        )


def _transfer_locked(
    *, locked: Case, actor: User, now: datetime, owner: User, reason: str
) -> TransferKind:
    """Move the locked case to `owner`: the rows, one audit event, the effects."""
    if locked.status not in TRANSFERABLE_STATES:
        raise TransferNotPossible(TRANSFER_MESSAGES["transfer_not_possible"])
    _check_new_owner(locked, owner)
    kind = transfer_kind(case=locked, owner=owner)
    consent = None
    if kind is TransferKind.OTHER_TRAEGER:
        consent = _transfer_consent(locked, now)
        if consent is None:
            raise TransferConsentMissing(TRANSFER_MESSAGES["transfer_consent_missing"])
    previous_owner = locked.owner_id
    previous_team = User.objects.filter(pk=previous_owner).values_list("team_id", flat=True).first()
    previous_traeger = locked.traeger_id
    values: dict[str, Any] = {"owner": owner}
    if kind is TransferKind.OTHER_TRAEGER:
        values["traeger_id"] = owner.traeger_id
        # The person's data now lie with the new Träger.
        history.update_rows(Person.objects.filter(pk=locked.person_id), traeger_id=owner.traeger_id)
    history.update_rows(Case.objects.filter(pk=locked.pk), **values)
    if kind is TransferKind.OTHER_TRAEGER:
        # The report copies follow their source, the case's Träger, in this
        # transaction (cases.models._ConsultationLink): the case's
        # consultations count where its plans and referrals count.
        history.update_rows(
            Consultation.objects.filter(case_id=locked.pk), traeger_id=owner.traeger_id
        )
        for link in (ConsultationTopic, ConsultationParticipant):
            link.objects.filter(consultation__case_id=locked.pk).update(traeger_id=owner.traeger_id)
    locked.owner = owner
    locked.traeger_id = owner.traeger_id
    _audit(
        case=locked,
        actor=actor,
        now=now,
        event_type="cases.case.transferred",
        reason=str(kind),
        data={
            "kind": str(kind),
            "old_owner_id": previous_owner,
            "new_owner_id": owner.pk,
            "old_team_id": previous_team,
            "new_team_id": owner.team_id,
            "old_traeger_id": previous_traeger,
            "new_traeger_id": owner.traeger_id,
            "consent_id": consent.pk if consent else None,
            "reason": reason,
        },
    )
    case_changed(
        CaseChange(
            case=locked,
            kind=ChangeKind.OWNER,
            actor=actor,
            now=now,
            previous_owner_id=previous_owner,
        )
    )
    return kind


@dataclass(frozen=True)
class Transferred:
    case: Case
    kind: TransferKind


def case_transfer(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    owner: User,
    reason: str = TransferReason.OTHER,
) -> Transferred:
    """Hand `case` to the integration manager `owner` (same team, another
    team or another Träger of this installation); a supervisor of the
    case's team does it.

    Raises CaseNotFound (404) for a case the actor does not see,
    TransitionForbidden (403) unless the actor supervises it,
    InvalidArguments (400) unless `owner` is another active integration
    manager, TransferNotPossible (409) for a rejected or deleted case and
    TransferConsentMissing (409) when the Träger changes without the
    person's transfer consent.
    """
    with transaction.atomic():
        code = _choice_arg(reason or TransferReason.OTHER, TransferReason, field_name="reason")
        locked = _case_for_write(case=case, actor=actor, now=now, who=(SUPERVISOR,))
        kind = _transfer_locked(locked=locked, actor=actor, now=now, owner=owner, reason=code)
    return Transferred(case=locked, kind=kind)


@dataclass(frozen=True)
class Reassignment:
    """What a bulk reassignment did: the cases, in the order they moved."""

    case_ids: list[int]
    kinds: dict[int, TransferKind]


def cases_reassign(
    *,
    actor: User,
    now: datetime,
    from_owner: User,
    owner: User,
    case_ids: Iterable[Any] | None = None,
    reason: str = TransferReason.LEAVING,
) -> Reassignment:
    """Move the cases of `from_owner` to `owner`, all or none.

    `case_ids` None moves every case of `from_owner` the supervisor sees;
    otherwise only those (each must be a case of `from_owner` the
    supervisor sees, or 404). Each case is locked in id order and gets its
    own `case_transfer` audit event; the first refusal rolls back all.
    """
    if actor.role != Role.SUPERVISOR:
        raise TransitionForbidden(_("Only a supervisor reassigns cases."))
    code = _choice_arg(reason or TransferReason.LEAVING, TransferReason, field_name="reason")
    if from_owner.pk == owner.pk:
        raise InvalidArguments(
            _("Choose a manager other than the one whose cases are moved."),
            fields={"owner": [_("Choose another integration manager.")]},
        )
    visible = cases_visible_to(user=actor, now=now).filter(
        owner_id=from_owner.pk, status__in=[s.value for s in TRANSFERABLE_STATES]
    )
    if case_ids is None:
        ids = sorted(visible.values_list("pk", flat=True))
    else:
        wanted = []
        for raw in case_ids:
            number = parse_pk(raw)
            if number is None:
                raise InvalidArguments(
                    _("The selection names a case that does not exist."),
                    fields={"case_ids": [_("Choose cases from the list.")]},
                )
            wanted.append(number)
        ids = sorted(set(wanted))
        found = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise case_not_found()
    if not ids:
        raise InvalidArguments(
            TRANSFER_MESSAGES["nothing_to_reassign"],
            fields={"case_ids": [_("Choose at least one case.")]},
        )
    kinds: dict[int, TransferKind] = {}
    with transaction.atomic():
        for pk in ids:
            locked = _case_for_write(case=pk, actor=actor, now=now, who=(SUPERVISOR,))
            kinds[pk] = _transfer_locked(
                locked=locked, actor=actor, now=now, owner=owner, reason=code
            )
    return Reassignment(case_ids=ids, kinds=kinds)


# --- transfer packages between installations (the transfers app) ------------

# The key of the package's person in a duplicate warning (`PossibleDuplicate`).
PACKAGE_PERSON = "person"


def case_package_exported(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    package_id: str,
    target_installation: str,
    key_id: str,
    digest: str,
) -> Consent:
    """Record in the case's chain that its file left this installation as a
    signed transfer package; only with the person's active transfer consent.

    Called by `transfers.services.transfer_package_export` inside its
    transaction, after the package was built. Raises CaseNotFound (404),
    TransitionForbidden (403) unless the actor is the case's manager or
    deputy, TransferConsentMissing (409) without the consent.
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        consent = _transfer_consent(locked, now)
        if consent is None:
            raise TransferConsentMissing(TRANSFER_MESSAGES["package_consent_missing"])
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.package_exported",
            reason=target_installation[:100],
            data={
                "package_id": package_id,
                "target_installation": target_installation,
                "key_id": key_id,
                "sha256": digest,
                "consent_id": consent.pk,
            },
        )
    return consent


@dataclass(frozen=True)
class PackageOrigin:
    """Where an imported case file came from (ids and names, no client data)."""

    installation: str
    package_id: str
    key_id: str
    source_case_id: int
    exported_at: str


def case_intake_from_package(
    *,
    actor: User,
    now: datetime,
    owner: User,
    person_facts: dict[str, Any],
    origin: PackageOrigin,
    known_person_id: int | None = None,
    not_known: bool = False,
    package_clock: Mapping[str, Any] | None = None,
) -> Case:
    """Register the case of a person whose file came from another Lotse
    installation: the person, the case for `owner` and one event naming the
    package's origin and the clock facts the package states
    (`package_clock`: `person_clock_fact_record`'s arguments; for a known
    person the caller records only those that still tell something, so the
    event keeps what the package said).

    The person is checked against the Träger's persons and the waiting
    handovers as an intake is (`cases.duplicates`): any candidate stops the
    import with PossibleDuplicate (409 `possible_duplicate`, candidates
    under `person`, nothing written) until the user says that it is a known
    person (`known_person_id`: the case is that person's, whose data stay as
    they are) or that it is not (`not_known`: a new person from the
    package). The answer is audited on the case
    (`cases.case.duplicates_resolved`), as the intake's is.

    Raises InvalidArguments (400), PossibleDuplicate (409) and what
    `case_create` raises (403, 409 `open_case_exists`).
    """
    with transaction.atomic():
        person: Person | None = None
        if known_person_id is not None or not not_known:
            candidates = intake_candidates(
                traeger_id=owner.traeger_id,
                family_name=person_facts["family_name"],
                given_names=person_facts.get("given_names") or "",
                date_of_birth=person_facts.get("date_of_birth"),
                nationality=person_facts.get("nationality") or "",
            )
            if known_person_id is not None:
                person = known_person_choose(
                    candidates=candidates,
                    known_person_id=known_person_id,
                    field_name="known_person_id",
                )
            elif candidates:
                raise PossibleDuplicate(
                    _(
                        "A person already known may be the person of the package. Say "
                        "whether it is the known person or someone else."
                    ),
                    candidates={PACKAGE_PERSON: candidates},
                )
        if person is None:
            person = _person_new(traeger_id=owner.traeger_id, facts=person_facts)
        case = case_create(
            person=person,
            owner=owner,
            actor=actor,
            now=now,
            intake_channel=Case.IntakeChannel.REFERRAL_OTHER_SERVICE,
        )
        locked = _lock_case(case=case.pk, actor=None, now=now)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.case.imported_from_package",
            reason=origin.installation[:100],
            data={
                "source_installation": origin.installation,
                "package_id": origin.package_id,
                "key_id": origin.key_id,
                "source_case_id": origin.source_case_id,
                "exported_at": origin.exported_at,
                "package_clock": {
                    name: value.isoformat() if isinstance(value, date) else value
                    for name, value in (package_clock or {}).items()
                },
            },
        )
        if known_person_id is not None or not_known:
            # The user's answer to the duplicate warning (as at intake).
            _audit(
                case=locked,
                actor=actor,
                now=now,
                event_type="cases.case.duplicates_resolved",
                data={
                    "linked_person_ids": [person.pk] if known_person_id is not None else [],
                    "new_person_ids": [] if known_person_id is not None else [person.pk],
                },
            )
    return locked
