"""Reads of handovers: who sees which handover, and duplicate candidates.

Visibility (DOMAIN.md §14.6, "Roles"): the GU's refugee social worker
sees only the handovers they sent. Integration managers and supervisors see
the handovers sent to a Gemeinde their Träger serves once submitted; an
accepted handover carries client data into a case and stays visible only to
whoever decided it, its assigned manager and that manager's supervisors,
and only while its case is not restricted (`cases.selectors.restricted_q`:
in the archive the handover's persons are as closed to them as the case).
Everyone else sees none (404).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from cases.duplicates import HANDOVER, PERSON, IntakeCandidate
from cases.models import Person
from cases.selectors import parse_pk, restricted_q
from config.errors import NotFound
from handover.models import Handover, HandoverMember, HandoverStatus, ImportJob


class HandoverNotFound(NotFound):
    default_code = "not_found"


def handover_not_found() -> HandoverNotFound:
    return HandoverNotFound(_("This handover does not exist."))


def handovers_visible_to(*, user: Any, now: datetime | None = None) -> QuerySet[Handover]:
    """Return the handovers `user` may see at `now` (default: the current
    time); deny by default."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Handover.objects.none()
    if user.role == Role.GU_SOCIAL_WORKER:
        return Handover.objects.filter(submitted_by=user)
    if user.role in (Role.INTEGRATION_MANAGER, Role.SUPERVISOR) and user.traeger_id:
        incoming = Q(
            gemeinde__traeger=user.traeger_id,
            status__in=[HandoverStatus.SUBMITTED, HandoverStatus.RETURNED],
        )
        if user.role == Role.INTEGRATION_MANAGER:
            decided = Q(decided_by=user) | Q(assignee=user)
        else:
            decided = Q(decided_by=user) | Q(assignee__team_id=user.team_id)
        archived = restricted_q(today=timezone.localdate(now), prefix="case__")
        return Handover.objects.filter(
            incoming | (Q(status=HandoverStatus.ACCEPTED) & decided & ~archived)
        ).distinct()
    return Handover.objects.none()


def handover_get_for_user(*, user: Any, handover_id: Any, now: datetime | None = None) -> Handover:
    """Return the handover if `user` may see it; HandoverNotFound otherwise."""
    number = parse_pk(handover_id)
    handover = (
        None
        if number is None
        else handovers_visible_to(user=user, now=now)
        .select_related("gemeinde", "submitted_by", "assignee", "decided_by")
        .filter(pk=number)
        .first()
    )
    if handover is None:
        raise handover_not_found()
    return handover


def handover_list_for_user(*, user: Any, now: datetime | None = None) -> QuerySet[Handover]:
    """Return the visible handovers, oldest waiting first."""
    return (
        handovers_visible_to(user=user, now=now)
        .select_related("gemeinde", "submitted_by", "assignee")
        .prefetch_related("members")
        .order_by("submitted_at", "pk")
    )


def handover_of_case(*, case: Any) -> Handover | None:
    """Return the handover a case came from, with its persons (the case's
    readers decide whether it is shown; this only reads)."""
    return (
        Handover.objects.filter(case_id=case.pk)
        .select_related("gemeinde", "submitted_by")
        .prefetch_related("members")
        .first()
    )


# --- duplicate detection ---------------------------------------------------

