"""Writes of the transfers app: exporting and importing transfer packages.

Both run in one transaction. The case data are written by the case
services (`cases.services.case_package_exported`,
`case_intake_from_package`, and the clock fact); this module builds,
signs, checks and records the package.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases import services as case_services
from cases.clock import local_date
from cases.models import Case, Catalogue, CatalogueEntry, Person, PersonClockFact
from cases.person_clock import person_clock, person_extension
from cases.selectors import DEPUTY, OWNER, case_get_for_user, transfer_consent_active
from transfers import signing
from transfers.models import TransferPackage
from transfers.package import (
    MESSAGES,
    OpenedPackage,
    PackageAlreadyImported,
    PackageNotConfigured,
    PackageRefused,
    package_open,
    package_payload,
    package_seal,
)
from transfers.selectors import transfer_targets


@dataclass(frozen=True)
class ExportedPackage:
    record: TransferPackage
    content: bytes

    @property
    def filename(self) -> str:
        return f"lotse-uebergabe-{self.record.case_id}-{self.record.package_id}.json"


def transfer_package_export(
    *, case_id: Any, actor: User, now: datetime, target: str
) -> ExportedPackage:
    """Export the case file of `case_id` as a package signed for `target`.

    For the case's manager or deputy (404 for a case they do not see, 403
    for a supervisor), with the person's active transfer consent (409
    `transfer_consent_missing`), an installation key (409
    `transfer_not_configured`) and a known receiving installation (400).
    The read is logged, the export is an event of the case.
    """
    if not signing.installation_name():
        raise PackageNotConfigured(MESSAGES["no_signing_key"], code="transfer_not_configured")
    if target not in transfer_targets():
        raise case_services.InvalidArguments(
            MESSAGES["unknown_target"], fields={"target": [MESSAGES["unknown_target"]]}
        )
    package_id = str(uuid.uuid4())
    with transaction.atomic():
        case = case_get_for_user(
            user=actor,
            case_id=case_id,
            now=now,
            view="transfers.package_export",
            readers=frozenset({OWNER, DEPUTY}),
        )
        consent = transfer_consent_active(person_id=case.person_id, now=now)
        if consent is None:
            raise case_services.TransferConsentMissing(
                case_services.TRANSFER_MESSAGES["package_consent_missing"]
            )
        signed = package_seal(
            package_payload(
                case=case, consent=consent, package_id=package_id, target=target, now=now
            )
        )
        case_services.case_package_exported(
            case=case.pk,
            actor=actor,
            now=now,
            package_id=package_id,
            target_installation=target,
            key_id=signed.key_id,
            digest=signed.sha256,
        )
        record = TransferPackage.objects.create(
            direction=TransferPackage.Direction.EXPORTED,
            package_id=package_id,
            case=case,
            source_installation=signing.installation_name(),
            target_installation=target,
            key_id=signed.key_id,
            sha256=signed.sha256,
            exported_at=now,
            recorded_at=now,
            recorded_by=actor,
        )
    return ExportedPackage(record=record, content=signed.content)


# --- import -------------------------------------------------------------------

_TEXT_LIMITS = {
    "family_name": 200,
    "given_names": 200,
    "nationality": 100,
    "languages": 200,
    "phone": 50,
    "address": 300,
}
_DATES = ("date_of_birth", "au_allocation_date")
_FLAGS = ("date_of_birth_approximate", "ukraine_displaced", "obliged_to_leave")
_CHOICES: dict[str, tuple[list[str], str]] = {
    "sex": (list(Person.Sex.values), Person.Sex.UNKNOWN),
    "literacy": (list(Person.Literacy.values), Person.Literacy.UNKNOWN),
}
_CATALOGUES = {
    "residence_status": Catalogue.RESIDENCE_STATUS,
    "benefit_status": Catalogue.BENEFIT_STATUS,
}


def _content_invalid(field: str) -> PackageRefused:
    message = _(
        "The package contains data this installation cannot take over (%(field)s). "
        "Nothing was taken over."
    ) % {"field": field}
    return PackageRefused(message, code="package_content_invalid", fields={"file": [message]})


def _date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _content_invalid(field) from None


def _person_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """The person's fields of this installation from the package (keys
    checked; a catalogue key unknown here is left empty)."""
    person = payload["person"]
    facts: dict[str, Any] = {}
    for name, limit in _TEXT_LIMITS.items():
        value = person.get(name) or ""
        if not isinstance(value, str) or len(value) > limit:
            raise _content_invalid(name)
        facts[name] = value
    if not facts["family_name"].strip():
        raise _content_invalid("family_name")
    for name in _DATES:
        facts[name] = _date(person.get(name), name)
    for name in _FLAGS:
        facts[name] = bool(person.get(name))
    for name, (values, unknown) in _CHOICES.items():
        value = person.get(name) or unknown
        if value not in values:
            raise _content_invalid(name)
        facts[name] = value
    for name, catalogue in _CATALOGUES.items():
        key = person.get(name)
        if key is not None and not isinstance(key, str):
            raise _content_invalid(name)
        facts[name] = (
            CatalogueEntry.objects.filter(catalogue=catalogue, key=key).first() if key else None
        )
    return facts


def _clock_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `person_clock_fact_record` the package states: the
    person's first consultation and the extension they used (its reason
    when this installation knows the key)."""
    found = payload.get("clock")
    clock: dict[str, Any] = found if isinstance(found, dict) else {}
    facts: dict[str, Any] = {}
    start = _date(clock.get("first_consultation_on"), "first_consultation_on")
    if start is not None:
        facts["first_consultation_on"] = start
    extension = clock.get("extension")
    if isinstance(extension, dict) and extension.get("months") is not None:
        months = extension.get("months")
        if not isinstance(months, int) or not 1 <= months <= 12:
            raise _content_invalid("extension")
        facts["extension_months"] = months
        reason = extension.get("reason")
        if (
            isinstance(reason, str)
            and reason
            and CatalogueEntry.objects.filter(
                catalogue=Catalogue.EXTENSION_REASON, key=reason
            ).exists()
        ):
            facts["extension_reason"] = reason
    return facts


