"""Handover services: create, consent rule, accept, return, duplicates, races."""

from __future__ import annotations

from datetime import date

import pytest

from audit.models import AuditEvent
from cases.models import Case, CaseStatus, Consent, HouseholdMembership, Person
from cases.services import GuardFailed
from handover import services
from handover.models import Handover, HandoverMember, HandoverStatus, ReturnReason
from handover.selectors import HandoverNotFound, handover_of_case, handovers_visible_to, name_key
from tests.cases.factories import T0, PersonFactory, new_case
from tests.cases.test_concurrency import errors, on_postgres_with_commits, run_concurrently
from tests.handover.factories import handover_data, member, submitted, world
from workflows import engine

pytestmark = pytest.mark.django_db


def handover_events(handover: Handover) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(object_type="handover", object_id=str(handover.pk))
        .order_by("pk")
        .values_list("event_type", "to_state")
    )


def open_task_names(case: Case) -> list[str]:
    return [
        task.flow_task.name for task in engine.open_tasks(case) if task.flow_task_type == "HUMAN"
    ]


# --- create ------------------------------------------------------------------


def test_handover_create_stores_submitted_handover_with_one_event() -> None:
    w = world()

    handover = submitted(
        w,
        members=[
            member(),
            member(given_names="Sami", relation="CHILD", date_of_birth=date(2015, 6, 10)),
        ],
    )

    assert handover.status == HandoverStatus.SUBMITTED
    assert handover.submitted_at == T0
    assert handover.known_needs == "Sprachkurs, Kita-Platz"
    assert list(handover.members.order_by("position").values_list("relation", "given_names")) == [
        ("HEAD", "Amal"),
        ("CHILD", "Sami"),
    ]
    assert handover_events(handover) == [("handover.handover.created", "SUBMITTED")]


def test_handover_without_consent_keeps_only_the_allocation_facts() -> None:
    w = world()

    handover = submitted(w, consent_given=False)

    handover.refresh_from_db()
    assert (handover.known_needs, handover.open_matters, handover.notes) == ("", "", "")
    assert (handover.phone, handover.address, handover.consent_form) == ("", "", "")
    assert handover.consent_given_on is None
    assert (handover.gemeinde, handover.au_allocation_date) == (w.gemeinde, date(2025, 12, 1))
    assert handover.gu_contact_name == "Gül Test"
    stored = handover.members.get()
    assert (stored.family_name, stored.given_names, stored.relation) == ("Haddad", "Amal", "HEAD")
    assert (stored.date_of_birth, stored.nationality, stored.languages, stored.sex) == (
        None,
        "",
        "",
        "UNKNOWN",
    )


def test_handover_without_consent_creates_a_case_with_allocation_facts_only() -> None:
    w = world()
    handover = submitted(w, consent_given=False)

    services.handover_accept(handover=handover, actor=w.manager, now=T0)

    handover.refresh_from_db()
    person = handover.case.person
    assert (person.family_name, person.given_names, person.gemeinde) == (
        "Haddad",
        "Amal",
        w.gemeinde,
    )
    assert person.au_allocation_date == date(2025, 12, 1)
    assert (person.date_of_birth, person.nationality, person.phone, person.address) == (
        None,
        "",
        "",
        "",
    )
    assert not Consent.objects.filter(person=person).exists()


def test_handover_create_with_same_reference_returns_the_existing_one() -> None:
    w = world()
    first, created = services.handover_create(
        actor=w.gu,
        now=T0,
        data=handover_data(w.gemeinde, external_reference="R-1"),
        members=[member()],
    )

    again, created_again = services.handover_create(
        actor=w.gu,
        now=T0,
        data=handover_data(w.gemeinde, external_reference="R-1"),
        members=[member(family_name="Anders")],
    )

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Handover.objects.filter(submitted_by=w.gu).count() == 1
    assert len(handover_events(first)) == 1


def test_handover_create_by_a_manager_is_forbidden_and_writes_nothing() -> None:
    w = world()

    with pytest.raises(services.HandoverForbidden):
        services.handover_create(
            actor=w.manager, now=T0, data=handover_data(w.gemeinde), members=[member()]
        )

    assert Handover.objects.count() == 0


