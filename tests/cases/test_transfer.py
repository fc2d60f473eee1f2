"""Case transfer (team, other team, other Träger) and bulk reassignment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from audit.lines import event_line
from audit.models import AuditEvent
from audit.selectors import case_replay
from cases import services
from cases.history import case_data_current
from cases.models import (
    Case,
    CaseStatus,
    Consent,
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
)
from cases.selectors import case_get_for_user, cases_visible_to
from notifications.models import Notification
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    T0,
    PersonFactory,
    ensure_catalogues,
    give_consent,
    journey_to,
    manager_in,
    supervisor_of,
)
from workflows.engine import open_tasks

pytestmark = pytest.mark.django_db


def _events(case: Case, kind: str = "cases.case.transferred") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(case_id=case.pk, event_type=kind).order_by("seq"))


def _human_task_owners(case: Case) -> set[int]:
    return {t.owner_id for t in open_tasks(case) if t.flow_task_type == "HUMAN"}


def test_transfer_within_the_team_moves_owner_tasks_and_one_event() -> None:
    team = TeamFactory()
    old, new, lead = manager_in(team), manager_in(team), supervisor_of(team)
    case = journey_to(CaseStatus.PLANNING, owner=old)
    clock = (case.consultation_start, case.regular_end, case.effective_end)

    services.case_transfer(case=case.pk, actor=lead, now=T0, owner=new)

    case.refresh_from_db()
    assert case.owner_id == new.pk
    assert (case.consultation_start, case.regular_end, case.effective_end) == clock
    [event] = _events(case)
    assert (event.actor_id, event.reason) == (lead.pk, "SAME_TEAM")
    assert event.data["old_owner_id"] == old.pk
    assert event.data["new_owner_id"] == new.pk
    assert event.data["reason"] == "OTHER"
    with translation.override("de"):
        assert event_line(event).startswith("Den Fall übergeben (an eine andere Person im Team).")
    assert _human_task_owners(case) == {new.pk}
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)
    with pytest.raises(services.CaseNotFound):
        case_get_for_user(user=old, case_id=case.pk, now=T0, view="test")


def test_transfer_to_another_team_of_the_traeger() -> None:
    team = TeamFactory()
    other_team = TeamFactory(traeger=team.traeger)
    old, lead = manager_in(team), supervisor_of(team)
    new, other_lead = manager_in(other_team), supervisor_of(other_team)
    case = journey_to(CaseStatus.ACTIVE, owner=old)

    services.case_transfer(case=case.pk, actor=lead, now=T0, owner=new)

    case.refresh_from_db()
    assert (case.owner_id, case.traeger_id) == (new.pk, team.traeger_id)
    [event] = _events(case)
    assert event.reason == "OTHER_TEAM"
    assert (event.data["old_team_id"], event.data["new_team_id"]) == (team.pk, other_team.pk)
    assert cases_visible_to(user=other_lead, now=T0).filter(pk=case.pk).exists()
    assert not cases_visible_to(user=lead, now=T0).filter(pk=case.pk).exists()


def test_another_traeger_needs_the_transfer_consent_and_carries_the_clock() -> None:
    team = TeamFactory()
    foreign_team = TeamFactory()  # another Träger
    old, lead, new = manager_in(team), supervisor_of(team), manager_in(foreign_team)
    case = journey_to(CaseStatus.PLANNING, owner=old)
    clock = (case.consultation_start, case.regular_end, case.effective_end)
    notifications = Notification.objects.count()

    with pytest.raises(services.TransferConsentMissing) as refused:
        services.case_transfer(case=case.pk, actor=lead, now=T0, owner=new)

    assert (refused.value.http_status, refused.value.code) == (409, "transfer_consent_missing")
    with translation.override("de"):
        assert "Einwilligung der Person in die Übermittlung" in str(refused.value.message)
    case.refresh_from_db()
    assert (case.owner_id, _events(case), Notification.objects.count()) == (
        old.pk,
        [],
        notifications,
    )

    consent = give_consent(case, scope=Consent.Scope.TRANSFER_TO_RECIPIENT)
    services.case_transfer(
        case=case.pk, actor=lead, now=T0 + timedelta(minutes=1), owner=new, reason="PERSON_MOVED"
    )

    case.refresh_from_db()
    case.person.refresh_from_db()
    assert (case.owner_id, case.traeger_id, case.person.traeger_id) == (
        new.pk,
        foreign_team.traeger_id,
        foreign_team.traeger_id,
    )
    assert (case.consultation_start, case.regular_end, case.effective_end) == clock
    [event] = _events(case)
    assert (event.reason, event.data["consent_id"]) == ("OTHER_TRAEGER", consent.pk)
    assert _human_task_owners(case) == {new.pk}
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)
    # the report copies of the case's consultations follow the case's Träger
    copies = {
        *Consultation.objects.filter(case=case).values_list("traeger_id", flat=True),
        *ConsultationTopic.objects.filter(consultation__case=case).values_list(
            "traeger_id", flat=True
        ),
        *ConsultationParticipant.objects.filter(consultation__case=case).values_list(
            "traeger_id", flat=True
        ),
    }
    assert Consultation.objects.filter(case=case).exists()
    assert copies == {foreign_team.traeger_id}


@pytest.mark.parametrize("who", ["owner", "other_team_lead"])
def test_only_the_supervisor_of_the_case_transfers(who: str) -> None:
    team = TeamFactory()
    old, new = manager_in(team), manager_in(team)
    case = journey_to(CaseStatus.ACTIVE, owner=old)
    actor = old if who == "owner" else supervisor_of(TeamFactory(traeger=team.traeger))

    with pytest.raises(services.ApplicationError) as error:
        services.case_transfer(case=case.pk, actor=actor, now=T0, owner=new)

    assert error.value.http_status == (403 if who == "owner" else 404)
    case.refresh_from_db()
    assert (case.owner_id, _events(case)) == (old.pk, [])


def test_the_new_owner_must_be_another_active_manager() -> None:
    team = TeamFactory()
    old, lead = manager_in(team), supervisor_of(team)
    inactive = manager_in(team, is_active=False)
    case = journey_to(CaseStatus.ACTIVE, owner=old)
    with pytest.raises(services.InvalidArguments) as error:
        services.case_transfer(case=case.pk, actor=lead, now=T0, owner=old, reason="BORED")
    assert error.value.fields.keys() == {"reason"}
    for owner in (old, lead, inactive):
        with pytest.raises(services.InvalidArguments) as error:
            services.case_transfer(case=case.pk, actor=lead, now=T0, owner=owner)
        assert error.value.fields.keys() == {"owner"}
    case.refresh_from_db()
    assert (case.owner_id, _events(case)) == (old.pk, [])


def _assigned_by(lead, owner) -> Case:
    """A case a supervisor registered for `owner`: the owner was notified."""
    ensure_catalogues()
    return services.case_create(
        person=PersonFactory(traeger=owner.traeger),
        owner=owner,
        actor=lead,
        now=T0,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
    )


def test_bulk_reassignment_moves_every_case_tasks_and_notifications() -> None:
    team = TeamFactory()
    leaving, successor, lead = manager_in(team), manager_in(team), supervisor_of(team)
    bystander = manager_in(team)
    cases = [
        journey_to(CaseStatus.ACTIVE, owner=leaving),
        journey_to(CaseStatus.PLANNING, owner=leaving),
        journey_to(CaseStatus.CLOSED, owner=leaving),
        _assigned_by(lead, leaving),
    ]
    kept = journey_to(CaseStatus.ACTIVE, owner=bystander)
    assert Notification.objects.filter(recipient=leaving, case=cases[3]).count() == 1

    result = services.cases_reassign(actor=lead, now=T0, from_owner=leaving, owner=successor)

    assert result.case_ids == sorted(c.pk for c in cases)
    assert set(result.kinds.values()) == {services.TransferKind.SAME_TEAM}
    for case in cases:
        case.refresh_from_db()
        assert case.owner_id == successor.pk
        [event] = _events(case)
        assert (event.reason, event.data["reason"]) == ("SAME_TEAM", "LEAVING")
        assert leaving.pk not in _human_task_owners(case)
    assert _human_task_owners(cases[1]) == {successor.pk}
    kept.refresh_from_db()
    assert kept.owner_id == bystander.pk
    assert _events(kept) == []
    # The leaving manager sees none of them and has no notification of them.
    assert not cases_visible_to(user=leaving, now=T0).exists()
    assert not Notification.objects.filter(recipient=leaving).exists()
    moved = Notification.objects.filter(recipient=successor, case=cases[3])
    assert {n.kind for n in moved} == {"CASE_ASSIGNED"}
    assert moved.count() == 2
    for case in cases:
        with pytest.raises(services.CaseNotFound):
            case_get_for_user(user=leaving, case_id=case.pk, now=T0, view="test")


def test_bulk_reassignment_of_a_selection_is_all_or_nothing() -> None:
    team = TeamFactory()
    leaving, successor, lead = manager_in(team), manager_in(team), supervisor_of(team)
    foreign = manager_in(TeamFactory())
    first = journey_to(CaseStatus.ACTIVE, owner=leaving)
    second = journey_to(CaseStatus.ACTIVE, owner=leaving)
    third = journey_to(CaseStatus.ACTIVE, owner=leaving)

    # Another Träger without consent: the first case would move, the second
    # is refused, so none moves.
    give_consent(first, scope=Consent.Scope.TRANSFER_TO_RECIPIENT)
    with pytest.raises(services.TransferConsentMissing):
        services.cases_reassign(
            actor=lead, now=T0, from_owner=leaving, owner=foreign, case_ids=[first.pk, second.pk]
        )
    # A case that is not the leaving manager's is a 404.
    with pytest.raises(services.CaseNotFound):
        services.cases_reassign(
            actor=lead,
            now=T0,
            from_owner=leaving,
            owner=successor,
            case_ids=[first.pk, journey_to(CaseStatus.ACTIVE, owner=successor).pk],
        )
    assert all(_events(c) == [] for c in (first, second, third))

    result = services.cases_reassign(
        actor=lead, now=T0, from_owner=leaving, owner=successor, case_ids=[str(second.pk)]
    )

    assert result.case_ids == [second.pk]
    assert Case.objects.get(pk=second.pk).owner_id == successor.pk
    assert Case.objects.get(pk=first.pk).owner_id == leaving.pk
    assert Case.objects.get(pk=third.pk).owner_id == leaving.pk


def test_bulk_reassignment_is_for_supervisors_and_needs_cases() -> None:
    team = TeamFactory()
    leaving, successor, lead = manager_in(team), manager_in(team), supervisor_of(team)
    with pytest.raises(services.TransitionForbidden):
        services.cases_reassign(actor=successor, now=T0, from_owner=leaving, owner=successor)
    with pytest.raises(services.InvalidArguments) as error:
        services.cases_reassign(actor=lead, now=T0, from_owner=leaving, owner=successor)
    assert error.value.fields.keys() == {"case_ids"}
    with pytest.raises(services.InvalidArguments):
        services.cases_reassign(actor=lead, now=T0, from_owner=leaving, owner=leaving)
