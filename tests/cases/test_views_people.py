"""The pages of issue 19 through Django's test client: the intake form with
the duplicate warning, the household page and its edits, the person page
with a stale edit refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent, ReadAccess
from cases.models import Case, Person
from tests.handover.factories import world

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(index: int, **values: Any) -> dict[str, Any]:
    base = {"sex": "UNKNOWN", "relation": "HEAD" if index == 0 else "CHILD"}
    return {f"p{index}-{k}": v for k, v in {**base, **values}.items()}


def _intake(w: Any, *rows: dict[str, Any], **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "intake_channel": "SELF_REFERRAL",
        "gemeinde": w.gemeinde.pk,
        "address": "Hauptstr. 1",
        **more,
    }
    for row in rows:
        data.update(row)
    for index in range(len(rows), 5):
        data.update(_row(index))
    return data


def test_the_intake_page_registers_warns_of_a_duplicate_and_takes_the_answer() -> None:
    w = world()
    client = _client(w.manager)
    assert client.get("/faelle/neu/").status_code == 200
    first = client.post(
        "/faelle/neu/",
        _intake(
            w,
            _row(0, family_name="Karimi", given_names="Farid", date_of_birth="1985-06-01"),
            _row(1, family_name="Karimi", given_names="Zahra", relation="SPOUSE"),
        ),
    )
    assert first.status_code == 302, first.content.decode()[-3000:]
    case = Case.objects.get()
    assert first["Location"] == f"/faelle/haushalt/{case.household_id}/"

    walk_in = _row(0, family_name="Karimy", given_names="Farid", date_of_birth="1985-06-01")
    warned = client.post("/faelle/neu/", _intake(w, walk_in))
    assert warned.status_code == 400
    assert "Möglicherweise bereits bekannt" in warned.content.decode()
    assert Case.objects.count() == 1
    answered = client.post("/faelle/neu/", _intake(w, {**walk_in, "p0-decision": "new"}))
    assert answered.status_code == 302
    assert Person.objects.filter(family_name="Karimy").count() == 1


def test_the_household_page_edits_and_opens_a_second_adults_case() -> None:
    w = world()
    client = _client(w.manager)
    client.post(
        "/faelle/neu/",
        _intake(
            w,
            _row(0, family_name="Karimi", given_names="Farid"),
            _row(1, family_name="Karimi", given_names="Zahra", relation="SPOUSE"),
        ),
    )
    case = Case.objects.get()
    page = f"/faelle/haushalt/{case.household_id}/"
    shown = client.get(page)
    assert shown.status_code == 200
    assert "Eigenen Fall anlegen" in shown.content.decode()
    assert ReadAccess.objects.filter(view="cases.household", case_id=case.pk).exists()

    moved = client.post(page + "aendern/", {"version": 1, "address": "Neue Str. 5"})
    assert moved.status_code == 302
    stale = client.post(page + "aendern/", {"version": 1, "address": "Alte Str. 1"})
    assert stale.status_code == 409
    assert "Jemand anderes hat diese Daten geändert" in stale.content.decode()
    spouse = Person.objects.get(given_names="Zahra")
    opened = client.post(f"{page}mitglied/{spouse.pk}/fall/")
    second = Case.objects.get(person=spouse)
    assert opened["Location"] == f"/faelle/{second.pk}/"
    assert AuditEvent.objects.filter(event_type="cases.household.updated").count() == 1

    for user in (w.colleague, w.foreign_manager, w.supervisor):
        assert _client(user).get(page).status_code == 404
        assert _client(user).get(f"/faelle/person/{spouse.pk}/").status_code == 404


def test_the_person_page_saves_and_refuses_a_stale_edit() -> None:
    w = world()
    client = _client(w.manager)
    client.post("/faelle/neu/", _intake(w, _row(0, family_name="Karimi", given_names="Farid")))
    person = Person.objects.get()
    page = f"/faelle/person/{person.pk}/"
    assert client.get(page).status_code == 200
    form = {
        "version": 1,
        "family_name": "Karimi",
        "given_names": "Farid",
        "literacy": "ILLITERATE",
        "phone": "0151 1",
        "address": "Hauptstr. 1",
    }
    assert client.post(page, form).status_code == 302
    stale = client.post(page, {**form, "phone": "0151 2"})
    assert stale.status_code == 409
    person.refresh_from_db()
    assert person.phone == "0151 1"
    assert person.literacy == Person.Literacy.ILLITERATE


def test_accepting_a_handover_on_its_page_opens_the_chosen_adults_cases() -> None:
    from handover.models import HandoverMember
    from tests.handover.factories import member, submitted

    w = world()
    handover = submitted(
        w, members=[member(given_names="Amal"), member(given_names="Omar", relation="SPOUSE")]
    )
    omar = HandoverMember.objects.get(handover=handover, given_names="Omar")
    page = _client(w.manager).get(f"/uebergaben/{handover.pk}/")
    assert "Weitere Erwachsene, die einen eigenen Fall bekommen" in page.content.decode()
    accepted = _client(w.manager).post(
        f"/uebergaben/{handover.pk}/annehmen/", {"assignee": "", "member_cases": [omar.pk]}
    )
    assert accepted.status_code == 302
    assert sorted(Case.objects.values_list("person__given_names", flat=True)) == ["Amal", "Omar"]


def test_relations_and_removal_on_the_household_page_and_others_get_404() -> None:
    from tests.cases.test_views import PEOPLE_ROUTES

    w = world()
    client = _client(w.manager)
    client.post(
        "/faelle/neu/",
        _intake(
            w,
            _row(0, family_name="Karimi", given_names="Farid"),
            _row(1, family_name="Karimi", given_names="Zahra", relation="SPOUSE"),
        ),
    )
    case = Case.objects.get()
    page = f"/faelle/haushalt/{case.household_id}/"
    zahra = Person.objects.get(given_names="Zahra")
    member = f"{page}mitglied/{zahra.pk}/"
    for user in (w.colleague, w.foreign_manager):
        other = _client(user)
        assert other.post(member + "entfernen/", {"version": 1}).status_code == 404
        assert other.post(member + "fall/").status_code == 404
        assert other.post(page + "mitglied/", {"version": 1, "family_name": "X"}).status_code == 404
        assert other.post(page + "aendern/", {"version": 1, "address": "X"}).status_code == 404
        relation = {f"m{zahra.pk}-version": 1, f"m{zahra.pk}-relation": "OTHER"}
        assert other.post(member + "beziehung/", relation).status_code == 404
        assert other.get(f"/faelle/person/{zahra.pk}/").status_code == 404
        assert other.post(f"/faelle/person/{zahra.pk}/", {"version": 1}).status_code == 404
    changed = client.post(
        member + "beziehung/", {f"m{zahra.pk}-version": 1, f"m{zahra.pk}-relation": "OTHER"}
    )
    assert changed.status_code == 302
    removed = client.post(member + "entfernen/", {"version": 2})
    assert removed.status_code == 302
    assert not case.household.memberships.filter(person=zahra).exists()
    last = client.post(f"{page}mitglied/{case.person_id}/entfernen/", {"version": 3})
    assert last.status_code == 409
    assert len(PEOPLE_ROUTES) == 8