def test_handover_create_reports_every_bad_field() -> None:
    w = world()

    with pytest.raises(services.HandoverInvalid) as caught:
        services.handover_create(
            actor=w.gu,
            now=T0,
            data=handover_data(
                w.gemeinde,
                gemeinde_ags="00000000",
                au_allocation_date="31.02.2025",
                consent_language="",
                gu_contact_name="",
            ),
            members=[member(family_name="", sex="Q")],
        )

    assert sorted(caught.value.fields) == [
        "au_allocation_date",
        "consent_language",
        "gemeinde_ags",
        "gu_contact_name",
        "members.0.family_name",
        "members.0.sex",
    ]
    assert Handover.objects.count() == 0


def test_a_person_waiting_in_another_handover_is_refused() -> None:
    w = world()
    first = submitted(w)

    with pytest.raises(services.HandoverDuplicate) as caught:
        submitted(w, members=[member(family_name="Hadad", given_names="Amal")])

    assert (
        caught.value.message
        == f"Diese Person ist bereits in einer Übergabe, die auf Annahme wartet (Nr. {first.pk})."
    )
    assert Handover.objects.count() == 1


def test_draft_is_submitted_by_its_sender_only() -> None:
    w = world()
    draft, _ = services.handover_create(
        actor=w.gu, now=T0, data=handover_data(w.gemeinde), members=[member()], submit=False
    )
    assert list(handovers_visible_to(user=w.manager)) == []

    services.handover_submit(handover=draft, actor=w.gu, now=T0)

    draft.refresh_from_db()
    assert draft.status == HandoverStatus.SUBMITTED
    assert list(handovers_visible_to(user=w.manager)) == [draft]
    with pytest.raises(services.HandoverNotOpen):
        services.handover_submit(handover=draft, actor=w.gu, now=T0)
    assert handover_events(draft) == [
        ("handover.handover.created", "DRAFT"),
        ("handover.handover.submitted", "SUBMITTED"),
    ]


# --- visibility ------------------------------------------------------------------


def test_visibility_follows_sender_and_gemeinde() -> None:
    w = world()
    handover = submitted(w)
    other_gu = type(w.gu).objects.create(username="gu-other", role="GU_SOCIAL_WORKER")

    assert list(handovers_visible_to(user=w.gu)) == [handover]
    assert list(handovers_visible_to(user=w.manager)) == [handover]
    assert list(handovers_visible_to(user=w.supervisor)) == [handover]
    assert list(handovers_visible_to(user=w.foreign_manager)) == []
    assert list(handovers_visible_to(user=other_gu)) == []

    services.handover_accept(handover=handover, actor=w.manager, now=T0)

    assert list(handovers_visible_to(user=w.manager)) == [handover]
    assert list(handovers_visible_to(user=w.colleague)) == []
    assert list(handovers_visible_to(user=w.supervisor)) == [handover]
    assert list(handovers_visible_to(user=w.gu)) == [handover]


# --- accept ----------------------------------------------------------------------


def test_manager_accepting_for_themselves_gets_an_accepted_case_without_accept_task() -> None:
    w = world()
    handover = submitted(
        w,
        members=[
            member(),
            member(given_names="Sami", relation="CHILD", date_of_birth=date(2015, 6, 10)),
        ],
    )

    result = services.handover_accept(handover=handover, actor=w.manager, now=T0)

    case = Case.objects.get(pk=result.case_id)
    assert (case.status, case.owner, case.intake_channel) == (
        CaseStatus.REGISTERED,
        w.manager,
        Case.IntakeChannel.HANDOVER_FSA,
    )
    assert case.handover_accepted_at == T0
    assert (case.gemeinde, case.traeger) == (w.gemeinde, w.manager.traeger)
    assert open_task_names(case) == ["first_consultation"]
    assert list(
        HouseholdMembership.objects.filter(household=case.household)
        .order_by("person__given_names")
        .values_list("person__given_names", "relation")
    ) == [("Amal", "HEAD"), ("Sami", "CHILD")]
    consent = Consent.objects.get(case=case)
    assert (consent.scope, consent.form, consent.language, consent.recorded_by) == (
        Consent.Scope.HANDOVER_IN,
        "SIGNED_PAPER",
        "ar",
        w.manager,
    )
    assert result.status == HandoverStatus.ACCEPTED
    assert (result.decided_by, result.assignee) == (w.manager, w.manager)
    assert handover_events(handover) == [
        ("handover.handover.created", "SUBMITTED"),
        ("handover.handover.accepted", "ACCEPTED"),
    ]
    assert handover_of_case(case=case).known_needs == "Sprachkurs, Kita-Platz"


