"""GET /api/v1/tasks/: the caller's open guided tasks."""

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cases import services
from cases.models import CaseStatus
from tests.cases.factories import T0, journey_to, new_case, supervisor_of

pytestmark = pytest.mark.django_db


def client_of(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_manager_lists_own_open_tasks_with_due_dates_and_screens():
    case = new_case()
    other = journey_to(CaseStatus.INITIAL_COUNSELLING)  # another team's case

    response = client_of(case.owner).get("/api/v1/tasks/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["case"], r["task"], r["status"]) for r in rows] == [
        (case.pk, "accept_handover", "assigned")
    ]
    assert rows[0]["due_on"] == "2026-01-12"  # registered 05.01. + 7 days
    assert rows[0]["url"].startswith("/aufgaben/ablauf/")
    web = Client()
    web.force_login(case.owner)
    assert web.get(rows[0]["url"]).status_code == 200
    assert other.pk not in {r["case"] for r in rows}


def test_a_supervisor_lists_the_approvals_of_the_team():
    case = journey_to(CaseStatus.ACTIVE)
    services.extension_request_submit(
        case=case,
        actor=case.owner,
        now=T0 + timedelta(days=1),
        reason="illiteracy",
        months=6,
        justification="Kurs läuft",
    )
    lead = supervisor_of(case.owner.team)

    rows = client_of(lead).get("/api/v1/tasks/").json()["results"]

    assert [(r["case"], r["task"]) for r in rows] == [(case.pk, "approve_extension")]
    stranger = journey_to(CaseStatus.REGISTERED).owner  # a manager of another team
    assert case.pk not in {
        r["case"] for r in client_of(stranger).get("/api/v1/tasks/").json()["results"]
    }
