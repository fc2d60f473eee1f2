"""Intake without a handover, persons and households kept current, family
casework (issue 19): through the services, with rows, audit events and
error codes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from audit.models import AuditEvent
from audit.selectors import case_replay
from cases import services
from cases.history import case_data_current
from cases.models import Case, CaseStatus, CatalogueEntry, Household, HouseholdMembership, Person
from cases.services import NewPerson
from tests.cases.factories import T0, PersonFactory
from tests.handover.factories import member, submitted, world

pytestmark = pytest.mark.django_db

R = HouseholdMembership.Relation


def _adult(family: str = "Karimi", given: str = "Farid", **more: Any) -> dict[str, Any]:
    return {
        "family_name": family,
        "given_names": given,
        "date_of_birth": date(1985, 6, 1),
        "sex": "MALE",
        "nationality": "AF",
        "languages": "fa",
        **more,
    }


def _family(w: Any, **kwargs: Any) -> services.case_register:  # type: ignore[valid-type]
    return services.case_register(
        actor=w.manager,
        now=T0,
        owner=w.manager,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
        address="Hauptstr. 1",
        gemeinde=w.gemeinde,
        people=[
            NewPerson(facts=_adult(), relation=R.HEAD),
            NewPerson(facts=_adult(given="Zahra", sex="FEMALE"), relation=R.SPOUSE),
            NewPerson(facts=_adult(given="Ali", date_of_birth=date(2015, 2, 2)), relation=R.CHILD),
        ],
        **kwargs,
    )


def _events(case: Case, event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(case_id=case.pk, event_type=event_type).order_by("seq"))


# --- registering without a handover -----------------------------------------


def test_a_walk_in_household_is_registered_with_its_channel_and_history() -> None:
    w = world()
    intake = _family(w)
    case = intake.case
    assert case.status == CaseStatus.REGISTERED
    assert case.intake_channel == Case.IntakeChannel.SELF_REFERRAL
    assert case.owner == w.manager
    assert case.handover_accepted_at is None
    assert [c.pk for c in intake.cases] == [case.pk]
    household = Household.objects.get(pk=case.household_id)
    assert household.address == "Hauptstr. 1"
    assert household.gemeinde == w.gemeinde
    assert sorted(household.memberships.values_list("relation", flat=True)) == sorted(
        [R.HEAD, R.SPOUSE, R.CHILD]
    )
    assert intake.people[0].address == "Hauptstr. 1"
    created = _events(case, "cases.case.created")
    assert len(created) == 1
    assert created[0].reason == Case.IntakeChannel.SELF_REFERRAL
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)


def test_a_supervisor_registers_for_a_manager_of_the_team_a_manager_only_for_themselves() -> None:
    w = world()
    intake = services.case_register(
        actor=w.supervisor,
        now=T0,
        owner=w.colleague,
        intake_channel=Case.IntakeChannel.AUTHORITY_ALLOCATION,
        people=[NewPerson(facts=_adult())],
    )
    assert intake.case.owner == w.colleague
    assert intake.case.household_id is None
    persons = Person.objects.count()
    with pytest.raises(services.TransitionForbidden):
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.colleague,
            intake_channel=Case.IntakeChannel.OUTREACH,
            people=[NewPerson(facts=_adult(family="Other"))],
        )
    assert Person.objects.count() == persons


def test_the_handover_channel_and_bad_facts_are_refused_and_nothing_is_written() -> None:
    w = world()
    with pytest.raises(services.InvalidArguments) as refused:
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
            people=[NewPerson(facts=_adult())],
        )
    assert "intake_channel" in refused.value.fields
    with pytest.raises(services.InvalidArguments) as refused:
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.OUTREACH,
            people=[NewPerson(facts=_adult(family="", sex="X"))],
        )
    assert {"people.0.sex", "people.0.family_name"} & set(refused.value.fields)
    assert not Case.objects.exists()
    assert not Person.objects.exists()


def test_a_known_person_is_a_duplicate_warning_until_the_user_decides() -> None:
    w = world()
    known = _family(w).people[0]
    cases = Case.objects.count()
    # The same man, spelled differently, comes to office hours.
    walk_in = NewPerson(facts=_adult(family="Karimy", given="Fareed"))
    with pytest.raises(services.PossibleDuplicate) as warned:
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.SELF_REFERRAL,
            people=[walk_in],
        )
    body = warned.value.as_dict()
    assert body["code"] == "possible_duplicate"
    assert warned.value.http_status == 409
    assert [c["id"] for c in body["candidates"]["people.0"]] == [known.pk]
    assert body["candidates"]["people.0"][0]["kind"] == "person"
    assert Case.objects.count() == cases

    # "It is the same person": the known person is used, not created again,
    # and has an open case already.
    with pytest.raises(services.GuardFailed) as refused:
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.SELF_REFERRAL,
            people=[NewPerson(facts=walk_in.facts, known_person_id=known.pk)],
        )
    assert refused.value.code == "open_case_exists"

    # "It is someone else": registered as a new person, the answer audited.
    persons = Person.objects.count()
    intake = services.case_register(
        actor=w.manager,
        now=T0,
        owner=w.manager,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
        people=[NewPerson(facts=walk_in.facts, not_known=True)],
    )
    assert Person.objects.count() == persons + 1
    (event,) = _events(intake.case, "cases.case.duplicates_resolved")
    assert event.data["new_person_ids"] == [intake.people[0].pk]
    assert event.data["linked_person_ids"] == []


def test_a_known_person_without_an_open_case_is_linked() -> None:
    w = world()
    known = PersonFactory(traeger=w.manager.traeger, **_adult())
    intake = services.case_register(
        actor=w.manager,
        now=T0,
        owner=w.manager,
        intake_channel=Case.IntakeChannel.REFERRAL_OTHER_SERVICE,
        people=[NewPerson(facts=_adult(), known_person_id=known.pk)],
    )
    assert intake.case.person_id == known.pk
    (event,) = _events(intake.case, "cases.case.duplicates_resolved")
    assert event.data["linked_person_ids"] == [known.pk]
    # A person who is no candidate cannot be linked by id.
    stranger = PersonFactory(traeger=w.manager.traeger, family_name="Berg", given_names="Ida")
    with pytest.raises(services.InvalidArguments):
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.REFERRAL_OTHER_SERVICE,
            people=[NewPerson(facts=_adult(family="Neu"), known_person_id=stranger.pk)],
        )


def test_a_person_in_a_waiting_handover_is_a_duplicate_candidate() -> None:
    w = world()
    handover = submitted(w, members=[member(family_name="Haddad", given_names="Amal")])
    with pytest.raises(services.PossibleDuplicate) as warned:
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.SELF_REFERRAL,
            people=[NewPerson(facts=member(family_name="Hadad", given_names="Amal"))],
        )
    (candidate,) = warned.value.as_dict()["candidates"]["people.0"]
    assert candidate["kind"] == "handover"
    assert candidate["id"] == handover.pk


def test_adult_members_chosen_get_their_own_case_minors_never() -> None:
    w = world()
    intake = services.case_register(
        actor=w.manager,
        now=T0,
        owner=w.manager,
        intake_channel=Case.IntakeChannel.OUTREACH,
        people=[
            NewPerson(facts=_adult()),
            NewPerson(facts=_adult(given="Zahra"), relation=R.SPOUSE, opens_case=True),
        ],
    )
    assert len(intake.cases) == 2
    assert {c.person_id for c in intake.cases} == {p.pk for p in intake.people}
    assert {c.household_id for c in intake.cases} == {intake.case.household_id}
    with pytest.raises(services.InvalidArguments) as refused:
        services.case_register(
            actor=w.manager,
            now=T0,
            owner=w.manager,
            intake_channel=Case.IntakeChannel.OUTREACH,
            people=[
                NewPerson(facts=_adult(family="Rahimi")),
                NewPerson(
                    facts=_adult(family="Rahimi", given="Omid", date_of_birth=date(2012, 1, 1)),
                    relation=R.CHILD,
                    opens_case=True,
                ),
            ],
        )
    assert "people.1.opens_case" in refused.value.fields


# --- editing a person ---------------------------------------------------------


def test_a_person_edit_is_audited_field_by_field_in_each_case_of_the_person() -> None:
    w = world()
    intake = _family(w)
    case, head = intake.case, intake.people[0]
    status = CatalogueEntry.objects.filter(catalogue="RESIDENCE_STATUS").order_by("pk").first()
    assert status is not None
    updated = services.person_update(
        person=head.pk,
        actor=w.manager,
        now=T0,
        version=1,
        phone="+49 7351 1234",
        literacy=Person.Literacy.LIMITED,
        residence_status=status.key,
    )
    assert updated.version == 2
    assert updated.phone == "+49 7351 1234"
    (event,) = _events(case, "cases.person.updated")
    (change,) = event.data["changes"]
    assert change["model"] == "cases.person"
    assert change["id"] == head.pk
    assert change["fields"]["literacy"] == {"old": "UNKNOWN", "new": "LIMITED"}
    assert change["fields"]["residence_status_id"] == {"old": None, "new": status.pk}
    assert change["fields"]["version"] == {"old": 1, "new": 2}
    # The phone identifies the client: only that it changed, and a digest.
    assert change["fields"]["phone"]["changed"] is True
    assert "old" not in change["fields"]["phone"]
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)


def test_a_stale_person_edit_is_refused_and_changes_nothing() -> None:
    w = world()
    head = _family(w).people[0]
    services.person_update(person=head, actor=w.manager, now=T0, version=1, phone="1")
    events = AuditEvent.objects.count()
    with pytest.raises(services.StaleVersion) as refused:
        services.person_update(person=head, actor=w.manager, now=T0, version=1, phone="2")
    assert refused.value.code == "stale_version"
    assert refused.value.http_status == 409
    head.refresh_from_db()
    assert head.phone == "1"
    assert head.version == 2
    assert AuditEvent.objects.count() == events
    with pytest.raises(services.InvalidArguments):
        services.person_update(person=head, actor=w.manager, now=T0, version=None, phone="3")


def test_only_a_manager_of_the_persons_open_case_edits_others_get_404_or_403() -> None:
    w = world()
    head = _family(w).people[0]
    with pytest.raises(services.PersonNotFound):
        services.person_update(person=head, actor=w.colleague, now=T0, version=1, phone="x")
    with pytest.raises(services.PersonNotFound):
        services.person_update(person=head, actor=w.foreign_manager, now=T0, version=1, phone="x")
    with pytest.raises(services.TransitionForbidden):
        services.person_update(person=head, actor=w.supervisor, now=T0, version=1, phone="x")
    head.refresh_from_db()
    assert head.phone == ""
    assert head.version == 1


# --- editing a household --------------------------------------------------------


def test_a_move_changes_the_household_and_the_members_addresses_audited() -> None:
    w = world()
    intake = _family(w)
    household = intake.case.household
    moved = services.household_update(
        household=household.pk, actor=w.manager, now=T0, version=1, address="Neue Str. 5"
    )
    assert moved.version == 2
    assert set(Person.objects.filter(households=household).values_list("address", flat=True)) == {
        "Neue Str. 5"
    }
    (event,) = _events(intake.case, "cases.household.updated")
    models = [change["model"] for change in event.data["changes"]]
    assert models.count("cases.household") == 1
    assert models.count("cases.person") == 3
    with pytest.raises(services.StaleVersion):
        services.household_update(
            household=household.pk, actor=w.manager, now=T0, version=1, address="Alt"
        )


def test_members_are_added_and_removed_relations_changed_with_before_and_after() -> None:
    w = world()
    intake = _family(w)
    case = intake.case
    household = case.household
    baby = services.household_member_add(
        household=household,
        actor=w.manager,
        now=T0,
        version=1,
        member=NewPerson(
            facts={"family_name": "Karimi", "given_names": "Lina", "date_of_birth": "2025-11-30"},
            relation=R.CHILD,
        ),
    )
    assert baby.person.address == "Hauptstr. 1"
    (added,) = _events(case, "cases.household.member_added")
    by_model = {(change["model"], change["op"]) for change in added.data["changes"]}
    assert ("cases.householdmembership", "create") in by_model
    (members,) = [
        change["fields"]["members"]
        for change in added.data["changes"]
        if "members" in change["fields"]
    ]
    assert members["new"] == sorted([*members["old"], baby.person_id])

    spouse = intake.people[1]
    services.household_member_relation_set(
        household=household, person=spouse, actor=w.manager, now=T0, version=2, relation=R.OTHER
    )
    (changed,) = _events(case, "cases.household.relation_changed")
    assert changed.data["changes"][0]["fields"]["relation"] == {"old": "SPOUSE", "new": "OTHER"}

    services.household_member_remove(
        household=household, person=spouse.pk, actor=w.manager, now=T0, version=3
    )
    assert not HouseholdMembership.objects.filter(household=household, person=spouse).exists()
    (removed,) = _events(case, "cases.household.member_removed")
    ops = {(change["model"], change["op"]) for change in removed.data["changes"]}
    assert ("cases.householdmembership", "delete") in ops
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)

    with pytest.raises(services.StaleVersion):
        services.household_member_remove(
            household=household, person=intake.people[2], actor=w.manager, now=T0, version=3
        )


# --- family casework ------------------------------------------------------------


def test_a_second_adult_gets_a_case_from_the_household() -> None:
    w = world()
    intake = _family(w)
    spouse, child = intake.people[1], intake.people[2]
    second = services.household_member_case_open(
        household=intake.case.household_id, person=spouse.pk, actor=w.manager, now=T0
    )
    assert second.person == spouse
    assert second.household_id == intake.case.household_id
    assert second.intake_channel == Case.IntakeChannel.SELF_REFERRAL
    assert second.status == CaseStatus.REGISTERED
    assert len(_events(second, "cases.case.created")) == 1
    with pytest.raises(services.GuardFailed) as again:
        services.household_member_case_open(
            household=intake.case.household_id, person=spouse.pk, actor=w.manager, now=T0
        )
    assert again.value.code == "open_case_exists"
    with pytest.raises(services.InvalidArguments):
        services.household_member_case_open(
            household=intake.case.household_id, person=child.pk, actor=w.manager, now=T0
        )
    with pytest.raises(services.HouseholdNotFound):
        services.household_member_case_open(
            household=intake.case.household_id, person=spouse.pk, actor=w.foreign_manager, now=T0
        )
    # An edit of the household now lands in both cases' histories.
    services.household_update(
        household=intake.case.household_id, actor=w.manager, now=T0, version=1, address="B 2"
    )
    assert len(_events(intake.case, "cases.household.updated")) == 1
    assert len(_events(second, "cases.household.updated")) == 1


def test_accepting_a_handover_opens_cases_for_the_adults_chosen() -> None:
    from handover import services as handover_services
    from handover.models import HandoverMember

    w = world()
    handover = submitted(
        w,
        members=[
            member(family_name="Haddad", given_names="Amal"),
            member(family_name="Haddad", given_names="Omar", date_of_birth=date(1987, 1, 1)),
            member(family_name="Haddad", given_names="Sami", date_of_birth=date(2016, 5, 5)),
        ],
    )
    adult, child = HandoverMember.objects.filter(handover=handover).order_by("position")[1:]
    with pytest.raises(services.InvalidArguments):
        handover_services.handover_accept(
            handover=handover.pk, actor=w.manager, now=T0, member_cases=[child.pk]
        )
    assert not Case.objects.exists()
    accepted = handover_services.handover_accept(
        handover=handover.pk, actor=w.manager, now=T0, member_cases=[adult.pk]
    )
    cases = list(Case.objects.order_by("pk"))
    assert [c.person.given_names for c in cases] == ["Amal", "Omar"]
    assert {c.household_id for c in cases} == {accepted.case.household_id}
    assert all(c.handover_accepted_at == T0 for c in cases)
    event = AuditEvent.objects.get(event_type="handover.handover.accepted")
    assert event.data["member_case_ids"] == [cases[1].pk]