def test_supervisor_accepting_for_a_manager_opens_the_accept_task_for_them() -> None:
    w = world()
    handover = submitted(w)

    result = services.handover_accept(
        handover=handover, actor=w.supervisor, now=T0, assignee=w.colleague.pk
    )

    case = result.case
    assert (case.owner, case.handover_accepted_at) == (w.colleague, None)
    assert open_task_names(case) == ["accept_handover"]
    assert [t.owner for t in engine.open_tasks(case) if t.flow_task_type == "HUMAN"] == [
        w.colleague
    ]


def test_manager_naming_a_colleague_leaves_the_acceptance_to_the_colleague() -> None:
    w = world()
    handover = submitted(w)

    result = services.handover_accept(
        handover=handover, actor=w.manager, now=T0, assignee=w.colleague
    )

    assert (result.case.owner, result.case.handover_accepted_at) == (w.colleague, None)
    assert open_task_names(result.case) == ["accept_handover"]


def test_supervisor_must_name_a_manager_of_the_team() -> None:
    w = world()
    handover = submitted(w)

    for assignee in (None, w.foreign_manager.pk, w.supervisor.pk):
        with pytest.raises(services.HandoverInvalid):
            services.handover_accept(
                handover=handover, actor=w.supervisor, now=T0, assignee=assignee
            )

    handover.refresh_from_db()
    assert handover.status == HandoverStatus.SUBMITTED
    assert Case.objects.count() == 0


def test_accepting_twice_is_a_conflict_and_changes_nothing() -> None:
    w = world()
    handover = submitted(w)
    services.handover_accept(handover=handover, actor=w.manager, now=T0)
    events = AuditEvent.objects.count()

    with pytest.raises(services.HandoverNotOpen):
        services.handover_accept(handover=handover, actor=w.colleague, now=T0)

    assert Case.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_outsiders_cannot_accept() -> None:
    w = world()
    handover = submitted(w)

    with pytest.raises(services.HandoverForbidden):
        services.handover_accept(handover=handover, actor=w.gu, now=T0)
    with pytest.raises(HandoverNotFound):
        services.handover_accept(handover=handover, actor=w.foreign_manager, now=T0)

    handover.refresh_from_db()
    assert handover.status == HandoverStatus.SUBMITTED
    assert Case.objects.count() == 0


def test_a_failing_case_creation_rolls_back_everything() -> None:
    w = world()
    existing = new_case(owner=w.manager)
    person = existing.person
    handover = submitted(
        w,
        members=[
            member(
                family_name=person.family_name,
                given_names=person.given_names,
                date_of_birth=person.date_of_birth,
                nationality=person.nationality,
            )
        ],
    )
    persons = Person.objects.count()
    events = AuditEvent.objects.count()

    with pytest.raises(services.PossibleDuplicatePerson):
        services.handover_accept(handover=handover, actor=w.manager, now=T0)
    member_id = handover.members.get().pk
    with pytest.raises(GuardFailed) as caught:
        services.handover_accept(
            handover=handover, actor=w.manager, now=T0, persons={member_id: person.pk}
        )

    assert caught.value.code == "open_case_exists"
    handover.refresh_from_db()
    assert (handover.status, handover.case_id) == (HandoverStatus.SUBMITTED, None)
    assert Person.objects.count() == persons
    assert AuditEvent.objects.count() == events
    assert HandoverMember.objects.get(pk=member_id).person_id is None


