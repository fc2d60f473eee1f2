"""The duplicate check of a transfer package's import (issue 19): the person
of the package goes through the intake's check; a possible duplicate stops
the import (409 `possible_duplicate`, nothing written) until the user says
that it is a known person (the case is theirs, their clock continues) or
someone else (a new person). Service, API and the import page."""

from __future__ import annotations

import base64
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from cases import services
from cases.models import Case, CaseStatus, Consent, Person, PersonClockFact
from cases.person_clock import person_clock
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    T0,
    PersonFactory,
    ensure_catalogues,
    give_consent,
    journey_to,
    manager_in,
    supervisor_of,
)
from tests.cases.test_api_contract import openapi_schema
from tests.transfers.test_package import RECEIVER, SENDER
from transfers.models import TransferPackage
from transfers.package import package_seal
from transfers.services import transfer_package_export, transfer_package_import

pytestmark = pytest.mark.django_db
TODAY = T0.date()
SENT_ON = T0 - timedelta(days=200)  # the first consultation at the sending installation
URL = "/fallwechsel/paket-einlesen/"
API = "/api/v1/transfer-packages/import/"


def _package(*, extension_months: int | None = None) -> tuple[Case, bytes]:
    """A case of the sending installation and its signed package."""
    ensure_catalogues()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=SENT_ON)
    give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT, now=SENT_ON)
    with override_settings(**SENDER):
        content = transfer_package_export(
            case_id=case.pk, actor=case.owner, now=T0, target="lotse.kreis-b.example"
        ).content
    if extension_months is not None:
        envelope = json.loads(content)
        payload = json.loads(base64.b64decode(envelope["payload"]))
        payload["clock"]["extension"] = {"months": extension_months, "reason": "illiteracy"}
        with override_settings(**SENDER):
            content = package_seal(payload).content
    return case, content


def _known_twin(sent: Case, manager: User, *, start: Any = None, months: Any = None) -> Person:
    """The same person as already known at the receiving Träger (same name
    and date of birth), with a clock of their own."""
    person = PersonFactory(
        traeger=manager.traeger,
        family_name=sent.person.family_name,
        given_names=sent.person.given_names,
        date_of_birth=sent.person.date_of_birth,
    )
    if start is not None or months is not None:
        services.person_clock_fact_record(
            person=person,
            actor=None,
            now=T0,
            source=PersonClockFact.Source.OTHER_TRAEGER,
            evidence="Nachweis",
            first_consultation_on=start,
            extension_months=months,
        )
    return person


def _counts() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Case.objects.count(),
        TransferPackage.objects.count(),
        PersonClockFact.objects.count(),
        AuditEvent.objects.count(),
    )


def _import(content: bytes, manager: User, **answer: Any) -> TransferPackage:
    with override_settings(**RECEIVER):
        return transfer_package_import(content=content, actor=manager, now=T0, **answer)


# --- service -------------------------------------------------------------------


def test_a_possible_duplicate_stops_the_import_and_writes_nothing() -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager)
    before = _counts()
    with pytest.raises(services.PossibleDuplicate) as duplicate:
        _import(content, manager)
    assert (duplicate.value.http_status, duplicate.value.code) == (409, "possible_duplicate")
    [candidate] = duplicate.value.candidates["person"]
    assert (candidate.kind, candidate.object_id) == ("person", known.pk)
    body = duplicate.value.as_dict()
    assert body["candidates"]["person"][0]["id"] == known.pk
    assert body["fields"]["person"]
    assert _counts() == before
    # A person of another Träger is no candidate: the import goes through.
    elsewhere = manager_in(TeamFactory())
    assert _import(content, elsewhere).case.person_id != known.pk


def test_known_person_the_case_is_theirs_and_their_earlier_start_stays() -> None:
    sent, content = _package(extension_months=6)
    manager = manager_in(TeamFactory())
    earlier = TODAY - timedelta(days=400)
    known = _known_twin(sent, manager, start=earlier)
    persons = Person.objects.count()

    record = _import(content, manager, known_person_id=known.pk)

    case = record.case
    assert case.person_id == known.pk
    assert Person.objects.count() == persons
    # The person's clock continues: the package's later start changes
    # nothing, the extension they had not used comes along.
    clock = person_clock(person=known.pk, today=TODAY)
    assert clock.start == earlier
    assert clock.extension_months == 6
    fact = PersonClockFact.objects.get(person=known, source=PersonClockFact.Source.TRANSFER)
    assert (fact.first_consultation_on, fact.extension_months) == (None, 6)
    known.refresh_from_db()
    assert known.prior_consultation_start == earlier
    assert known.family_name == sent.person.family_name
    events = list(
        AuditEvent.objects.filter(case_id=case.pk).order_by("pk").values_list("event_type", "data")
    )
    names = [name for name, _ in events]
    assert names[:1] == ["cases.case.created"]
    assert "cases.case.imported_from_package" in names
    assert "cases.person.clock_fact_recorded" in names
    resolved = dict(events)["cases.case.duplicates_resolved"]
    assert resolved == {"linked_person_ids": [known.pk], "new_person_ids": []}
    # What the package said stays on record, the later start included.
    stated = dict(events)["cases.case.imported_from_package"]["package_clock"]
    assert stated["extension_months"] == 6
    assert stated["first_consultation_on"] > earlier.isoformat()


