"""The one-statement read of the gateway facts (the restart's and the
guided steps') agrees with the facts written as ORM queries, one by one
(workflows.facts._fact_rows)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from cases.models import Case, CaseStatus
from tests.cases.factories import journey_to
from tests.workflows.test_engine import BRANCHES
from workflows.facts import NAMES, CaseFacts, _fact_rows, all_facts
from workflows.flows import CaseFlow
from workflows.models import CaseProcess

pytestmark = pytest.mark.django_db


def one_by_one(case: Case) -> dict[str, bool]:
    rows = _fact_rows(case.pk)
    return {name: rows[name].exists() for name in NAMES}


@pytest.mark.parametrize("branch", sorted(BRANCHES))
def test_all_facts_agree_with_the_single_reads(branch: str) -> None:
    make, _open = BRANCHES[branch]
    case = make()

    assert all_facts(case.pk) == one_by_one(case)


def test_a_done_extension_check_of_any_process_of_the_case_counts() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    other = journey_to(CaseStatus.ACTIVE)
    process = CaseProcess.objects.filter(case=case).order_by("pk").first()
    Task.objects.create(
        process=process,
        flow_task=CaseFlow.extension_check,
        flow_task_type="HUMAN",
        status=STATUS.DONE,
        created=timezone.now(),
        token=Token("start"),
    )

    assert all_facts(case.pk)["extension_checked"] is True
    assert all_facts(case.pk) == one_by_one(case)
    assert all_facts(other.pk)["extension_checked"] is False


def test_read_all_is_one_statement() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    facts = CaseFacts(case.pk)

    with CaptureQueriesContext(connection) as captured:
        facts.read_all()
        asked = {name: facts[name] for name in NAMES}

    assert len(captured) == 1
    assert asked == one_by_one(case)


def test_a_gateway_asking_one_fact_reads_them_all_in_one_statement() -> None:
    """The guided step's gateway asks one fact: one plain statement reads
    every fact, and the next fact asked in the pass costs nothing."""
    case = journey_to(CaseStatus.ACTIVE)
    facts = CaseFacts(case.pk)

    with CaptureQueriesContext(connection) as captured:
        agreed = facts["agreed_plan"]
        rest = {name: facts[name] for name in NAMES}

    assert len(captured) == 1
    assert agreed is True
    assert rest == one_by_one(case)
