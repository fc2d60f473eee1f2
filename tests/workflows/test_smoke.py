"""A whole case through the task screens (smoke; the branch paths are in
test_paths)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from cases.models import CaseStatus, ExtensionRequest
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, manager_in, new_case, supervisor_of
from workflows import engine
from workflows.flows import extension_check_due, review_due
from workflows.invariants import open_work_problems
from workflows.tasks import fire_due_timers_task as fire_due_timers_now

pytestmark = pytest.mark.django_db


def open_names(case):
    return [t.flow_task.name for t in engine.open_tasks(case) if t.flow_task_type == "HUMAN"]


def url_of(case, name, kind="execute"):
    task = next(t for t in engine.open_tasks(case) if t.flow_task.name == name)
    return task.flow_task.reverse(kind, args=[task.process_id, task.pk])


def test_whole_case_through_the_task_screens():
    team = TeamFactory()
    manager, supervisor = manager_in(team), supervisor_of(team)
    case = new_case(owner=manager)
    web = Client()
    web.force_login(manager)
    with time_machine.travel(T0, tick=False):
        assert web.post(url_of(case, "accept_handover"), {"action": "accept"}).status_code == 302
        response = web.post(
            url_of(case, "first_consultation"),
            {
                "action": "consult",
                "consent_given": "on",
                "consent_form": "SIGNED_PAPER",
                "consent_language": "ar",
                "held_on": "2026-01-05",
                "duration_minutes": "45",
                "consultation_form": "office",
                "topics": ["language", "work"],
                "eligibility_basis": "FOLLOW_UP_ACCOMMODATION",
                "benefit_status": "asylblg",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        case.refresh_from_db()
        assert case.status == CaseStatus.INITIAL_COUNSELLING
        assert open_work_problems(case) == []
        response = web.post(
            url_of(case, "needs_assessment"),
            {"action": "assess", "assessed_on": "2026-01-05", "need_language": "HIGH"},
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        plan = url_of(case, "integration_plan")
        response = web.post(
            plan,
            {
                "action": "add_goal",
                "field_of_action": "language",
                "title": "Deutschkurs B1",
                "success_criterion": "Zertifikat B1",
                "target_date": "2026-12-01",
                "measure": "Anmeldung VHS",
                "responsible": "CLIENT",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert web.get(plan).status_code == 200
        response = web.post(
            plan, {"action": "agree", "agreement_form": "SIGNATURE", "agreement_language": "ar"}
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        case.refresh_from_db()
        assert case.status == CaseStatus.ACTIVE
        assert open_work_problems(case) == []
    # the review task appears 14 days before the review
    with time_machine.travel(review_due(case) + timedelta(minutes=1), tick=False):
        assert fire_due_timers_now() >= 1
    assert "review_plan" in open_names(case)
    assert web.get("/aufgaben/").status_code == 200
    assert web.get(f"/aufgaben/fall/{case.pk}/").status_code == 200
    assert web.get("/aufgaben/ablauf.svg").status_code == 200
    # extension check near the end of the period
    with time_machine.travel(extension_check_due(case) + timedelta(days=1), tick=False):
        fire_due_timers_now()
        assert "extension_check" in open_names(case)
        web.force_login(manager)  # two years later
        response = web.post(
            url_of(case, "extension_check"),
            {
                "action": "request",
                "reason": "illiteracy",
                "months": "6",
                "justification": "Alphabetisierung läuft",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert "approve_extension" in open_names(case)
        boss = Client()
        boss.force_login(supervisor)
        assert boss.get("/aufgaben/freigaben/").status_code == 200
        response = boss.post(url_of(case, "approve_extension"), {"decision": "approve", "note": ""})
        assert response.status_code == 302, response.content.decode()[:3000]
        assert ExtensionRequest.objects.get(case=case).status == "APPROVED"
        case.refresh_from_db()
        assert open_work_problems(case) == []
