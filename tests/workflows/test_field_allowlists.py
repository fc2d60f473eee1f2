"""Supervisors see only what their approval needs; auditors only read
(RELIABILITY.md P3, DOMAIN.md §14.6).

Every content field of the case is seeded with a distinctive string. The
supervisor's approval (task page, approval queue, API list, approve answer,
case detail) and the auditor's views (case detail, history) must show
exactly the pinned fields and none of the strings; a new field in any of
these answers fails here until it is added to the allowlist on purpose.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from cases import services
from cases.models import CaseStatus, Person
from tests.accounts.factories import UserFactory, api_key
from tests.cases.factories import T0, journey_to, supervisor_of
from workflows import engine

pytestmark = pytest.mark.django_db

SECRETS = {
    "family_name": "Qzx-Familienname",
    "given_names": "Qzx-Vorname",
    "phone": "Qzx-0171",
    "address": "Qzx-Lagerstrasse",
    "justification": "Qzx-Diagnose Depression",
    "notes": "Qzx-Gespraechsnotiz",
    "situation": "Qzx-Lage Gesundheit",
    "goal": "Qzx-Ziel Therapie",
    "guardian": "Qzx-Vormund",
}

# What a supervisor sees of the case: its metadata (API.md case fields).
CASE_DETAIL_FIELDS = {
    "id",
    "status",
    "programme",
    "owner",
    "traeger",
    "gemeinde",
    "intake_channel",
    "registered_at",
    "consultation_start",
    "regular_end",
    "effective_end",
    "person_clock",  # the person's period: dates and months, like the case's
    "next_review_at",
    "plan_declined",
    "closure_reason",
    "closed_at",
    "anonymous_mode",
    "person",  # always null for them
    "eligibility_basis",
    "rejection_reason",
    "closing_ground",
    "no_further_need",
    "legal_hold",
    "allowed_transitions",
    "managers",
    "household",  # always null for them
}
# What a supervisor sees of an extension request: category, months, dates.
REQUEST_FIELDS = {
    "id",
    "case",
    "reason",
    "months",
    "justification",  # always null for them
    "status",
    "requested_by",
    "created_at",
    "submitted_at",
    "decided_by",
    "decided_at",
    "decision_note",
    "resulting_effective_end",
}
# What the approval page shows, by label (German UI).
APPROVAL_PAGE_LABELS = ["Beantragt von", "Grund", "Monate", "Reguläres Ende"]
# What an auditor's history row holds: ids, codes, hashes.
EVENT_FIELDS = {
    "seq",
    "occurred_at",
    "actor",
    "actor_role",
    "event_type",
    "object_type",
    "object_id",
    "transition",
    "from_state",
    "to_state",
    "reason",
    "data",
    "prev_hash",
    "hash",
}


@pytest.fixture
def seeded():
    case = journey_to(CaseStatus.ACTIVE)
    owner, now = case.owner, T0 + timedelta(days=1)
    Person.objects.filter(pk=case.person_id).update(
        family_name=SECRETS["family_name"],
        given_names=SECRETS["given_names"],
        phone=SECRETS["phone"],
        address=SECRETS["address"],
    )
    services.consultation_record(
        case=case,
        actor=owner,
        now=now,
        held_on=now.date(),
        duration_minutes=30,
        form="office",
        topics=["health"],
        notes=SECRETS["notes"],
    )
    services.assessment_record(
        case=case,
        actor=owner,
        now=now,
        assessed_on=now.date(),
        items=[
            {"field_of_action": "health", "need_level": "HIGH", "situation": SECRETS["situation"]}
        ],
    )
    services.goal_add(
        case=case,
        actor=owner,
        now=now,
        field_of_action="health",
        title=SECRETS["goal"],
        success_criterion="x",
        target_date=now.date() + timedelta(days=100),
    )
    services.consent_record(
        case=case,
        actor=owner,
        now=now,
        scope="SPECIAL_CATEGORIES_ART9",
        form="SIGNED_PAPER",
        language="ar",
        given_by="LEGAL_GUARDIAN",
        guardian_name=SECRETS["guardian"],
    )
    request = services.extension_request_submit(
        case=case,
        actor=owner,
        now=now,
        reason="chronic_illness",
        months=6,
        justification=SECRETS["justification"],
    )
    return case, request


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def assert_no_secret(content: bytes, label: str) -> None:
    text = content.decode()
    leaked = [name for name, value in SECRETS.items() if value in text]
    assert leaked == [], f"{label}: {leaked}"


def test_the_supervisor_sees_exactly_the_approval_fields_in_the_api(seeded) -> None:
    case, request = seeded
    client = api(supervisor_of(case.owner.team))

    listed = client.get("/api/v1/extension-requests/").json()["results"]
    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    approved = client.post(
        f"/api/v1/extension-requests/{request.pk}/approve/", {"note": "ok"}, format="json"
    )

    assert [set(row) for row in listed] == [REQUEST_FIELDS]
    assert listed[0]["justification"] is None
    assert set(detail) == CASE_DETAIL_FIELDS
    assert (detail["person"], detail["household"]) == (None, None)
    assert set(detail["managers"][0]) == {"id", "username", "relation"}
    assert approved.status_code == 200, approved.content
    assert set(approved.json()) == REQUEST_FIELDS
    assert approved.json()["justification"] is None
    for label, response in (
        ("list", client.get("/api/v1/extension-requests/")),
        ("detail", client.get(f"/api/v1/cases/{case.pk}/")),
        ("approve", approved),
    ):
        assert_no_secret(response.content, label)


def test_the_approval_page_shows_exactly_the_allowlisted_fields(seeded) -> None:
    case, _request = seeded
    lead = supervisor_of(case.owner.team)
    browser = Client()
    browser.force_login(lead)
    task = next(t for t in engine.open_tasks(case) if t.flow_task.name == "approve_extension")

    page = browser.get(task.flow_task.reverse("execute", args=[task.process_id, task.pk]))
    queue = browser.get("/aufgaben/freigaben/")
    flow = browser.get(f"/aufgaben/fall/{case.pk}/")

    assert page.status_code == 200, page.content.decode()[:500]
    html = page.content.decode()
    shown = re.findall(r"<dt>(.*?)</dt>", html)
    assert shown == APPROVAL_PAGE_LABELS
    assert "<dd>Chronische Erkrankung</dd>" in html  # the reason's category
    for label, response in (("task", page), ("queue", queue), ("flow", flow)):
        assert response.status_code == 200, label
        assert_no_secret(response.content, label)


def test_the_auditor_reads_metadata_and_history_only(seeded) -> None:
    case, _request = seeded
    auditor = UserFactory(role=Role.AUDITOR, team=None, traeger=case.traeger)
    client = api(auditor)

    detail = client.get(f"/api/v1/cases/{case.pk}/")
    history = client.get(f"/api/v1/cases/{case.pk}/history/")
    write = client.post(
        f"/api/v1/cases/{case.pk}/transitions/pause/", {"reason": "other"}, format="json"
    )

    assert set(detail.json()) == CASE_DETAIL_FIELDS
    assert (detail.json()["person"], detail.json()["household"]) == (None, None)
    assert detail.json()["allowed_transitions"] == []
    assert {frozenset(row) for row in history.json()} == {frozenset(EVENT_FIELDS)}
    assert write.status_code == 403
    for label, response in (("detail", detail), ("history", history)):
        assert_no_secret(response.content, label)
    for suffix in ("consultations/", "plan/", "assessment/", "consents/", "referrals/"):
        response = client.get(f"/api/v1/cases/{case.pk}/{suffix}")
        assert response.status_code == 403, suffix
        assert_no_secret(response.content, suffix)