def test_known_person_an_earlier_start_of_the_package_moves_the_clock() -> None:
    sent, content = _package(extension_months=6)
    manager = manager_in(TeamFactory())
    later = TODAY - timedelta(days=100)
    known = _known_twin(sent, manager, start=later, months=3)

    record = _import(content, manager, known_person_id=known.pk)

    assert record.case.person_id == known.pk
    clock = person_clock(person=known.pk, today=TODAY)
    assert clock.start == sent.consultation_start == SENT_ON.date()
    # One extension per person: theirs stays, the package's is not recorded.
    assert clock.extension_months == 3
    fact = PersonClockFact.objects.get(person=known, source=PersonClockFact.Source.TRANSFER)
    assert (fact.first_consultation_on, fact.extension_months) == (SENT_ON.date(), None)


def test_known_person_with_an_extension_but_no_start_yet_keeps_theirs() -> None:
    sent, content = _package(extension_months=6)
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager, months=2)

    record = _import(content, manager, known_person_id=known.pk)

    assert record.case.person_id == known.pk
    clock = person_clock(person=known.pk, today=TODAY)
    assert (clock.start, clock.extension_months) == (SENT_ON.date(), 2)


def test_not_known_makes_a_new_person_and_a_wrong_answer_writes_nothing() -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager)
    stranger = PersonFactory(
        traeger=manager.traeger, given_names="Otto", date_of_birth=date(1950, 1, 2)
    )
    before = _counts()
    with pytest.raises(services.InvalidArguments) as wrong:
        _import(content, manager, known_person_id=stranger.pk)
    assert "known_person_id" in wrong.value.fields
    assert _counts() == before

    record = _import(content, manager, not_known=True)

    person = record.case.person
    assert person.pk not in (known.pk, stranger.pk)
    assert (person.family_name, person.date_of_birth) == (
        sent.person.family_name,
        sent.person.date_of_birth,
    )
    assert person_clock(person=person, today=TODAY).start == SENT_ON.date()
    resolved = AuditEvent.objects.get(
        case_id=record.case_id, event_type="cases.case.duplicates_resolved"
    )
    assert resolved.data == {"linked_person_ids": [], "new_person_ids": [person.pk]}


def test_a_known_person_with_an_open_case_is_refused() -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    open_case = journey_to(CaseStatus.ACTIVE, owner=manager)
    Person.objects.filter(pk=open_case.person_id).update(
        family_name=sent.person.family_name,
        given_names=sent.person.given_names,
        date_of_birth=sent.person.date_of_birth,
    )
    before = _counts()
    with pytest.raises(services.ApplicationError) as refused:
        _import(content, manager, known_person_id=open_case.person_id)
    assert (refused.value.http_status, refused.value.code) == (409, "open_case_exists")
    assert _counts() == before


# --- API -------------------------------------------------------------------------


def _api(user: User, content: bytes, **fields: Any) -> Any:
    client = APIClient()
    client.force_authenticate(user)
    with override_settings(**RECEIVER):
        return client.post(
            API, {"file": SimpleUploadedFile("p.json", content), **fields}, format="multipart"
        )


def test_api_409_with_the_candidates_then_the_answer() -> None:
    sent, content = _package()
    team = TeamFactory()
    manager, lead = manager_in(team), supervisor_of(team)
    known = _known_twin(sent, manager)

    warned = _api(manager, content)
    assert warned.status_code == 409
    body = warned.json()
    assert body["code"] == "possible_duplicate"
    assert body["candidates"]["person"] == [
        {
            "kind": "person",
            "id": known.pk,
            "family_name": known.family_name,
            "given_names": known.given_names,
            "date_of_birth": known.date_of_birth.isoformat(),
            "reasons": ["name", "date_of_birth", "nationality"],
        }
    ]
    assert not TransferPackage.objects.filter(direction="IMPORTED").exists()
    assert _api(manager, content, not_known="vielleicht").status_code == 400
    assert _api(manager, content, known_person_id="x").status_code == 400

    taken = _api(lead, content, owner_id=manager.pk, known_person_id=known.pk)
    assert taken.status_code == 201, taken.content
    case = Case.objects.get(pk=taken.json()["case_id"])
    assert (case.person_id, case.owner_id) == (known.pk, manager.pk)
    assert taken.json()["person_id"] == known.pk