# --- duplicates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spellings", "same"),
    [
        (["Mohammed", "Muhammad", "Mohamed", "Muhamad"], True),
        (["Oleksandr", "Alexander", "Олександр", "Aleksandr"], True),
        (["Müller", "Mueller", "MÜLLER"], True),
        (["Strauß", "Strauss"], True),
        (["Yusuf", "Jusuf", "Youssef"], True),
        (["Schewtschenko", "Shevchenko", "Шевченко"], True),
        (["Haddad", "Hamid"], False),
        (["Olena", "Alina"], True),
    ],
)
def test_name_key_folds_transliterations(spellings: list[str], same: bool) -> None:
    keys = {name_key(spelling) for spelling in spellings}

    assert (len(keys) == 1) is same


def test_accept_proposes_an_existing_person_and_links_when_chosen() -> None:
    w = world()
    known = PersonFactory(
        traeger=w.manager.traeger,
        family_name="Al-Hassan",
        given_names="Muhammad",
        date_of_birth=date(1988, 4, 2),
        nationality="SY",
    )
    handover = submitted(
        w,
        members=[
            member(
                family_name="Al Hasan",
                given_names="Mohammed",
                date_of_birth=date(1988, 4, 2),
                nationality="SY",
            )
        ],
    )
    member_id = handover.members.get().pk

    with pytest.raises(services.PossibleDuplicatePerson) as caught:
        services.handover_accept(handover=handover, actor=w.manager, now=T0)
    assert caught.value.fields == {str(member_id): [str(known.pk)]}
    handover.refresh_from_db()
    assert handover.status == HandoverStatus.SUBMITTED

    result = services.handover_accept(
        handover=handover, actor=w.manager, now=T0, persons={member_id: known.pk}
    )

    assert result.case.person == known
    assert Person.objects.filter(traeger=w.manager.traeger).count() == 1


def test_accept_creates_a_new_person_when_the_manager_says_so() -> None:
    w = world()
    known = PersonFactory(
        traeger=w.manager.traeger,
        family_name="Haddad",
        given_names="Amal",
        date_of_birth=date(1990, 3, 1),
    )
    handover = submitted(w)

    result = services.handover_accept(
        handover=handover, actor=w.manager, now=T0, persons={handover.members.get().pk: None}
    )

    assert result.case.person != known
    assert Person.objects.filter(family_name="Haddad").count() == 2


def test_different_birth_date_or_nationality_is_no_candidate() -> None:
    w = world()
    PersonFactory(
        traeger=w.manager.traeger,
        family_name="Haddad",
        given_names="Amal",
        date_of_birth=date(1991, 3, 1),
    )
    PersonFactory(
        traeger=w.manager.traeger,
        family_name="Haddad",
        given_names="Amal",
        date_of_birth=date(1990, 3, 1),
        nationality="IQ",
    )
    handover = submitted(w)

    result = services.handover_accept(handover=handover, actor=w.manager, now=T0)

    assert result.case.person.family_name == "Haddad"
    assert Person.objects.filter(family_name="Haddad").count() == 3


def test_same_authority_reference_is_a_candidate_whatever_the_name() -> None:
    w = world()
    first = submitted(w, members=[member(authority_reference="AZ 123/45")])
    services.handover_accept(handover=first, actor=w.manager, now=T0)
    first.refresh_from_db()
    second = submitted(
        w,
        external_reference="",
        members=[
            member(
                family_name="Xu",
                given_names="Li",
                date_of_birth=date(1970, 1, 1),
                nationality="",
                authority_reference="az123-45",
            )
        ],
    )

    with pytest.raises(services.PossibleDuplicatePerson) as caught:
        services.handover_accept(handover=second, actor=w.colleague, now=T0)

    assert caught.value.fields == {str(second.members.get().pk): [str(first.case.person_id)]}


# --- return ----------------------------------------------------------------------


