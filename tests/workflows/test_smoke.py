import pytest
from django.test import Client
from viewflow.workflow.models import Task

from tests.cases.factories import T0, manager_in, new_case, supervisor_of
from tests.accounts.factories import TeamFactory
from workflows import engine

pytestmark = pytest.mark.django_db


def test_case_create_starts_the_flow_with_accept_handover():
    case = new_case()
    tasks = engine.open_tasks(case)
    assert [t.flow_task.name for t in tasks] == ["accept_handover"]
    client = Client()
    client.force_login(case.owner)
    response = client.get("/aufgaben/")
    assert response.status_code == 200, response.content
    task = tasks[0]
    url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])
    response = client.get(url)
    assert response.status_code == 200, response.content
    response = client.post(url, {"action": "accept"})
    assert response.status_code == 302, response.content
    assert [t.flow_task.name for t in engine.open_tasks(case)] == ["first_consultation"]
