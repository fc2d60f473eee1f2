"""Transfer packages: signed export, checked import, refusals.

The round trip runs between two PostgreSQL databases: the sending
installation's (the test database) and a receiving one created from the
migrated, empty test database as its template; each side has its own name,
key and trusted keys, as two installations would.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connections
from django.test import override_settings
from django.utils import translation

from audit.models import AuditEvent
from cases import services
from cases.models import Case, CaseStatus, Consent, Person, PersonClockFact
from cases.person_clock import person_clock
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    T0,
    ensure_catalogues,
    give_consent,
    journey_to,
    manager_in,
    supervisor_of,
)
from transfers import signing
from transfers.models import TransferPackage
from transfers.package import PackageRefused, package_seal
from transfers.services import transfer_package_export, transfer_package_import

SENDER_KEY = signing.key_generate()
RECEIVER_KEY = signing.key_generate()
STRANGER_KEY = signing.key_generate()

SENDER = {
    "LOTSE_INSTALLATION_NAME": "lotse.kreis-a.example",
    "LOTSE_TRANSFER_SIGNING_KEY": signing.private_key_text(SENDER_KEY),
    "LOTSE_TRANSFER_TRUSTED_KEYS": {
        "lotse.kreis-b.example": signing.public_key_text(RECEIVER_KEY.public_key())
    },
}
RECEIVER = {
    "LOTSE_INSTALLATION_NAME": "lotse.kreis-b.example",
    "LOTSE_TRANSFER_SIGNING_KEY": signing.private_key_text(RECEIVER_KEY),
    "LOTSE_TRANSFER_TRUSTED_KEYS": {
        "lotse.kreis-a.example": signing.public_key_text(SENDER_KEY.public_key())
    },
}


def _consenting_case(now: Any = T0) -> Case:
    team = TeamFactory()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(team), now=now)
    give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT, now=now)
    return case


def _export(case: Case, now: Any = T0) -> bytes:
    with override_settings(**SENDER):
        return transfer_package_export(
            case_id=case.pk, actor=case.owner, now=now, target="lotse.kreis-b.example"
        ).content


def _tamper(content: bytes, change: Any) -> bytes:
    envelope = json.loads(content)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    change(payload)
    body = json.dumps(payload, sort_keys=True).encode()
    envelope["payload"] = base64.b64encode(body).decode()
    return json.dumps(envelope).encode()


# --- the round trip between two databases -----------------------------------


@contextmanager
def _database(name: str) -> Iterator[None]:
    """Point the default connection at database `name` for the block."""
    connection = connections["default"]
    before = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = before


def _admin(sql: str) -> None:
    params = connections["default"].settings_dict
    with psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


@pytest.fixture
def receiving_database(transactional_db: Any) -> Iterator[str]:
    """A second, empty Lotse database: the receiving installation's."""
    connection = connections["default"]
    sending = connection.settings_dict["NAME"]
    receiving = f"{sending}_receiver"
    connection.close()
    _admin(f'DROP DATABASE IF EXISTS "{receiving}"')
    _admin(f'CREATE DATABASE "{receiving}" TEMPLATE "{sending}"')
    try:
        yield receiving
    finally:
        connections["default"].close()
        _admin(f'DROP DATABASE IF EXISTS "{receiving}" WITH (FORCE)')


