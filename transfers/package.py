"""The transfer package: a case file as one signed JSON file.

The file is an envelope around the payload's exact bytes:

    {"format": "lotse-transfer-package", "version": 1,
     "key_id": "<16 hex>", "signature": "<base64 Ed25519>",
     "payload": "<base64 of the UTF-8 JSON case file>"}

The payload names the sending and the receiving installation, the package
id and time, and carries the person's data, the household, the clock facts
(first consultation, regular and effective end, an approved extension), the
plan's goals, the consultations, referrals and the transfer consent, all
with catalogue keys (never labels). `package_payload` builds it from a
case; `package_open` checks a file and returns the payload, or refuses it
with a German message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.models import Case, Consent, ExtensionStatus
from cases.selectors import case_file
from config.errors import Conflict, InvalidInput
from transfers import signing

FORMAT = "lotse-transfer-package"
VERSION = 1

PERSON_FIELDS = (
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
    "obliged_to_leave",
)


class PackageRefused(InvalidInput):
    """A package file that is not taken over (400, the code says why)."""

    default_code = "package_refused"


class PackageAlreadyImported(Conflict):
    default_code = "package_already_imported"


class PackageNotConfigured(Conflict):
    default_code = "transfer_not_configured"


MESSAGES: dict[str, Any] = {
    "package_unreadable": _(
        "This file is not a Lotse transfer package (or it is damaged). Nothing was taken over."
    ),
    "package_too_large": _("The file is too large for a transfer package."),
    "package_foreign_key": _(
        "The package was signed with a key this installation does not trust. Nothing was "
        "taken over: ask the sending installation for its public key and have it configured "
        "(LOTSE_TRANSFER_TRUSTED_KEYS)."
    ),
    "package_tampered": _(
        "The signature of the package does not match its content: the file was changed or "
        "damaged after the export. Nothing was taken over."
    ),
    "package_not_for_us": _(
        "The package is addressed to another installation. Nothing was taken over."
    ),
    "package_already_imported": _("This package has already been taken over."),
    "no_signing_key": _(
        "This installation has no signing key for transfer packages yet "
        "(LOTSE_TRANSFER_SIGNING_KEY, LOTSE_INSTALLATION_NAME)."
    ),
    "unknown_target": _("Choose an installation this installation exchanges packages with."),
}


def _refused(code: str) -> PackageRefused:
    return PackageRefused(MESSAGES[code], code=code, fields={"file": [MESSAGES[code]]})


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _key(entry: Any) -> str | None:
    return entry.key if entry is not None else None


def package_payload(
    *, case: Case, consent: Consent, package_id: str, target: str, now: datetime
) -> dict[str, Any]:
    """The case file of `case` as the package carries it (reads only)."""
    file = case_file(case=case, consultations=None)
    person = file.person
    approved = [r for r in file.extension_requests if r.status == ExtensionStatus.APPROVED]
    extension = approved[0] if approved else None
    first = case.consultation_start
    prior = person.prior_consultation_start
    if prior is not None and (first is None or prior < first):
        first = prior
    return {
        "package_id": package_id,
        "created_at": now.isoformat(),
        "source_installation": signing.installation_name(),
        "target_installation": target,
        "case": {
            "source_case_id": case.pk,
            "programme": case.programme,
            "status": case.status,
            "intake_channel": case.intake_channel,
            "registered_at": _iso(case.registered_at),
            "eligibility_basis": case.eligibility_basis,
        },
        "person": {
            **{name: _plain(getattr(person, name)) for name in PERSON_FIELDS},
            "residence_status": _key(person.residence_status),
            "benefit_status": _key(person.benefit_status),
        },
        "household": [
            {
                "family_name": m.person.family_name,
                "given_names": m.person.given_names,
                "date_of_birth": _iso(m.person.date_of_birth),
                "relation": m.relation,
                "this_person": m.person_id == case.person_id,
            }
            for m in file.members
        ],
        "clock": {
            "first_consultation_on": _iso(first),
            "regular_end": _iso(case.regular_end),
            "effective_end": _iso(case.effective_end),
            "extension": None
            if extension is None
            else {
                "months": extension.months,
                "reason": _key(extension.reason),
                "approved_at": _iso(extension.decided_at),
                "resulting_effective_end": _iso(extension.resulting_effective_end),
            },
        },
        "plan": None
        if file.plan is None
        else {
            "version": file.plan.version,
            "status": file.plan.status,
            "agreed_at": _iso(file.plan.agreed_at),
            "next_review_at": _iso(file.plan.next_review_at),
            "goals": [
                {
                    "field_of_action": _key(goal.field_of_action),
                    "title": goal.title,
                    "success_criterion": goal.success_criterion,
                    "target_date": _iso(goal.target_date),
                    "status": goal.status,
                }
                for goal in file.goals
            ],
        },
        "consultations": [
            {
                "held_on": _iso(c.held_on),
                "duration_minutes": c.duration_minutes,
                "form": _key(c.form),
                "topics": [t.key for t in c.topics.all()],
                "status": c.status,
            }
            for c in file.consultations
        ],
        "referrals": [
            {
                "referred_on": _iso(r.referred_on),
                "target_service": _key(r.target_service),
                "organisation": r.organisation,
                "is_final": r.is_final,
                "outcome": r.outcome,
            }
            for r in file.referrals
        ],
        "consent": {
            "given_at": _iso(consent.given_at),
            "form": consent.form,
            "language": consent.language,
            "recipient": consent.recipient,
        },
    }


@dataclass(frozen=True)
class SignedPackage:
    content: bytes
    key_id: str
    sha256: str


def package_seal(payload: dict[str, Any]) -> SignedPackage:
    """Sign `payload` with this installation's key and wrap it."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    try:
        key_id, signature = signing.sign(body)
    except signing.KeyNotConfigured:
        raise PackageNotConfigured(
            MESSAGES["no_signing_key"], code="transfer_not_configured"
        ) from None
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "key_id": key_id,
        "signature": signature,
        "payload": base64.b64encode(body).decode("ascii"),
    }
    content = json.dumps(envelope, indent=1).encode("utf-8")
    return SignedPackage(content=content, key_id=key_id, sha256=hashlib.sha256(content).hexdigest())


