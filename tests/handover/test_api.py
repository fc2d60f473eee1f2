"""The handover endpoints of API.md: paths, status codes, idempotency, access."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from cases.models import Case
from handover.models import Handover, HandoverStatus
from tests.cases.factories import PersonFactory
from tests.handover.factories import submitted, world

pytestmark = pytest.mark.django_db


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(ags: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "external_reference": "GU-7",
        "gemeinde_ags": ags,
        "au_allocation_date": "2025-12-01",
        "consent_given": True,
        "consent_form": "signed_paper",
        "consent_language": "ar",
        "consent_given_on": "2025-11-20",
        "known_needs": "Sprachkurs",
        "gu_contact_name": "Gül Test",
        "members": [
            {"family_name": "Haddad", "given_names": "Amal", "date_of_birth": "1990-03-01"},
            {"family_name": "Haddad", "given_names": "Sami", "relation": "child"},
        ],
    }
    data.update(overrides)
    return data


def test_post_creates_and_submits_and_the_same_reference_returns_it() -> None:
    w = world()
    client = client_for(w.gu)

    first = client.post("/api/v1/handovers/", body(w.gemeinde.ags), format="json")
    again = client.post("/api/v1/handovers/", body(w.gemeinde.ags), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "submitted"
    assert [m["given_names"] for m in first.json()["members"]] == ["Amal", "Sami"]
    assert Handover.objects.count() == 1


def test_post_without_consent_answers_with_the_allocation_facts_only() -> None:
    w = world()

    response = client_for(w.gu).post(
        "/api/v1/handovers/", body(w.gemeinde.ags, consent_given=False), format="json"
    )

    data = response.json()
    assert response.status_code == 201
    assert (data["known_needs"], data["consent_form"], data["consent_given_on"]) == ("", "", None)
    assert data["members"][0]["date_of_birth"] is None


def test_post_with_bad_values_is_400_with_fields_and_writes_nothing() -> None:
    w = world()

    response = client_for(w.gu).post(
        "/api/v1/handovers/", body("12345678", members=[]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert sorted(response.json()["fields"]) == ["members"]
    assert Handover.objects.count() == 0


def test_post_by_a_manager_is_403() -> None:
    w = world()

    response = client_for(w.manager).post("/api/v1/handovers/", body(w.gemeinde.ags), format="json")

    assert response.status_code == 403
    assert Handover.objects.count() == 0


def test_list_shows_what_the_caller_may_see_and_filters_status() -> None:
    w = world()
    waiting = submitted(w)
    returned = submitted(w, external_reference="X", members=[{"family_name": "Other"}])
    client_for(w.manager).post(
        f"/api/v1/handovers/{returned.pk}/return/", {"reason": "duplicate"}, format="json"
    )

    mine = client_for(w.gu).get("/api/v1/handovers/?status=returned").json()
    incoming = client_for(w.manager).get("/api/v1/handovers/?status=submitted").json()
    foreign = client_for(w.foreign_manager).get("/api/v1/handovers/").json()

    assert [(h["id"], h["return_reason"]) for h in mine["results"]] == [(returned.pk, "duplicate")]
    assert [h["id"] for h in incoming["results"]] == [waiting.pk]
    assert foreign["count"] == 0


def test_detail_is_404_for_outsiders_and_shows_candidates_to_managers() -> None:
    w = world()
    known = PersonFactory(
        traeger=w.manager.traeger,
        family_name="Hadad",
        given_names="Amal",
        date_of_birth=None,
        nationality="",
    )
    handover = submitted(w)

    outsider = client_for(w.foreign_manager).get(f"/api/v1/handovers/{handover.pk}/")
    manager = client_for(w.manager).get(f"/api/v1/handovers/{handover.pk}/")
    sender = client_for(w.gu).get(f"/api/v1/handovers/{handover.pk}/")

    assert outsider.status_code == 404
    member_id = str(handover.members.get().pk)
    assert manager.json()["duplicate_candidates"] == {
        member_id: [
            {
                "person_id": known.pk,
                "family_name": "Hadad",
                "given_names": "Amal",
                "date_of_birth": None,
                "nationality": "",
                "reasons": ["name"],
            }
        ]
    }
    assert sender.json()["duplicate_candidates"] is None


def test_accept_is_201_with_the_case_and_a_second_accept_is_409() -> None:
    w = world()
    handover = submitted(w)

    first = client_for(w.manager).post(
        f"/api/v1/handovers/{handover.pk}/accept/", {}, format="json"
    )
    second = client_for(w.colleague).post(
        f"/api/v1/handovers/{handover.pk}/accept/", {}, format="json"
    )

    assert first.status_code == 201
    assert first.json() == {"case_id": Case.objects.get().pk}
    assert (second.status_code, second.json()["code"]) == (409, "handover_not_open")
    assert Case.objects.count() == 1


def test_accept_with_assignee_and_duplicate_decision() -> None:
    w = world()
    known = PersonFactory(traeger=w.manager.traeger, family_name="Haddad", given_names="Amal")
    handover = submitted(w)
    member_id = handover.members.get().pk
    client = client_for(w.supervisor)

    undecided = client.post(
        f"/api/v1/handovers/{handover.pk}/accept/", {"assignee": w.colleague.pk}, format="json"
    )
    decided = client.post(
        f"/api/v1/handovers/{handover.pk}/accept/",
        {"assignee": w.colleague.pk, "persons": {str(member_id): known.pk}},
        format="json",
    )

    assert (undecided.status_code, undecided.json()["code"]) == (409, "possible_duplicate")
    assert undecided.json()["fields"] == {str(member_id): [str(known.pk)]}
    assert decided.status_code == 201
    case = Case.objects.get(pk=decided.json()["case_id"])
    assert (case.person, case.owner) == (known, w.colleague)


def test_accept_and_return_are_404_for_outsiders_and_403_for_the_sender() -> None:
    w = world()
    handover = submitted(w)

    for path in ("accept", "return"):
        data = {"reason": "incomplete"} if path == "return" else {}
        outsider = client_for(w.foreign_manager).post(
            f"/api/v1/handovers/{handover.pk}/{path}/", data, format="json"
        )
        sender = client_for(w.gu).post(
            f"/api/v1/handovers/{handover.pk}/{path}/", data, format="json"
        )
        assert (outsider.status_code, sender.status_code) == (404, 403)

    handover.refresh_from_db()
    assert handover.status == HandoverStatus.SUBMITTED


def test_return_is_200_with_the_reason() -> None:
    w = world()
    handover = submitted(w)

    response = client_for(w.manager).post(
        f"/api/v1/handovers/{handover.pk}/return/",
        {"reason": "incomplete", "note": "Geburtsdatum fehlt"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["return_reason"]) == (
        "returned",
        "incomplete",
    )


def test_unknown_ids_are_404() -> None:
    w = world()
    client = client_for(w.manager)

    for path in ("/api/v1/handovers/0/", "/api/v1/handovers/abc/", "/api/v1/handovers/99/x/"):
        assert client.get(path).status_code == 404
    assert client.post("/api/v1/handovers/1e3/accept/", {}, format="json").status_code == 404
