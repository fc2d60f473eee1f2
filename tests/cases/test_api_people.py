"""The API of issue 19: `POST /api/v1/cases/` without a handover (with the
duplicate warning), persons and households with conditional edits
(ETag/If-Match 412, `version` 409, neither 428), a member's own case."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent, ReadAccess
from cases.models import Case, Household, Person
from tests.cases.test_api import client_for
from tests.handover.factories import world

pytestmark = pytest.mark.django_db


def _person(**more: Any) -> dict[str, Any]:
    return {
        "family_name": "Karimi",
        "given_names": "Farid",
        "date_of_birth": "1985-06-01",
        "sex": "male",
        "nationality": "AF",
        "languages": "fa",
        **more,
    }


def _register(api: APIClient, w: Any, people: list[dict[str, Any]], **more: Any) -> Any:
    return api.post(
        "/api/v1/cases/",
        {
            "intake_channel": "self_referral",
            "gemeinde": w.gemeinde.pk,
            "address": "Hauptstr. 1",
            "people": people,
            **more,
        },
        format="json",
    )


def _family(api: APIClient, w: Any) -> dict[str, Any]:
    response = _register(
        api,
        w,
        [
            _person(),
            _person(given_names="Zahra", sex="female", relation="spouse"),
            _person(given_names="Ali", date_of_birth="2015-02-02", relation="child"),
        ],
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_post_cases_registers_a_household_and_the_duplicate_warning_is_answered() -> None:
    w = world()
    api = client_for(w.manager)
    body = _family(api, w)
    case = Case.objects.get(pk=body["case_id"])
    assert case.intake_channel == Case.IntakeChannel.SELF_REFERRAL
    assert body["case_ids"] == [case.pk]
    assert len(body["person_ids"]) == 3
    assert body["household_id"] == case.household_id

    again = _register(api, w, [_person(family_name="Karimy")])
    assert again.status_code == 409
    warning = again.json()
    assert warning["code"] == "possible_duplicate"
    assert [c["id"] for c in warning["candidates"]["people.0"]] == [body["person_ids"][0]]
    assert "people.0" in warning["fields"]

    someone_else = _register(api, w, [_person(family_name="Karimy", not_known=True)])
    assert someone_else.status_code == 201
    same = _register(api, w, [_person(family_name="Karimy", known_person_id=body["person_ids"][0])])
    assert same.status_code == 409
    assert same.json()["code"] == "open_case_exists"


def test_post_cases_refuses_bad_input_with_400_and_writes_nothing() -> None:
    w = world()
    api = client_for(w.manager)
    for body in (
        {"intake_channel": "handover_fsa", "people": [_person()]},
        {"intake_channel": "outreach", "people": []},
        {"intake_channel": "outreach", "people": [_person(sex="x")]},
        {"intake_channel": "outreach", "people": [_person(date_of_birth="2999-01-01")]},
        {"intake_channel": "outreach", "people": [{"given_names": "no family name"}]},
        {"intake_channel": "outreach", "people": [_person()], "owner": 10**9},
    ):
        response = api.post("/api/v1/cases/", body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert response.json()["code"] == "invalid"
    assert not Person.objects.exists()
    assert api.post("/api/v1/cases/", [1], format="json").status_code == 400


def test_post_cases_by_a_supervisor_for_a_manager_and_a_member_case() -> None:
    w = world()
    response = _register(
        client_for(w.supervisor),
        w,
        [_person(), _person(given_names="Zahra", relation="spouse", opens_case=True)],
        owner=w.manager.pk,
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["case_ids"]) == 2
    assert set(Case.objects.values_list("owner_id", flat=True)) == {w.manager.pk}


def test_a_person_is_read_with_its_etag_and_a_stale_if_match_is_412() -> None:
    w = world()
    api = client_for(w.manager)
    person_id = _family(api, w)["person_ids"][0]
    read = api.get(f"/api/v1/persons/{person_id}/")
    assert read.status_code == 200
    assert read["ETag"] == '"1"'
    assert ReadAccess.objects.filter(view="api:person").exists()

    changed = api.patch(
        f"/api/v1/persons/{person_id}/",
        {"phone": "+49 7351 1", "literacy": "limited"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert changed.status_code == 200, changed.json()
    assert changed["ETag"] == '"2"'
    assert changed.json()["literacy"] == "limited"
    stale = api.patch(
        f"/api/v1/persons/{person_id}/", {"phone": "0"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    stale_body = api.patch(
        f"/api/v1/persons/{person_id}/", {"phone": "0", "version": 1}, format="json"
    )
    assert stale_body.status_code == 409
    assert stale_body.json()["code"] == "stale_version"
    blind = api.patch(f"/api/v1/persons/{person_id}/", {"phone": "0"}, format="json")
    assert blind.status_code == 428
    assert blind.json()["code"] == "precondition_required"
    assert Person.objects.get(pk=person_id).phone == "+49 7351 1"
    assert (
        AuditEvent.objects.filter(event_type="cases.person.updated").count() == 1
    )  # one case of the person


def test_others_get_404_for_persons_and_households() -> None:
    w = world()
    body = _family(client_for(w.manager), w)
    for user in (w.colleague, w.foreign_manager, w.supervisor):
        api = client_for(user)
        assert api.get(f"/api/v1/persons/{body['person_ids'][0]}/").status_code == 404
        assert api.get(f"/api/v1/households/{body['household_id']}/").status_code == 404
        assert api.patch(
            f"/api/v1/households/{body['household_id']}/",
            {"address": "x", "version": 1},
            format="json",
        ).status_code in (403, 404)
    assert Household.objects.get(pk=body["household_id"]).address == "Hauptstr. 1"
    assert client_for(w.manager).get("/api/v1/households/abc/").status_code == 404


def test_household_edits_members_and_a_second_adults_case_through_the_api() -> None:
    w = world()
    api = client_for(w.manager)
    body = _family(api, w)
    url = f"/api/v1/households/{body['household_id']}/"
    view = api.get(url)
    assert view.status_code == 200
    assert view["ETag"] == '"1"'
    members = view.json()["members"]
    assert [m["relation"] for m in members] == ["head", "spouse", "child"]
    assert [len(m["cases"]) for m in members] == [1, 0, 0]
    assert [m["may_open_case"] for m in members] == [False, True, False]

    moved = api.patch(url, {"address": "Neue Str. 5"}, format="json", HTTP_IF_MATCH='"1"')
    assert moved.status_code == 200
    assert moved.json()["address"] == "Neue Str. 5"
    added = api.post(
        url + "members/",
        {"family_name": "Karimi", "given_names": "Lina", "relation": "child", "version": 2},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert len(added.json()["members"]) == 4
    spouse = body["person_ids"][1]
    relation = api.patch(
        f"{url}members/{spouse}/", {"relation": "other"}, format="json", HTTP_IF_MATCH='"3"'
    )
    assert relation.status_code == 200
    opened = api.post(f"{url}members/{spouse}/case/", {}, format="json")
    assert opened.status_code == 201
    second = Case.objects.get(pk=opened.json()["case_id"])
    assert second.person_id == spouse
    assert second.household_id == body["household_id"]
    child = body["person_ids"][2]
    assert api.post(f"{url}members/{child}/case/", {}, format="json").status_code == 400
    view = api.get(url).json()
    cases_of = {m["person"]["id"]: [c["id"] for c in m["cases"]] for m in view["members"]}
    assert cases_of[spouse] == [second.pk]
    assert cases_of[body["person_ids"][0]] == [body["case_id"]]
    removed = api.delete(f"{url}members/{child}/?version=4")
    assert removed.status_code == 200
    assert len(removed.json()["members"]) == 3
    assert api.delete(f"{url}members/{child}/?version=4").status_code in (404, 409)


def test_the_schema_documents_the_new_paths() -> None:
    w = world()
    schema = client_for(w.manager).get("/api/schema/?format=json").json()
    assert "post" in schema["paths"]["/api/v1/cases/"]
    assert "patch" in schema["paths"]["/api/v1/persons/{person_id}/"]
    assert "/api/v1/households/{household_id}/members/{person_id}/case/" in schema["paths"]


def test_accepting_a_handover_through_the_api_opens_member_cases() -> None:
    from handover.models import HandoverMember
    from tests.handover.factories import member, submitted

    w = world()
    handover = submitted(
        w, members=[member(given_names="Amal"), member(given_names="Omar", relation="SPOUSE")]
    )
    omar = HandoverMember.objects.get(handover=handover, given_names="Omar")
    api = client_for(w.manager)
    wrong = api.post(
        f"/api/v1/handovers/{handover.pk}/accept/", {"member_cases": [10**9]}, format="json"
    )
    assert wrong.status_code == 400
    assert not Case.objects.exists()
    accepted = api.post(
        f"/api/v1/handovers/{handover.pk}/accept/", {"member_cases": [omar.pk]}, format="json"
    )
    assert accepted.status_code == 201, accepted.json()
    assert Case.objects.filter(person__given_names="Omar").exists()