@dataclass(frozen=True)
class OpenedPackage:
    payload: dict[str, Any]
    installation: str  # the trusted sender, by its key
    key_id: str
    sha256: str


def package_open(content: bytes, *, max_bytes: int) -> OpenedPackage:
    """Check a package file and return its payload.

    Refuses (400, `PackageRefused`) a file that is no package
    (`package_unreadable`), too large (`package_too_large`), signed with a
    key not trusted here (`package_foreign_key`), whose signature does not
    match its content (`package_tampered`), or addressed to another
    installation (`package_not_for_us`).
    """
    if len(content) > max_bytes:
        raise _refused("package_too_large")
    try:
        envelope = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refused("package_unreadable") from None
    if (
        not isinstance(envelope, dict)
        or envelope.get("format") != FORMAT
        or envelope.get("version") != VERSION
        or not all(isinstance(envelope.get(k), str) for k in ("key_id", "signature", "payload"))
    ):
        raise _refused("package_unreadable")
    try:
        body = base64.b64decode(envelope["payload"], validate=True)
    except (ValueError, binascii.Error):
        raise _refused("package_tampered") from None
    trusted = signing.trusted_keys().get(envelope["key_id"])
    if trusted is None:
        raise _refused("package_foreign_key")
    if not signing.verify(payload=body, key=trusted.key, signature=envelope["signature"]):
        raise _refused("package_tampered")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refused("package_unreadable") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("person"), dict):
        raise _refused("package_unreadable")
    if payload.get("source_installation") != trusted.installation:
        # Signed by a trusted key, yet claiming to come from elsewhere.
        raise _refused("package_foreign_key")
    if payload.get("target_installation") != signing.installation_name():
        raise _refused("package_not_for_us")
    return OpenedPackage(
        payload=payload,
        installation=trusted.installation,
        key_id=trusted.key_id,
        sha256=hashlib.sha256(content).hexdigest(),
    )
