"""API v1: one case walked from `registered` to `closed` through the API alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from cases.models import ExtensionRequest
from tests.accounts.factories import TeamFactory
from tests.cases.factories import manager_in, new_case, supervisor_of

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "pw-test-123"}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def history(api: APIClient, case_id: int) -> list[tuple[str, str, str]]:
    response = api.get(f"/api/v1/cases/{case_id}/history/")
    assert response.status_code == 200
    return [(e["event_type"], e["from_state"], e["to_state"]) for e in response.json()]


def fire(api: APIClient, case_id: int, name: str, **args: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/cases/{case_id}/transitions/{name}/", args, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_walk_one_case_from_registered_to_closed_with_an_extension() -> None:
    team = TeamFactory()
    owner = manager_in(team)
    lead = supervisor_of(team)
    case = new_case(owner=owner, now=timezone.now() - timedelta(days=1))
    api = client_for(owner)
    today = timezone.localdate()
    url = f"/api/v1/cases/{case.pk}"

    detail = api.get(f"{url}/").json()
    assert (detail["status"], detail["allowed_transitions"]) == (
        "registered",
        ["reject_ineligible", "withdraw_consent"],
    )
    assert detail["person"]["family_name"] == case.person.family_name

    response = api.post(
        f"{url}/consents/",
        {"scope": "case_processing", "form": "signed_paper", "language": "ar"},
        format="json",
    )
    assert response.status_code == 201
    response = api.post(
        f"{url}/consultations/",
        {
            "date": today.isoformat(),
            "duration_minutes": 60,
            "form": "outreach",
            "topics": ["housing", "language"],
        },
        format="json",
    )
    assert response.status_code == 201
    first = response.json()
    assert (first["form"], first["topics"]) == ("outreach", ["language", "housing"])
    assert "record_first_consultation" in api.get(f"{url}/").json()["allowed_transitions"]

    detail = fire(
        api,
        case.pk,
        "record_first_consultation",
        consultation_id=first["id"],
        eligibility_basis="follow_up_accommodation",
        benefit_status="asylblg",
    )
    assert detail["status"] == "initial_counselling"
    assert detail["consultation_start"] == today.isoformat()
    assert detail["allowed_transitions"] == ["withdraw_consent"]

    response = api.put(
        f"{url}/assessment/",
        {
            "assessed_on": today.isoformat(),
            "items": [
                {"field_of_action": "language", "need_level": "high"},
                {"field_of_action": "work", "need_level": "medium"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200
    assert [i["field_of_action"] for i in response.json()["items"]] == ["language", "work"]

    detail = fire(api, case.pk, "draft_plan")
    assert (detail["status"], detail["allowed_transitions"]) == (
        "planning",
        ["decline_plan", "withdraw_consent"],
    )

    response = api.post(
        f"{url}/plan/goals/",
        {
            "field_of_action": "language",
            "title": "B1-Kurs abschließen",
            "success_criterion": "Zertifikat B1",
            "target_date": (today + timedelta(days=200)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    goal = response.json()
    response = api.post(
        f"{url}/plan/goals/{goal['id']}/measures/",
        {"description": "Anmeldung beim Kursträger", "responsible": "client"},
        format="json",
    )
    assert response.status_code == 201
    assert "agree_plan" in api.get(f"{url}/").json()["allowed_transitions"]

    detail = fire(api, case.pk, "agree_plan", agreement_form="signature", agreement_language="ar")
    assert detail["status"] == "active"
    assert detail["allowed_transitions"] == [
        "review_plan",
        "pause",
        "start_closing",
        "withdraw_consent",
    ]
    plan = api.get(f"{url}/plan/").json()
    assert (plan["version"], plan["status"], plan["goals"][0]["status"]) == (1, "agreed", "agreed")

    response = api.post(
        f"{url}/extension-requests/",
        {"reason": "illiteracy", "months": 6, "justification": "Alphabetisierung dauert an"},
        format="json",
    )
    assert response.status_code == 201
    extension_id = response.json()["id"]
    lead_api = client_for(lead)
    pending = lead_api.get("/api/v1/extension-requests/?status=submitted").json()
    assert [(r["id"], r["justification"]) for r in pending["results"]] == [(extension_id, None)]
    response = lead_api.post(
        f"/api/v1/extension-requests/{extension_id}/approve/",
        {"note": "Nachweis liegt vor"},
        format="json",
    )
    assert response.status_code == 200
    detail = api.get(f"{url}/").json()
    assert detail["effective_end"] > detail["regular_end"]

    detail = fire(
        api, case.pk, "review_plan", goal_updates=[{"goal_id": goal["id"], "status": "achieved"}]
    )
    assert detail["status"] == "active"
    plan = api.get(f"{url}/plan/").json()
    assert (plan["version"], plan["goals"][0]["status"]) == (2, "achieved")
    assert [r["version"] for r in plan["reviews"]] == [2]

    detail = fire(api, case.pk, "start_closing", ground="all_goals_final")
    assert (detail["status"], detail["allowed_transitions"]) == (
        "closing",
        ["close", "withdraw_consent"],
    )

    response = api.post(
        f"{url}/referrals/",
        {
            "date": today.isoformat(),
            "target_service": "mbe",
            "mode": "accompanied",
            "is_final": True,
        },
        format="json",
    )
    assert response.status_code == 201
    referral = response.json()
    response = api.post(
        f"{url}/transitions/close/", {"closure_reason": "goals_achieved"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "referrals_open")
    response = api.patch(
        f"{url}/referrals/{referral['id']}/", {"outcome": "taken_up"}, format="json"
    )
    assert response.status_code == 200

    detail = fire(api, case.pk, "close", closure_reason="goals_achieved")
    assert (detail["status"], detail["closure_reason"]) == ("closed", "goals_achieved")
    assert detail["allowed_transitions"] == []

    assert [e for e in history(api, case.pk) if e[0].startswith("cases.case.")] == [
        ("cases.case.created", "", "registered"),
        ("cases.case.record_first_consultation", "registered", "initial_counselling"),
        ("cases.case.draft_plan", "initial_counselling", "planning"),
        ("cases.case.agree_plan", "planning", "active"),
        ("cases.case.review_plan", "active", "active"),
        ("cases.case.start_closing", "active", "closing"),
        ("cases.case.close", "closing", "closed"),
    ]
    assert ("cases.extension_request.approved", "submitted", "approved") in history(api, case.pk)


def test_requester_approving_own_extension_gets_409_and_nothing_changes() -> None:
    from tests.cases.factories import journey_to

    case = journey_to("ACTIVE")
    api = client_for(case.owner)
    extension_id = api.post(
        f"/api/v1/cases/{case.pk}/extension-requests/",
        {"reason": "illiteracy", "months": 3, "justification": "Kurs"},
        format="json",
    ).json()["id"]
    events = AuditEvent.objects.count()

    response = api.post(f"/api/v1/extension-requests/{extension_id}/approve/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "self_approval"
    assert ExtensionRequest.objects.get(pk=extension_id).status == "SUBMITTED"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "name", ["no_show_timeout", "period_expired", "no_contact_timeout", "retention_elapsed"]
)
def test_system_transitions_are_403_through_the_api(name: str) -> None:
    case = new_case()

    response = client_for(case.owner).post(
        f"/api/v1/cases/{case.pk}/transitions/{name}/", {}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "system_only")


def test_errors_have_the_api_shape() -> None:
    case = new_case()
    api = client_for(case.owner)

    unauthenticated = APIClient().get("/api/v1/cases/")
    bad = api.post(
        f"/api/v1/cases/{case.pk}/transitions/reject_ineligible/",
        {"reason": "BORED"},
        format="json",
    )
    reserved = api.post(f"/api/v1/cases/{case.pk}/transitions/pause/", {"actor": 1}, format="json")
    not_object = api.post(f"/api/v1/cases/{case.pk}/transitions/pause/", [1, 2], format="json")

    assert (unauthenticated.status_code, unauthenticated.json()["code"]) == (
        401,
        "not_authenticated",
    )
    assert bad.status_code == 400
    assert (bad.json()["code"], list(bad.json()["fields"])) == ("invalid", ["reason"])
    assert (reserved.status_code, list(reserved.json()["fields"])) == (400, ["actor"])
    assert not_object.status_code == 400


def test_case_data_is_never_cached() -> None:
    case = new_case()
    api = client_for(case.owner)

    response = api.get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_deputy_list_reads_principals_cases_in_constant_queries(
    django_assert_max_num_queries: Any,
) -> None:
    from tests.accounts.factories import DeputyGrantFactory

    owner = manager_in(TeamFactory())
    for _ in range(6):
        new_case(owner=owner)
    deputy = manager_in(owner.team)
    now = timezone.now()
    DeputyGrantFactory(
        principal=owner,
        deputy=deputy,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1),
    )
    api = client_for(deputy)

    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/cases/")

    rows = response.json()["results"]
    assert len(rows) == 6
    assert all(row["person"] is not None for row in rows)
