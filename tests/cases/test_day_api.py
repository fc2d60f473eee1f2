"""API v1 of the manager's day (issue 20): corrections and cancellations,
the needs over time, the chronology, network contacts; error codes."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from cases.models import CaseStatus, Consultation, Correction, Goal, Measure, Referral
from tests.accounts.factories import TeamFactory
from tests.cases.factories import journey_to, manager_in, supervisor_of

pytestmark = pytest.mark.django_db


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def case() -> Any:
    return journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))


def test_a_consultation_is_corrected_and_cancelled_through_the_api(case: Any) -> None:
    api = api_for(case.owner)
    consultation = Consultation.objects.get(case=case)
    url = f"/api/v1/cases/{case.pk}/consultations/{consultation.pk}"

    corrected = api.post(
        f"{url}/correct/",
        {"reason": "Dauer vertippt", "duration_minutes": 90, "topics": ["housing"]},
        format="json",
    )
    cancelled = api.post(f"{url}/cancel/", {"reason": "doppelt erfasst"}, format="json")
    again = api.post(f"{url}/cancel/", {"reason": "nochmal"}, format="json")

    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["duration_minutes"], corrected.json()["topics"]) == (90, ["housing"])
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["code"] == "already_cancelled"
    assert list(
        AuditEvent.objects.filter(object_type="consultation", case_id=case.pk)
        .order_by("seq")
        .values_list("event_type", flat=True)
    )[-2:] == ["cases.consultation.corrected", "cases.consultation.cancelled"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duration_minutes": 30}, "reason"),
        ({"reason": "x", "duration_minutes": 0}, "duration_minutes"),
        ({"reason": "x", "status": "cancelled"}, "status"),
        ({"reason": "x", "form": "nonsense"}, "form"),
        ({"reason": "x"}, "reason"),  # nothing to correct
    ],
)
def test_a_bad_correction_is_400_with_the_field(case: Any, body: dict, field: str) -> None:
    consultation = Consultation.objects.get(case=case)
    response = api_for(case.owner).post(
        f"/api/v1/cases/{case.pk}/consultations/{consultation.pk}/correct/", body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json().get("fields", {}), response.json()
    assert not Correction.objects.exists()


def test_foreign_and_unknown_entries_are_404_and_a_supervisor_403(case: Any) -> None:
    consultation = Consultation.objects.get(case=case)
    other = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()))
    url = f"/api/v1/cases/{case.pk}/consultations/{consultation.pk}/cancel/"
    body = {"reason": "x"}

    stranger = api_for(other.owner).post(url, body, format="json")
    wrong_case = api_for(other.owner).post(
        f"/api/v1/cases/{other.pk}/consultations/{consultation.pk}/cancel/", body, format="json"
    )
    missing = api_for(case.owner).post(
        f"/api/v1/cases/{case.pk}/consultations/999999999/cancel/", body, format="json"
    )
    lead = api_for(supervisor_of(case.owner.team)).post(url, body, format="json")

    assert (stranger.status_code, wrong_case.status_code, missing.status_code) == (404, 404, 404)
    assert lead.status_code == 403
    assert not Correction.objects.exists()


def test_referral_goal_and_step_corrections_through_the_api(case: Any) -> None:
    api = api_for(case.owner)
    base = f"/api/v1/cases/{case.pk}"
    created = api.post(
        f"{base}/referrals/",
        {
            "date": timezone.localdate().isoformat(),
            "target_service": "jobcenter",
            "mode": "appointment_arranged",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    referral_id = created.json()["id"]
    goal = Goal.objects.get(plan__case=case)
    measure = Measure.objects.get(goal=goal)

    referral = api.post(
        f"{base}/referrals/{referral_id}/correct/",
        {"reason": "falsche Stelle", "target_service": "mbe", "organisation": "MBE Ulm"},
        format="json",
    )
    goal_response = api.post(
        f"{base}/plan/goals/{goal.pk}/correct/",
        {"reason": "klarer", "title": "B1-Prüfung bestehen"},
        format="json",
    )
    superseded = api.post(
        f"{base}/plan/goals/{goal.pk}/measures/{measure.pk}/cancel/",
        {"reason": "nicht mehr nötig"},
        format="json",
    )
    new_goal_id = goal_response.json()["id"]
    new_measure = Measure.objects.get(goal_id=new_goal_id)
    step = api.post(
        f"{base}/plan/goals/{new_goal_id}/measures/{new_measure.pk}/cancel/",
        {"reason": "nicht mehr nötig"},
        format="json",
    )
    cancelled_referral = api.post(
        f"{base}/referrals/{referral_id}/cancel/", {"reason": "doppelt"}, format="json"
    )

    assert referral.status_code == 200, referral.json()
    assert (referral.json()["target_service"], referral.json()["organisation"]) == (
        "mbe",
        "MBE Ulm",
    )
    assert goal_response.status_code == 200, goal_response.json()
    assert goal_response.json()["title"] == "B1-Prüfung bestehen"
    assert goal_response.json()["id"] != goal.pk  # the agreed plan got a new version
    assert superseded.status_code == 409
    assert superseded.json()["code"] == "no_current_plan"
    assert step.status_code == 200, step.json()
    assert step.json()["cancelled_at"] is not None
    assert cancelled_referral.json()["cancelled_at"] is not None
    assert Referral.objects.get(pk=referral_id).cancelled_at is not None


def test_assessments_and_the_chronology_through_the_api(case: Any) -> None:
    api = api_for(case.owner)
    base = f"/api/v1/cases/{case.pk}"
    put = api.put(
        f"{base}/assessment/",
        {
            "assessed_on": timezone.localdate().isoformat(),
            "items": [{"field_of_action": "language", "need_level": "low"}],
        },
        format="json",
    )
    assert put.status_code == 200, put.json()

    needs = api.get(f"{base}/assessments/").json()
    assessment_id = needs["assessments"][0]["id"]
    corrected = api.post(
        f"{base}/assessments/{assessment_id}/correct/",
        {
            "reason": "falsch eingestuft",
            "items": [{"field_of_action": "language", "need_level": "medium"}],
        },
        format="json",
    )
    chronology = api.get(f"{base}/chronology/", {"kind": "assessment"}).json()

    assert [row["field_of_action"] for row in needs["changes"]] == ["language"]
    assert needs["changes"][0]["change"] == "improved"
    assert corrected.status_code == 200, corrected.json()
    assert {e["kind"] for e in chronology} == {"assessment"}
    [first] = [e for e in chronology if e["id"] == assessment_id]
    assert first["corrections"][0]["reason"] == "falsch eingestuft"
    assert first["corrections"][0]["after"] == {"language": "MEDIUM"}


def test_network_contacts_are_corrected_and_cancelled_through_the_api() -> None:
    team = TeamFactory()
    manager, colleague = manager_in(team), manager_in(team)
    api = api_for(manager)
    created = api.post(
        "/api/v1/network-contacts/",
        {
            "date": timezone.localdate().isoformat(),
            "category": "internal_authorities",
            "organisation": "Ausländerbehörde",
            "format": "meeting",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/network-contacts/{created.json()['id']}"

    foreign = api_for(colleague).post(f"{url}/cancel/", {"reason": "x"}, format="json")
    corrected = api.post(f"{url}/correct/", {"reason": "Format", "format": "phone"}, format="json")
    cancelled = api.post(f"{url}/cancel/", {"reason": "doppelt"}, format="json")

    assert foreign.status_code == 404
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["format"] == "phone"
    assert cancelled.json()["cancelled_at"] is not None


def test_a_review_through_the_api_re_assesses_the_needs(case: Any) -> None:
    api = api_for(case.owner)
    response = api.post(
        f"/api/v1/cases/{case.pk}/transitions/review_plan/",
        {
            "notes": "Fortschritt besprochen",
            "assessment": [
                {"field_of_action": "language", "need_level": "medium"},
                {"field_of_action": "work", "need_level": "high"},
            ],
        },
        format="json",
    )
    bad = api.post(
        f"/api/v1/cases/{case.pk}/transitions/review_plan/",
        {"assessment": [{"field_of_action": "nonsense", "need_level": "high"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    needs = api.get(f"/api/v1/cases/{case.pk}/assessments/").json()
    assert len(needs["assessments"]) == 2
    changes = {row["field_of_action"]: row["change"] for row in needs["changes"]}
    assert changes == {"language": "improved", "work": None}
    assert bad.status_code == 400
    assert "assessment" in bad.json()["fields"]