def test_api_not_known_and_the_schema_documents_the_answer() -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager)
    taken = _api(manager, content, not_known="true")
    assert taken.status_code == 201, taken.content
    assert Case.objects.get(pk=taken.json()["case_id"]).person_id != known.pk

    schema = openapi_schema(manager)
    operation = schema["paths"][API]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert {"file", "owner_id", "known_person_id", "not_known"} <= set(fields)
    assert "possible_duplicate" in operation["description"]


# --- the import page ----------------------------------------------------------------


def _web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_candidates_keeps_the_file_and_takes_the_answer() -> None:
    sent, content = _package(extension_months=6)
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager, start=TODAY - timedelta(days=400))
    web = _web(manager)
    with override_settings(**RECEIVER), translation.override("de"):
        warned = web.post(
            URL,
            {"file": SimpleUploadedFile("paket.json", content), "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
        page = warned.content.decode()
        assert warned.status_code == 409
        assert "Möglicherweise bereits bekannt" in page
        assert known.family_name in page
        assert known.date_of_birth.strftime("%d.%m.%Y") in page
        assert f'value="{known.pk}"' in page
        assert 'value="new"' in page
        assert "paket.json" in page  # kept: no second upload
        assert "bis zu Ihrer Antwort aufbewahrt" in page
        assert "Ist das eine bereits bekannte Person?" in page
        assert not TransferPackage.objects.filter(direction="IMPORTED").exists()
        token = warned.context["pending_token"]
        assert token

        taken = web.post(
            URL,
            {"pending": token, "decision": str(known.pk), "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert taken.status_code == 302, taken.content.decode()
    record = TransferPackage.objects.get(direction="IMPORTED")
    assert taken["Location"] == f"/faelle/{record.case_id}/"
    assert record.case.person_id == known.pk
    assert person_clock(person=known.pk, today=TODAY).extension_months == 6
    # The kept file is gone once taken over.
    assert "transfers.pending_package" not in web.session


def test_the_page_someone_else_and_a_lost_file() -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager)
    web = _web(manager)
    with override_settings(**RECEIVER), translation.override("de"):
        lost = web.post(
            URL,
            {"pending": "abc", "decision": "new", "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
        assert lost.status_code == 400
        assert "erneut" in lost.content.decode()
        warned = web.post(
            URL,
            {"file": SimpleUploadedFile("paket.json", content), "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
        token = warned.context["pending_token"]
        # No answer given: the warning again, the file still kept.
        again = web.post(URL, {"pending": token, "owner": manager.pk}, HTTP_ACCEPT_LANGUAGE="de")
        assert again.status_code == 409
        token = again.context["pending_token"]
        taken = web.post(
            URL,
            {"pending": token, "decision": "new", "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert taken.status_code == 302
    record = TransferPackage.objects.get(direction="IMPORTED")
    assert record.case.person_id != known.pk
    assert record.case.person.family_name == known.family_name


def test_the_page_keeps_the_file_when_the_answer_is_refused() -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    open_case = journey_to(CaseStatus.ACTIVE, owner=manager)
    Person.objects.filter(pk=open_case.person_id).update(
        family_name=sent.person.family_name,
        given_names=sent.person.given_names,
        date_of_birth=sent.person.date_of_birth,
    )
    web = _web(manager)
    with override_settings(**RECEIVER), translation.override("de"):
        warned = web.post(
            URL,
            {"file": SimpleUploadedFile("paket.json", content), "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
        assert warned.status_code == 409
        refused = web.post(
            URL,
            {
                "pending": warned.context["pending_token"],
                "decision": str(open_case.person_id),
                "owner": manager.pk,
            },
            HTTP_ACCEPT_LANGUAGE="de",
        )
        assert refused.status_code == 409
        assert refused.context["pending_token"]
        assert "paket.json" in refused.content.decode()
        # Someone else after all: the kept file is taken over.
        taken = web.post(
            URL,
            {"pending": refused.context["pending_token"], "decision": "new", "owner": manager.pk},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert taken.status_code == 302
    assert TransferPackage.objects.get(direction="IMPORTED").case.person_id != open_case.person_id


def test_the_command_names_the_candidates_and_takes_the_answer(tmp_path: Any) -> None:
    sent, content = _package()
    manager = manager_in(TeamFactory())
    known = _known_twin(sent, manager)
    package = tmp_path / "paket.json"
    package.write_bytes(content)
    with override_settings(**RECEIVER):
        with pytest.raises(CommandError) as warned:
            call_command("transfer_package_import", str(package), user=manager.username)
        assert "possible_duplicate" in str(warned.value)
        assert f"person {known.pk}:" in str(warned.value)
        done = io.StringIO()
        call_command(
            "transfer_package_import",
            str(package),
            user=manager.username,
            known_person=known.pk,
            stdout=done,
        )
    assert "taken over" in done.getvalue()
    assert TransferPackage.objects.get(direction="IMPORTED").case.person_id == known.pk
