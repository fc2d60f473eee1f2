"""A supervisor hands a case to another manager of the team; audited."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.selectors import case_replay
from cases import services
from cases.history import case_data_current
from cases.models import Case, CaseStatus
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, journey_to, manager_in, supervisor_of
from workflows.engine import open_tasks

pytestmark = pytest.mark.django_db


def _events(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(case_id=case.pk).order_by("seq"))


def test_supervisor_hands_the_case_over_with_one_event_and_the_tasks_follow() -> None:
    team = TeamFactory()
    old, new, lead = manager_in(team), manager_in(team), supervisor_of(team)
    case = journey_to(CaseStatus.PLANNING, owner=old)
    before = len(_events(case))

    services.case_owner_change(case=case.pk, actor=lead, now=T0, owner=new)

    case.refresh_from_db()
    assert case.owner == new
    owner_events = [e for e in _events(case)[before:] if e.event_type.startswith("cases.")]
    assert [(e.event_type, e.actor_id, e.data["changes"]) for e in owner_events] == [
        (
            "cases.case.owner_changed",
            lead.pk,
            [
                {
                    "model": "cases.case",
                    "id": case.pk,
                    "op": "update",
                    "fields": {"owner_id": {"old": old.pk, "new": new.pk}},
                }
            ],
        )
    ]
    assert {t.owner_id for t in open_tasks(case) if t.flow_task_type == "HUMAN"} == {new.pk}
    assert case_replay(case_id=case.pk).rows == case_data_current(case_id=case.pk)


@pytest.mark.parametrize("who", ["owner", "other_team_lead"])
def test_only_the_teams_supervisor_hands_over_and_a_refusal_changes_nothing(who) -> None:
    team = TeamFactory()
    old, new = manager_in(team), manager_in(team)
    case = journey_to(CaseStatus.ACTIVE, owner=old)
    actor = old if who == "owner" else supervisor_of(TeamFactory(traeger=team.traeger))
    before = len(_events(case))

    with pytest.raises(services.ApplicationError) as error:
        services.case_owner_change(case=case.pk, actor=actor, now=T0, owner=new)

    assert error.value.http_status == (403 if who == "owner" else 404)
    case.refresh_from_db()
    assert (case.owner, len(_events(case))) == (old, before)


def test_handing_to_someone_outside_the_team_is_refused() -> None:
    team = TeamFactory()
    old, lead = manager_in(team), supervisor_of(team)
    stranger = manager_in(TeamFactory(traeger=team.traeger))
    case = journey_to(CaseStatus.ACTIVE, owner=old)
    before = len(_events(case))

    with pytest.raises(services.InvalidArguments):
        services.case_owner_change(case=case.pk, actor=lead, now=T0, owner=stranger)
    with pytest.raises(services.InvalidArguments):
        services.case_owner_change(case=case.pk, actor=lead, now=T0, owner=old)

    case.refresh_from_db()
    assert (case.owner, len(_events(case))) == (old, before)
