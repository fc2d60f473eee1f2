"""`manage.py verify_workflows` finds and repairs cases whose open work
does not fit their state."""

import pytest
from django.core.management import CommandError, call_command
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from cases.models import CaseStatus
from tests.cases.factories import journey_to
from workflows.invariants import open_work, open_work_problems
from workflows.models import CaseProcess

pytestmark = pytest.mark.django_db


def test_a_case_without_its_flow_is_reported_and_repaired() -> None:
    case = journey_to(CaseStatus.PLANNING)
    # As if the case predated the workflows: no open process, no tasks.
    Task.objects.filter(process__caseprocess__case=case).delete()
    CaseProcess.objects.filter(case=case).update(status=PROCESS.CANCELED)
    assert open_work_problems(case) != []

    with pytest.raises(CommandError, match="1 cases"):
        call_command("verify_workflows")
    call_command("verify_workflows", "--repair")

    assert open_work(case) == ["extension_timer", "integration_plan"]
    assert open_work_problems(case) == []
    call_command("verify_workflows")  # nothing left to report
