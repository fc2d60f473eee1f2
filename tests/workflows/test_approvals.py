"""The supervisor's approval task cannot get stuck with someone who left."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cases import services
from cases.models import CaseStatus, ExtensionRequest
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, journey_to, supervisor_of
from workflows import engine

pytestmark = pytest.mark.django_db


def approval_task(case):
    return next(t for t in engine.open_tasks(case) if t.flow_task.name == "approve_extension")


def execute_url(task):
    return task.flow_task.reverse("execute", args=[task.process_id, task.pk])


@pytest.mark.parametrize("departure", ["deactivated", "moved_team", "changed_role"])
def test_a_taken_approval_passes_to_the_team_when_its_supervisor_leaves(departure):
    case = journey_to(CaseStatus.ACTIVE)
    now = T0 + timedelta(days=1)
    services.extension_request_submit(
        case=case, actor=case.owner, now=now, reason="illiteracy", months=6, justification="B"
    )
    first, second = supervisor_of(case.owner.team), supervisor_of(case.owner.team)
    boss = Client()
    boss.force_login(first)
    task = approval_task(case)
    assert (
        boss.post(task.flow_task.reverse("assign", args=[task.process_id, task.pk])).status_code
        == 302
    )
    other = Client()
    other.force_login(second)
    assert other.get(reverse("workflows:approvals")).context["rows"] == []
    assert other.get(execute_url(task)).status_code == 403  # taken by a colleague

    if departure == "deactivated":
        first.is_active = False
    elif departure == "moved_team":
        first.team = TeamFactory(traeger=first.traeger)
    else:
        first.role = "AUDITOR"
    first.save()

    rows = other.get(reverse("workflows:approvals")).context["rows"]
    assert [row.task.pk for row in rows] == [task.pk]
    response = other.post(execute_url(task), {"decision": "approve", "note": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    request = ExtensionRequest.objects.get(case=case)
    assert (request.status, request.decided_by_id) == ("APPROVED", second.pk)
    events = list(
        AuditEvent.objects.filter(case_id=case.pk, event_type__startswith="workflows.task.")
        .filter(reason="approve_extension")
        .order_by("seq")
        .values_list("event_type", "actor_id")
    )
    assert events == [
        ("workflows.task.assigned", first.pk),
        ("workflows.task.assigned", second.pk),
        ("workflows.task.completed", second.pk),
    ]


def test_after_deciding_the_supervisor_lands_on_the_approvals_where_more_wait():
    first_case = journey_to(CaseStatus.ACTIVE)
    second_case = journey_to(CaseStatus.ACTIVE, owner=first_case.owner)
    now = T0 + timedelta(days=1)
    for case in (first_case, second_case):
        services.extension_request_submit(
            case=case, actor=case.owner, now=now, reason="illiteracy", months=6, justification="B"
        )
    boss = Client()
    boss.force_login(supervisor_of(first_case.owner.team))

    response = boss.post(execute_url(approval_task(first_case)), {"decision": "approve"})

    assert response.status_code == 302
    assert response["Location"] == reverse("workflows:approvals")
    rows = boss.get(response["Location"]).context["rows"]
    assert [row.task.pk for row in rows] == [approval_task(second_case).pk]