@pytest.mark.postgres
def test_round_trip_between_two_installations(receiving_database: str) -> None:
    # --- installation A: the manager exports the case file ------------------
    ensure_catalogues()
    case = _consenting_case()
    clock = (case.consultation_start, case.regular_end, case.effective_end)
    person = Person.objects.get(pk=case.person_id)
    content = _export(case, now=T0 + timedelta(hours=1))
    exported = TransferPackage.objects.get(case=case)
    [event] = AuditEvent.objects.filter(case_id=case.pk, event_type="cases.case.package_exported")
    assert (event.actor_id, event.data["package_id"], event.data["sha256"]) == (
        case.owner_id,
        str(exported.package_id),
        exported.sha256,
    )
    # The file carries no label, only keys, and names both installations.
    envelope = json.loads(content)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    assert (payload["source_installation"], payload["target_installation"]) == (
        "lotse.kreis-a.example",
        "lotse.kreis-b.example",
    )
    assert envelope["key_id"] == signing.key_id_of(SENDER_KEY.public_key())

    # --- installation B: another database, its own settings -------------------
    with _database(receiving_database), override_settings(**RECEIVER):
        assert not Case.objects.exists()  # nothing of A is here
        ensure_catalogues()
        team = TeamFactory()
        manager, lead = manager_in(team), supervisor_of(team)

        # A changed byte is refused, and nothing is written.
        tampered = _tamper(content, lambda p: p["person"].update(family_name="Anders"))
        with pytest.raises(PackageRefused) as refused:
            transfer_package_import(content=tampered, actor=manager, now=T0 + timedelta(days=1))
        assert refused.value.code == "package_tampered"
        with translation.override("de"):
            assert "Signatur" in str(refused.value.message)
        assert not Case.objects.exists()
        assert not TransferPackage.objects.exists()

        record = transfer_package_import(
            content=content, actor=lead, now=T0 + timedelta(days=1), owner=manager
        )

        imported = Case.objects.select_related("person").get(pk=record.case_id)
        assert (imported.owner_id, imported.status, imported.intake_channel) == (
            manager.pk,
            CaseStatus.REGISTERED,
            Case.IntakeChannel.REFERRAL_OTHER_SERVICE,
        )
        assert (imported.person.family_name, imported.person.date_of_birth) == (
            person.family_name,
            person.date_of_birth,
        )
        # The clock fact: the first consultation at A starts the period at B,
        # recorded with where it came from.
        assert imported.person.prior_consultation_start == clock[0]
        [fact] = PersonClockFact.objects.filter(person=imported.person)
        assert (fact.source, fact.first_consultation_on, fact.recorded_by_id) == (
            PersonClockFact.Source.TRANSFER,
            clock[0],
            lead.pk,
        )
        assert "lotse.kreis-a.example" in fact.evidence
        assert payload["package_id"] in fact.evidence
        assert person_clock(person=imported.person, today=T0.date()).start == clock[0]
        assert (record.source_installation, record.key_id, record.payload["clock"]) == (
            "lotse.kreis-a.example",
            envelope["key_id"],
            {
                "first_consultation_on": clock[0].isoformat(),
                "regular_end": clock[1].isoformat(),
                "effective_end": clock[2].isoformat(),
                "extension": None,
            },
        )
        [origin] = AuditEvent.objects.filter(
            case_id=imported.pk, event_type="cases.case.imported_from_package"
        )
        assert (origin.actor_id, origin.data["source_installation"], origin.data["package_id"]) == (
            lead.pk,
            "lotse.kreis-a.example",
            payload["package_id"],
        )
        # The same package twice is refused.
        with pytest.raises(services.ApplicationError) as again:
            transfer_package_import(content=content, actor=manager, now=T0 + timedelta(days=2))
        assert (again.value.http_status, again.value.code) == (409, "package_already_imported")
        assert Case.objects.count() == 1

    # Back at A nothing of B exists.
    assert not TransferPackage.objects.filter(direction="IMPORTED").exists()


# --- refusals in one database ------------------------------------------------


@pytest.mark.django_db
def test_a_foreign_signed_package_is_refused_with_a_german_message() -> None:
    ensure_catalogues()
    case = _consenting_case()
    stranger = {**SENDER, "LOTSE_TRANSFER_SIGNING_KEY": signing.private_key_text(STRANGER_KEY)}
    with override_settings(**stranger):
        content = transfer_package_export(
            case_id=case.pk, actor=case.owner, now=T0, target="lotse.kreis-b.example"
        ).content
    manager = manager_in(TeamFactory())
    with override_settings(**RECEIVER), pytest.raises(PackageRefused) as refused:
        transfer_package_import(content=content, actor=manager, now=T0)
    assert (refused.value.http_status, refused.value.code) == (400, "package_foreign_key")
    with translation.override("de"):
        assert "Schlüssel" in str(refused.value.message)
    assert not TransferPackage.objects.filter(direction="IMPORTED").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json", "package_unreadable"),
        (b'{"format": "something else"}', "package_unreadable"),
        (b"[]", "package_unreadable"),
    ],
)
def test_a_file_that_is_no_package_is_refused(content: bytes, code: str) -> None:
    manager = manager_in(TeamFactory())
    with override_settings(**RECEIVER), pytest.raises(PackageRefused) as refused:
        transfer_package_import(content=content, actor=manager, now=T0)
    assert refused.value.code == code