def test_return_with_reason_is_shown_to_the_sender() -> None:
    w = world()
    handover = submitted(w)

    services.handover_return(
        handover=handover, actor=w.supervisor, now=T0, reason=ReturnReason.WRONG_GEMEINDE
    )

    mine = handovers_visible_to(user=w.gu).get()
    assert (mine.status, mine.return_reason, mine.decided_by) == (
        HandoverStatus.RETURNED,
        "WRONG_GEMEINDE",
        w.supervisor,
    )
    with pytest.raises(services.HandoverNotOpen):
        services.handover_accept(handover=handover, actor=w.manager, now=T0)
    assert handover_events(handover)[-1] == ("handover.handover.returned", "RETURNED")
    assert Case.objects.count() == 0


def test_return_needs_a_known_reason_and_a_note_for_other() -> None:
    w = world()
    handover = submitted(w)

    with pytest.raises(services.HandoverInvalid):
        services.handover_return(handover=handover, actor=w.manager, now=T0, reason="BORED")
    with pytest.raises(services.HandoverInvalid):
        services.handover_return(handover=handover, actor=w.manager, now=T0, reason="OTHER")

    handover.refresh_from_db()
    assert handover.status == HandoverStatus.SUBMITTED
    assert len(handover_events(handover)) == 1


# --- the race (PostgreSQL) -------------------------------------------------------


@on_postgres_with_commits
def test_two_managers_accepting_at_once_create_exactly_one_case() -> None:
    w = world()
    handover = submitted(w)

    results = run_concurrently(
        [
            lambda: services.handover_accept(handover=handover.pk, actor=w.manager, now=T0),
            lambda: services.handover_accept(handover=handover.pk, actor=w.colleague, now=T0),
        ]
    )

    assert sorted(outcome for outcome, _v, _s in results) == ["error", "ok"]
    [error] = errors(results)
    assert (type(error), error.http_status, error.code) == (
        services.HandoverNotOpen,
        409,
        "handover_not_open",
    )
    assert Case.objects.filter(intake_channel=Case.IntakeChannel.HANDOVER_FSA).count() == 1
    assert Person.objects.filter(family_name="Haddad").count() == 1
    handover.refresh_from_db()
    assert handover.status == HandoverStatus.ACCEPTED
    assert [e for e, _s in handover_events(handover)] == [
        "handover.handover.created",
        "handover.handover.accepted",
    ]


def test_linking_one_known_person_to_two_handed_over_persons_is_refused() -> None:
    w = world()
    known = PersonFactory(
        traeger=w.manager.traeger, family_name="Haddad", given_names="Amal", date_of_birth=None
    )
    handover = submitted(
        w,
        consent_given=False,
        members=[member(), member(date_of_birth=date(1992, 1, 1), relation="SPOUSE")],
    )
    ids = list(handover.members.order_by("position").values_list("pk", flat=True))

    with pytest.raises(services.HandoverInvalid) as caught:
        services.handover_accept(
            handover=handover, actor=w.manager, now=T0, persons={i: known.pk for i in ids}
        )

    assert list(caught.value.fields) == ["persons"]
    handover.refresh_from_db()
    assert handover.status == HandoverStatus.SUBMITTED
    assert Case.objects.count() == 0


# --- notification of the Gemeinde's integration management ---------------------


def test_submitting_tells_the_gemeindes_managers_and_supervisors_once() -> None:
    from notifications.models import Notification

    w = world()
    draft, _ = services.handover_create(
        actor=w.gu, now=T0, data=handover_data(w.gemeinde), members=[member()], submit=False
    )
    assert Notification.objects.count() == 0  # a draft concerns only its sender

    services.handover_submit(handover=draft, actor=w.gu, now=T0)
    with pytest.raises(services.HandoverNotOpen):
        services.handover_submit(handover=draft, actor=w.gu, now=T0)

    told = Notification.objects.filter(key=f"handover:{draft.pk}:submitted")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
        [w.manager.pk, w.colleague.pk, w.supervisor.pk]
    )
    assert Notification.objects.count() == 3
    assert all(n.case_id is None for n in told)
    assert "Haddad" not in str(list(told.values_list("params", flat=True)))
