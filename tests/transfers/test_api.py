"""The transfer API: one request per path, with codes, rows and events."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from cases.models import Case, CaseStatus, Consent
from notifications.models import Notification
from tests.accounts.factories import TeamFactory
from tests.cases.factories import give_consent, journey_to, manager_in, supervisor_of
from tests.transfers.test_package import RECEIVER, SENDER
from transfers.models import TransferPackage

pytestmark = pytest.mark.django_db


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _transferred(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(case_id=case.pk, event_type="cases.case.transferred"))


def test_transfer_moves_the_case_and_answers_with_the_kind() -> None:
    team = TeamFactory()
    old, lead = manager_in(team), supervisor_of(team)
    other_team_manager = manager_in(TeamFactory(traeger=team.traeger))
    case = journey_to(CaseStatus.ACTIVE, owner=old)

    response = client_for(lead).post(
        f"/api/v1/cases/{case.pk}/transfer/",
        {"owner_id": other_team_manager.pk, "reason": "person_moved"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "case_id": case.pk,
        "owner_id": other_team_manager.pk,
        "kind": "other_team",
    }
    assert Case.objects.get(pk=case.pk).owner_id == other_team_manager.pk
    assert len(_transferred(case)) == 1


def test_transfer_refusals_have_codes_and_change_nothing() -> None:
    team = TeamFactory()
    old, lead = manager_in(team), supervisor_of(team)
    foreign = manager_in(TeamFactory())
    case = journey_to(CaseStatus.ACTIVE, owner=old)
    url = f"/api/v1/cases/{case.pk}/transfer/"

    no_consent = client_for(lead).post(url, {"owner_id": foreign.pk}, format="json")
    by_owner = client_for(old).post(url, {"owner_id": foreign.pk}, format="json")
    outsider = client_for(supervisor_of(TeamFactory())).post(
        url, {"owner_id": foreign.pk}, format="json"
    )
    unknown = client_for(lead).post(url, {"owner_id": lead.pk}, format="json")
    bad = client_for(lead).post(url, {"owner_id": "x"}, format="json")

    assert (no_consent.status_code, no_consent.json()["code"]) == (
        409,
        "transfer_consent_missing",
    )
    assert "Einwilligung" in no_consent.json()["detail"]
    assert (by_owner.status_code, outsider.status_code) == (403, 404)
    assert (unknown.status_code, list(unknown.json()["fields"])) == (400, ["owner_id"])
    assert bad.status_code == 400
    assert Case.objects.get(pk=case.pk).owner_id == old.pk
    assert _transferred(case) == []


def test_reassign_moves_all_cases_of_the_leaving_manager() -> None:
    team = TeamFactory()
    leaving, successor, lead = manager_in(team), manager_in(team), supervisor_of(team)
    cases = [journey_to(CaseStatus.ACTIVE, owner=leaving) for _ in range(2)]

    response = client_for(lead).post(
        "/api/v1/cases/reassign/",
        {"from_owner_id": leaving.pk, "owner_id": successor.pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"case_ids": sorted(c.pk for c in cases), "count": 2}
    assert all(len(_transferred(c)) == 1 for c in cases)
    assert client_for(leaving).get(f"/api/v1/cases/{cases[0].pk}/").status_code == 404
    assert client_for(leaving).get("/api/v1/cases/").json()["count"] == 0
    assert not Notification.objects.filter(recipient=leaving).exists()


def test_reassign_of_a_selection_and_its_refusals() -> None:
    team = TeamFactory()
    leaving, successor, lead = manager_in(team), manager_in(team), supervisor_of(team)
    first, second = (journey_to(CaseStatus.ACTIVE, owner=leaving) for _ in range(2))
    url = "/api/v1/cases/reassign/"

    by_manager = client_for(successor).post(
        url, {"from_owner_id": leaving.pk, "owner_id": successor.pk}, format="json"
    )
    foreign_case = client_for(lead).post(
        url,
        {
            "from_owner_id": leaving.pk,
            "owner_id": successor.pk,
            "case_ids": [first.pk, journey_to(CaseStatus.ACTIVE).pk],
        },
        format="json",
    )
    assert (by_manager.status_code, foreign_case.status_code) == (403, 404)
    assert _transferred(first) == []
    assert _transferred(second) == []

    selection = client_for(lead).post(
        url,
        {"from_owner_id": leaving.pk, "owner_id": successor.pk, "case_ids": [second.pk]},
        format="json",
    )
    assert selection.json() == {"case_ids": [second.pk], "count": 1}
    assert Case.objects.get(pk=first.pk).owner_id == leaving.pk


def test_package_export_and_import_through_the_api() -> None:
    team = TeamFactory()
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(team))
    url = f"/api/v1/cases/{case.pk}/transfer-package/"
    body = {"target_installation": "lotse.kreis-b.example"}
    with override_settings(**SENDER):
        refused = client_for(case.owner).post(url, body, format="json")
        assert (refused.status_code, refused.json()["code"]) == (409, "transfer_consent_missing")
        give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT)
        by_lead = client_for(supervisor_of(team)).post(url, body, format="json")
        assert by_lead.status_code == 403
        response = client_for(case.owner).post(url, body, format="json")
    assert response.status_code == 201
    assert response["Content-Disposition"].startswith("attachment; filename=")
    content = response.content

    receiving_team = TeamFactory()
    manager, lead = manager_in(receiving_team), supervisor_of(receiving_team)
    with override_settings(**RECEIVER):
        tampered = content.replace(b'"signature": "', b'"signature": "AA', 1)
        bad = client_for(manager).post(
            "/api/v1/transfer-packages/import/",
            {"file": SimpleUploadedFile("p.json", tampered)},
            format="multipart",
        )
        assert (bad.status_code, bad.json()["code"]) == (400, "package_tampered")
        assert "Signatur" in bad.json()["detail"]
        imported = client_for(lead).post(
            "/api/v1/transfer-packages/import/",
            {"file": SimpleUploadedFile("p.json", content), "owner_id": manager.pk},
            format="multipart",
        )
        assert imported.status_code == 201, imported.content
        again = client_for(manager).post(
            "/api/v1/transfer-packages/import/",
            {"file": SimpleUploadedFile("p.json", content)},
            format="multipart",
        )
    assert (again.status_code, again.json()["code"]) == (409, "package_already_imported")
    data = imported.json()
    assert data["source_installation"] == "lotse.kreis-a.example"
    new_case = Case.objects.get(pk=data["case_id"])
    assert new_case.owner_id == manager.pk
    assert new_case.pk != case.pk
    assert TransferPackage.objects.filter(direction="IMPORTED", case=new_case).count() == 1