@pytest.mark.django_db
def test_a_package_for_another_installation_or_with_a_swapped_signature_is_refused() -> None:
    ensure_catalogues()
    case = _consenting_case()
    content = _export(case)
    manager = manager_in(TeamFactory())
    elsewhere = {**RECEIVER, "LOTSE_INSTALLATION_NAME": "lotse.kreis-c.example"}
    with override_settings(**elsewhere), pytest.raises(PackageRefused) as refused:
        transfer_package_import(content=content, actor=manager, now=T0)
    assert refused.value.code == "package_not_for_us"
    envelope = json.loads(content)
    envelope["signature"] = base64.b64encode(b"\0" * 64).decode()
    with override_settings(**RECEIVER), pytest.raises(PackageRefused) as refused:
        transfer_package_import(content=json.dumps(envelope).encode(), actor=manager, now=T0)
    assert refused.value.code == "package_tampered"


@pytest.mark.django_db
def test_export_needs_the_transfer_consent_and_the_case_manager() -> None:
    ensure_catalogues()
    team = TeamFactory()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(team))
    events = AuditEvent.objects.filter(case_id=case.pk).count()
    with override_settings(**SENDER):
        with pytest.raises(services.TransferConsentMissing):
            transfer_package_export(
                case_id=case.pk, actor=case.owner, now=T0, target="lotse.kreis-b.example"
            )
        give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT)
        with pytest.raises(services.ApplicationError) as forbidden:
            transfer_package_export(
                case_id=case.pk, actor=supervisor_of(team), now=T0, target="lotse.kreis-b.example"
            )
        assert forbidden.value.http_status == 403
        with pytest.raises(services.CaseNotFound):
            transfer_package_export(
                case_id=case.pk,
                actor=manager_in(team),
                now=T0,
                target="lotse.kreis-b.example",
            )
        with pytest.raises(services.InvalidArguments):
            transfer_package_export(
                case_id=case.pk, actor=case.owner, now=T0, target="lotse.unknown.example"
            )
    # Only the consent was recorded: no export event, no package row.
    assert AuditEvent.objects.filter(case_id=case.pk).count() == events + 1
    assert not TransferPackage.objects.exists()
    unset = {**SENDER, "LOTSE_TRANSFER_SIGNING_KEY": ""}
    with override_settings(**unset), pytest.raises(services.ApplicationError) as unconfigured:
        transfer_package_export(
            case_id=case.pk, actor=case.owner, now=T0, target="lotse.kreis-b.example"
        )
    assert (unconfigured.value.http_status, unconfigured.value.code) == (
        409,
        "transfer_not_configured",
    )


@pytest.mark.django_db
def test_an_extension_used_elsewhere_comes_along_as_a_clock_fact() -> None:
    ensure_catalogues()
    case = _consenting_case()
    content = _export(case)
    envelope = json.loads(content)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["clock"]["extension"] = {
        "months": 6,
        "reason": "illiteracy",
        "approved_at": T0.isoformat(),
        "resulting_effective_end": None,
    }
    with override_settings(**SENDER):
        resealed = package_seal(payload).content
    manager = manager_in(TeamFactory())

    with override_settings(**RECEIVER):
        record = transfer_package_import(content=resealed, actor=manager, now=T0)

    fact = PersonClockFact.objects.get(person__cases=record.case_id)
    assert (fact.first_consultation_on, fact.extension_months, fact.extension_reason.key) == (
        case.consultation_start,
        6,
        "illiteracy",
    )
    clock = person_clock(person=fact.person_id, today=T0.date())
    assert (clock.start, clock.extension_months) == (case.consultation_start, 6)


@pytest.mark.django_db
def test_the_commands_make_a_key_export_and_import(tmp_path: Any) -> None:
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("transfer_key", "--new", stdout=out)
    assert "LOTSE_TRANSFER_SIGNING_KEY=" in out.getvalue()
    assert "key id:" in out.getvalue()

    ensure_catalogues()
    case = _consenting_case()
    package = tmp_path / "package.json"
    with override_settings(**SENDER):
        call_command(
            "transfer_package_export",
            str(case.pk),
            user=case.owner.username,
            target="lotse.kreis-b.example",
            output=str(package),
            stdout=io.StringIO(),
        )
    manager = manager_in(TeamFactory())
    with override_settings(**RECEIVER):
        done = io.StringIO()
        call_command("transfer_package_import", str(package), user=manager.username, stdout=done)
        assert "lotse.kreis-a.example" in done.getvalue()
        package.write_bytes(
            _tamper(package.read_bytes(), lambda p: p.update(target_installation="x"))
        )
        with pytest.raises(CommandError, match="package_tampered"):
            call_command("transfer_package_import", str(package), user=manager.username)
    assert TransferPackage.objects.filter(direction="IMPORTED").count() == 1
