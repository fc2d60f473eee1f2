"""The API speaks the contract (API.md, DOMAIN.md): snake_case values, `date`,
one argument schema per transition; stored codes stay as they are."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from cases import services
from cases.api_transitions import TRANSITION_ARGUMENTS
from cases.models import Case, CaseStatus, Consent, Consultation, Measure, NetworkContact, Referral
from tests.accounts.factories import TeamFactory, api_key
from tests.cases.factories import give_consent, journey_to, manager_in, new_case

pytestmark = pytest.mark.django_db

SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def api(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def openapi_schema(user: Any) -> dict[str, Any]:
    browser = Client()
    browser.force_login(user)
    response = browser.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def enum_values(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every value of every `enum` (and every enum-typed `default`) in the schema."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            found += [(path, value) for value in node["enum"]]
        for key, value in node.items():
            found += enum_values(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += enum_values(value, f"{path}/{index}")
    return found


def test_every_enum_value_in_the_openapi_schema_is_snake_case() -> None:
    schema = openapi_schema(manager_in(TeamFactory()))

    values = enum_values(schema)
    wrong = [(path, value) for path, value in values if value not in ("", None)]
    wrong = [(path, value) for path, value in wrong if not SNAKE.fullmatch(str(value))]

    assert len(values) > 150  # the walk reached the components and the parameters
    assert wrong == []
    status = schema["components"]["schemas"]["CaseStatusEnum"]["enum"]
    assert status == [value.lower() for value in CaseStatus.values]
    assert schema["components"]["schemas"]["ConsentFormEnum"]["enum"] == [
        "signed_paper",
        "e_signature",
        "documented_verbal",
    ]
    assert "im" in schema["components"]["schemas"]["ResponsibleEnum"]["enum"]


def test_each_transition_has_its_own_argument_schema_and_the_system_ones_none() -> None:
    schema = openapi_schema(manager_in(TeamFactory()))
    prefix = "/api/v1/cases/{case_id}/transitions/"

    paths = sorted(path for path in schema["paths"] if path.startswith(prefix))
    bodies = {}
    for path in paths:
        body = schema["paths"][path]["post"].get("requestBody")
        bodies[path[len(prefix) : -1]] = body and body["content"]["application/json"]["schema"]

    assert sorted(bodies) == sorted(TRANSITION_ARGUMENTS)
    assert set(bodies) & set(services.SYSTEM_TRANSITIONS) == set()
    assert (bodies["draft_plan"], bodies["resume"]) == (None, None)  # no arguments
    refs = {name: body["$ref"].rsplit("/", 1)[1] for name, body in bodies.items() if body}
    assert len(set(refs.values())) == len(refs) == len(TRANSITION_ARGUMENTS) - 2
    components = schema["components"]["schemas"]
    close = components[refs["close"]]
    assert (close["required"], close["additionalProperties"]) == (["closure_reason"], False)
    first = components[refs["record_first_consultation"]]
    assert set(first["properties"]) == {
        "consultation_id",
        "eligibility_basis",
        "benefit_status",
        "obliged_to_leave",
    }
    assert components["EligibilityBasisEnum"]["enum"] == [
        "follow_up_accommodation",
        "ukraine",
        "none",
    ]


def test_a_client_speaking_the_contract_posts_filters_and_reads_snake_case() -> None:
    owner = manager_in(TeamFactory())
    case = new_case(owner=owner, now=timezone.now() - timedelta(days=1))
    other = journey_to(CaseStatus.ACTIVE, owner=owner, now=timezone.now() - timedelta(days=2))
    client = api(owner)
    url = f"/api/v1/cases/{case.pk}"
    today = timezone.localdate()

    consent = client.post(
        f"{url}/consents/",
        {"scope": "case_processing", "form": "signed_paper", "language": "ar"},
        format="json",
    )
    listed = client.get("/api/v1/cases/?status=registered").json()
    consultation = client.post(
        f"{url}/consultations/",
        {
            "date": today.isoformat(),
            "duration_minutes": 45,
            "form": "office",
            "topics": ["language"],
            "status": "completed",
        },
        format="json",
    )

    assert consent.status_code == 201, consent.content
    assert {k: consent.json()[k] for k in ("scope", "form", "legal_basis", "given_by")} == {
        "scope": "case_processing",
        "form": "signed_paper",
        "legal_basis": "consent_art6_1a",
        "given_by": "person",
    }
    assert [row["id"] for row in listed["results"]] == [case.pk]
    assert {row["status"] for row in listed["results"]} == {"registered"}
    assert other.pk not in [row["id"] for row in listed["results"]]
    assert consultation.status_code == 201, consultation.content
    body = consultation.json()
    assert (body["date"], body["status"], "held_on" in body) == (
        today.isoformat(),
        "completed",
        False,
    )
    # stored as before: the web UI, reports and fixtures keep their codes
    stored = Consent.objects.get(pk=consent.json()["id"])
    assert (stored.scope, stored.form) == ("CASE_PROCESSING", "SIGNED_PAPER")
    assert Consultation.objects.get(pk=body["id"]).held_on == today

    detail = client.post(
        f"{url}/transitions/record_first_consultation/",
        {
            "consultation_id": body["id"],
            "eligibility_basis": "follow_up_accommodation",
            "benefit_status": "asylblg",
        },
        format="json",
    )
    assert detail.status_code == 200, detail.content
    assert (detail.json()["status"], detail.json()["eligibility_basis"]) == (
        "initial_counselling",
        "follow_up_accommodation",
    )
    case.refresh_from_db()
    assert (case.status, case.eligibility_basis) == (
        "INITIAL_COUNSELLING",
        "FOLLOW_UP_ACCOMMODATION",
    )
    history = client.get(f"{url}/history/").json()
    first = [e for e in history if e["transition"] == "record_first_consultation"]
    assert [(e["from_state"], e["to_state"], e["reason"]) for e in first] == [
        ("registered", "initial_counselling", "follow_up_accommodation")
    ]
    assert {e["actor_role"] for e in history if e["actor"] == owner.pk} == {"integration_manager"}
    household = client.get(f"/api/v1/cases/{other.pk}/").json()
    assert household["intake_channel"] == other.intake_channel.lower()
    assert household["programme"] == "bw_im"


def test_referrals_and_network_contacts_take_and_return_date() -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())
    client = api(case.owner)
    today = timezone.localdate().isoformat()
    give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT, now=timezone.now())

    referral = client.post(
        f"/api/v1/cases/{case.pk}/referrals/",
        {"date": today, "target_service": "mbe", "mode": "written_referral"},
        format="json",
    )
    contact = client.post(
        "/api/v1/network-contacts/",
        {"date": today, "category": "other_networking", "organisation": "VHS", "format": "meeting"},
        format="json",
    )
    goal = services.goal_add(
        case=case,
        actor=case.owner,
        now=timezone.now(),
        field_of_action="work",
        title="Arbeit",
        success_criterion="Vertrag",
        target_date=timezone.localdate() + timedelta(days=30),
    )
    measure = client.post(
        f"/api/v1/cases/{case.pk}/plan/goals/{goal.pk}/measures/",
        {"description": "Bewerbung", "responsible": "im"},
        format="json",
    )

    assert referral.status_code == 201, referral.content
    assert (referral.json()["date"], referral.json()["mode"], referral.json()["outcome"]) == (
        today,
        "written_referral",
        "pending",
    )
    assert Referral.objects.get(pk=referral.json()["id"]).mode == "WRITTEN_REFERRAL"
    assert contact.status_code == 201, contact.content
    assert (contact.json()["date"], contact.json()["format"]) == (today, "meeting")
    assert NetworkContact.objects.get(pk=contact.json()["id"]).format == "MEETING"
    assert measure.status_code == 201, measure.content
    assert measure.json()["responsible"] == "im"
    assert Measure.objects.get(pk=measure.json()["id"]).responsible == "INTEGRATION_MANAGER"


def test_the_old_spellings_are_refused_with_the_contracts_and_nothing_is_written() -> None:
    case = new_case()
    client = api(case.owner)
    url = f"/api/v1/cases/{case.pk}"
    events = AuditEvent.objects.count()

    upper = client.post(
        f"{url}/consents/",
        {"scope": "CASE_PROCESSING", "form": "SIGNED_PAPER", "language": "ar"},
        format="json",
    )
    held_on = client.post(
        f"{url}/consultations/",
        {
            "held_on": timezone.localdate().isoformat(),
            "duration_minutes": 45,
            "form": "office",
            "topics": ["language"],
        },
        format="json",
    )
    old_filter = client.get("/api/v1/cases/?status=REGISTERED")
    old_argument = client.post(
        f"{url}/transitions/reject_ineligible/", {"reason": "NOT_TARGET_GROUP"}, format="json"
    )

    assert upper.status_code == 400
    assert sorted(upper.json()["fields"]) == ["form", "scope"]
    assert upper.json()["fields"]["form"] == [
        "„SIGNED_PAPER“ ist kein zulässiger Wert. "
        "Zulässig: signed_paper, e_signature, documented_verbal."
    ]
    assert held_on.status_code == 400
    assert held_on.json()["fields"] == {"held_on": ["Umbenannt: bitte „date“ senden."]}
    assert old_filter.status_code == 400
    assert "registered" in old_filter.json()["fields"]["status"][0]
    assert old_argument.status_code == 400
    assert "not_target_group" in old_argument.json()["fields"]["reason"][0]
    assert (Consent.objects.filter(case=case).count(), AuditEvent.objects.count()) == (0, events)
    case.refresh_from_db()
    assert case.status == CaseStatus.REGISTERED


def test_a_transition_refuses_arguments_it_does_not_take_and_values_of_others() -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())
    client = api(case.owner)
    url = f"/api/v1/cases/{case.pk}/transitions"

    unknown = client.post(f"{url}/pause/", {"reason": "other", "note": "x"}, format="json")
    no_show = client.post(f"{url}/reject_ineligible/", {"reason": "no_show"}, format="json")
    typed = client.post(f"{url}/pause/", {"reason": 3}, format="json")
    paused = client.post(f"{url}/pause/", {"reason": "client_request"}, format="json")

    assert (unknown.status_code, unknown.json()["fields"]) == (
        400,
        {"note": ["Das ist kein Argument dieses Schritts."]},
    )
    assert no_show.status_code == 400  # the system's reason, not the manager's
    assert "no_show" not in no_show.json()["fields"]["reason"][0].split("Zulässig:")[1]
    assert typed.status_code == 400
    assert paused.status_code == 200, paused.content
    assert (paused.json()["status"], paused.json()["closing_ground"]) == ("dormant", "")
    case.refresh_from_db()
    assert case.status == CaseStatus.DORMANT
    reason = AuditEvent.objects.filter(case_id=case.pk, transition="pause").get().reason
    assert reason == "CLIENT_REQUEST"


def test_a_role_that_may_not_fire_a_transition_gets_403_whatever_the_body() -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())
    from tests.cases.factories import supervisor_of

    lead = api(supervisor_of(case.owner.team))

    bad = lead.post(f"/api/v1/cases/{case.pk}/transitions/pause/", {"x": 1}, format="json")

    assert (bad.status_code, bad.json()["code"]) == (403, "forbidden")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACTIVE


def test_catalogues_and_kennzahlen_name_their_keys_in_snake_case() -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=manager_in(TeamFactory()), now=timezone.now())
    client = api(case.owner)

    catalogues = client.get("/api/v1/catalogues/").json()
    figures = client.get(f"/api/v1/reports/kennzahlen/?year={timezone.localdate().year}").json()

    assert "consultation_form" in catalogues
    assert "CONSULTATION_FORM" not in catalogues
    assert all(SNAKE.fullmatch(name) for name in catalogues)
    keys = re.findall(r"'key': '([^']*)'", repr(figures))
    assert [key for key in keys if key and not SNAKE.fullmatch(key)] == []
    assert "active" in keys