# Latin transcriptions of Cyrillic (Ukrainian and Russian letters).
_CYRILLIC = dict(
    zip(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "h",
            "g",
            "d",
            "e",
            "ye",
            "zh",
            "z",
            "y",
            "i",
            "yi",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)
# Spellings of one sound across German, English and French transcriptions,
# longest first.
_SOUNDS = [
    ("tsch", "ch"),
    ("sch", "sh"),
    ("dsch", "j"),
    ("dj", "j"),
    ("kh", "h"),
    ("ch", "h"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("gh", "g"),
    ("ck", "k"),
    ("x", "ks"),
    ("q", "k"),
    ("c", "k"),
    ("w", "v"),
    ("ß", "ss"),
]
_VOWELS = set("aeiouy")


def name_key(name: str) -> str:
    """Return a spelling-independent key of one name.

    Umlauts and accents fold to their base letter, Cyrillic is transcribed,
    common transcription variants are unified, then the vowels after the
    first letter are dropped and doubled letters collapsed: Mohammed,
    Muhammad and Mohamed give "mhmd"; Oleksandr, Alexander and Олександр
    give "alksndr"; Müller and Mueller give "mlr".
    """
    text = name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = "".join(_CYRILLIC.get(char, char) for char in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("ae", "a").replace("oe", "o").replace("ue", "u")
    for spelling, sound in _SOUNDS:
        text = text.replace(spelling, sound)
    text = re.sub(r"[^a-z]", "", text)
    if not text:
        return ""
    if text[0] == "j":
        text = "y" + text[1:]
    first = "a" if text[0] in _VOWELS - {"y"} else text[0]
    rest = "".join(char for char in text[1:] if char not in _VOWELS)
    return re.sub(r"(.)\1+", r"\1", first + rest)


def names_key(names: str) -> tuple[str, ...]:
    """Return the keys of each part of a (multi-part) name."""
    return tuple(key for key in (name_key(part) for part in re.split(r"[\s\-]+", names)) if key)


def reference_key(reference: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", reference.upper())


def _names_match(family_a: str, given_a: str, family_b: str, given_b: str) -> bool:
    fam_a, fam_b = set(names_key(family_a)), set(names_key(family_b))
    giv_a, giv_b = names_key(given_a), names_key(given_b)
    same_order = bool(fam_a & fam_b) and (not giv_a or not giv_b or giv_a[0] == giv_b[0])
    # Arabic and Afghan names are often swapped between the two fields.
    swapped = bool(fam_a & set(giv_b)) and bool(set(giv_a) & fam_b)
    return same_order or swapped


@dataclass(frozen=True)
class Candidate:
    person: Person
    reasons: tuple[str, ...]


def _nationality(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def person_candidates(
    *,
    traeger_id: int,
    family_name: str,
    given_names: str,
    date_of_birth: date | None,
    nationality: str = "",
    authority_reference: str = "",
    limit: int = 5,
) -> list[Candidate]:
    """Return existing persons of the Träger who may be this person.

    A candidate has the same authority reference, or a matching name (see
    `name_key`, also with family and given names swapped) and no conflicting
    date of birth or nationality. Persons with the same reference come
    first, then those with the same date of birth.
    """
    found: dict[int, Candidate] = {}
    reference = reference_key(authority_reference)
    if reference:
        linked = (
            HandoverMember.objects.filter(
                person__traeger_id=traeger_id, person__anonymised_at__isnull=True
            )
            .exclude(authority_reference="")
            .select_related("person")
            .order_by("person_id")
        )
        for member in linked:
            if reference_key(member.authority_reference) == reference:
                found[member.person_id] = Candidate(member.person, ("authority_reference",))
    persons = Person.objects.filter(traeger_id=traeger_id, anonymised_at__isnull=True)
    if date_of_birth is not None:
        persons = persons.filter(Q(date_of_birth=date_of_birth) | Q(date_of_birth__isnull=True))
    wanted_nationality = _nationality(nationality)
    for person in persons.order_by("pk").iterator():
        if person.pk in found:
            continue
        if not _names_match(family_name, given_names, person.family_name, person.given_names):
            continue
        theirs = _nationality(person.nationality)
        if wanted_nationality and theirs and wanted_nationality != theirs:
            continue
        reasons = ["name"]
        if date_of_birth is not None and person.date_of_birth == date_of_birth:
            reasons.append("date_of_birth")
        if wanted_nationality and wanted_nationality == theirs:
            reasons.append("nationality")
        found[person.pk] = Candidate(person, tuple(reasons))
    ranked = sorted(
        found.values(),
        key=lambda c: ("authority_reference" not in c.reasons, -len(c.reasons), c.person.pk),
    )
    return ranked[:limit]


def member_candidates(*, handover: Handover, traeger_id: int) -> dict[int, list[Candidate]]:
    """Return the duplicate candidates of each handed-over person, by member id."""
    return {
        member.pk: person_candidates(
            traeger_id=traeger_id,
            family_name=member.family_name,
            given_names=member.given_names,
            date_of_birth=member.date_of_birth,
            nationality=member.nationality,
            authority_reference=member.authority_reference,
        )
        for member in handover.members.order_by("position")
    }


def import_job_get_for_user(*, user: Any, job_id: Any) -> ImportJob:
    """A worker import job, for its sender only (everyone else: 404)."""
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        raise HandoverNotFound(_("This import does not exist.")) from None
    job = ImportJob.objects.filter(pk=pk, submitted_by_id=user.pk).first()
    if job is None:
        raise HandoverNotFound(_("This import does not exist."))
    return job


def intake_candidates(
    *,
    traeger_id: int,
    family_name: str,
    given_names: str,
    date_of_birth: date | None,
    nationality: str = "",
) -> list[IntakeCandidate]:
    """The duplicate check of an intake without a handover (registered in
    `cases.duplicates`): the Träger's persons as a handover's acceptance
    checks them (`person_candidates`), and the persons of the handovers
    sent to the Träger's Gemeinden that still wait for a decision."""
    found = [
        IntakeCandidate(
            kind=PERSON,
            object_id=c.person.pk,
            family_name=c.person.family_name,
            given_names=c.person.given_names,
            date_of_birth=c.person.date_of_birth,
            reasons=c.reasons,
        )
        for c in person_candidates(
            traeger_id=traeger_id,
            family_name=family_name,
            given_names=given_names,
            date_of_birth=date_of_birth,
            nationality=nationality,
        )
    ]
    waiting = HandoverMember.objects.filter(
        handover__gemeinde__traeger=traeger_id, handover__status=HandoverStatus.SUBMITTED
    )
    if date_of_birth is not None:
        waiting = waiting.filter(Q(date_of_birth=date_of_birth) | Q(date_of_birth__isnull=True))
    wanted_nationality = _nationality(nationality)
    seen: set[int] = set()
    for member in waiting.order_by("handover_id", "position"):
        if member.handover_id in seen:
            continue
        if not _names_match(family_name, given_names, member.family_name, member.given_names):
            continue
        theirs = _nationality(member.nationality)
        if wanted_nationality and theirs and wanted_nationality != theirs:
            continue
        reasons = ["name"]
        if date_of_birth is not None and member.date_of_birth == date_of_birth:
            reasons.append("date_of_birth")
        seen.add(member.handover_id)
        found.append(
            IntakeCandidate(
                kind=HANDOVER,
                object_id=member.handover_id,
                family_name=member.family_name,
                given_names=member.given_names,
                date_of_birth=member.date_of_birth,
                reasons=tuple(reasons),
            )
        )
    return found