def _evidence(origin: case_services.PackageOrigin) -> str:
    return (
        f"Übergabepaket {origin.package_id} von {origin.installation} "
        f"(Fall {origin.source_case_id} dort, exportiert {origin.exported_at}, "
        f"Signaturschlüssel {origin.key_id}, Signatur geprüft)"
    )


def _origin(opened: OpenedPackage) -> case_services.PackageOrigin:
    payload = opened.payload
    try:
        package_id = str(uuid.UUID(str(payload.get("package_id"))))
        case_info: Any = payload.get("case") or {}
        source_case = int(case_info.get("source_case_id"))
    except (TypeError, ValueError, AttributeError):
        raise _content_invalid("package_id") from None
    exported = parse_datetime(str(payload.get("created_at") or ""))
    if exported is None or exported.tzinfo is None:
        raise _content_invalid("created_at")
    return case_services.PackageOrigin(
        installation=opened.installation,
        package_id=package_id,
        key_id=opened.key_id,
        source_case_id=source_case,
        exported_at=exported.isoformat(),
    )


def _clock_for_known(person_pk: int, clock: dict[str, Any], today: date) -> dict[str, Any]:
    """The package's clock facts that still tell something about a known
    person: their clock continues, so a start only when it is earlier than
    the one known here, an extension only when they have not used theirs."""
    known = person_clock(person=person_pk, today=today)
    kept = dict(clock)
    start = kept.get("first_consultation_on")
    if start is not None and known.start is not None and start > known.start:
        del kept["first_consultation_on"]
    if "extension_months" in kept and person_extension(person_pk) is not None:
        kept.pop("extension_months")
        kept.pop("extension_reason", None)
    return kept


def transfer_package_import(
    *,
    content: bytes,
    actor: User,
    now: datetime,
    owner: User | None = None,
    known_person_id: int | None = None,
    not_known: bool = False,
) -> TransferPackage:
    """Take over the case file of a package from another installation.

    Checks the file (400 `PackageRefused` with the reason's code: foreign
    key, tampered, unreadable, addressed elsewhere), refuses a package taken
    over before (409 `package_already_imported`), then registers the person
    and the case for `owner` (the actor by default; a supervisor names a
    manager of the team) through the case services, with the clock facts
    and their origin, and keeps the received file.

    The person goes through the intake's duplicate check: a possible
    duplicate is 409 `possible_duplicate` with the candidates, nothing
    written, until the caller answers with `known_person_id` (the case is
    that person's; their clock continues, the package's facts only move its
    start earlier or bring an extension they have not used) or `not_known`
    (a new person).
    """
    if actor.role not in (Role.INTEGRATION_MANAGER, Role.SUPERVISOR):
        raise case_services.TransitionForbidden(case_services.MESSAGES["forbidden"])
    opened = package_open(content, max_bytes=settings.LOTSE_TRANSFER_MAX_BYTES)
    origin = _origin(opened)
    facts = _person_facts(opened.payload)
    with transaction.atomic():
        if TransferPackage.objects.filter(
            direction=TransferPackage.Direction.IMPORTED, package_id=origin.package_id
        ).exists():
            raise PackageAlreadyImported(MESSAGES["package_already_imported"])
        clock = _clock_facts(opened.payload)
        case: Case = case_services.case_intake_from_package(
            actor=actor,
            now=now,
            owner=owner or actor,
            person_facts=facts,
            origin=origin,
            known_person_id=known_person_id,
            not_known=not_known,
            package_clock=clock,
        )
        if known_person_id is not None:
            clock = _clock_for_known(case.person_id, clock, local_date(now))
        if clock:
            # The clock facts of the sending installation, with their origin.
            case_services.person_clock_fact_record(
                person=case.person_id,
                actor=actor,
                now=now,
                source=PersonClockFact.Source.TRANSFER,
                evidence=_evidence(origin),
                **clock,
            )
        return TransferPackage.objects.create(
            direction=TransferPackage.Direction.IMPORTED,
            package_id=origin.package_id,
            case=case,
            source_installation=origin.installation,
            target_installation=signing.installation_name(),
            key_id=opened.key_id,
            sha256=opened.sha256,
            exported_at=datetime.fromisoformat(origin.exported_at),
            recorded_at=now,
            recorded_by=actor,
            payload=opened.payload,
        )
