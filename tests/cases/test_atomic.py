"""A case service nested in a caller's transaction: its own savepoint,
unless the caller rolls back everything on any error (cases.atomic)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.context import Context

from audit.models import AuditEvent
from cases import services
from cases.atomic import all_or_nothing
from cases.models import Case, CaseStatus
from tests.cases.factories import T0, journey_to
from workflows.nodes import _node_atomic

pytestmark = pytest.mark.django_db


def savepoints(captured: CaptureQueriesContext) -> int:
    return sum(q["sql"].startswith("SAVEPOINT") for q in captured.captured_queries)


def test_nested_service_sets_a_savepoint_and_the_caller_goes_on() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    events = AuditEvent.objects.count()

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        with pytest.raises(services.TransitionNotAvailable):
            services.case_transition(case=case, name="resume", actor=case.owner, now=T0)
        # The transaction is still usable after the refusal.
        assert Case.objects.filter(pk=case.pk).exists()

    assert savepoints(captured) == 1
    assert AuditEvent.objects.count() == events


def test_all_or_nothing_joins_the_callers_transaction_and_a_failure_dooms_it() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    events = AuditEvent.objects.count()

    with (  # noqa: PT012 - the whole transaction is under test
        pytest.raises(services.ApplicationError, match="the caller rolls back"),
        transaction.atomic(),
        all_or_nothing(),
    ):
        with CaptureQueriesContext(connection) as captured:
            services.case_transition(
                case=case, name="pause", actor=case.owner, now=T0, reason="OTHER"
            )
        assert savepoints(captured) == 0
        assert connection.needs_rollback is False
        with pytest.raises(services.TransitionNotAvailable):  # dormant by now
            services.case_transition(
                case=case.pk, name="pause", actor=case.owner, now=T0, reason="OTHER"
            )
        assert connection.needs_rollback is True
        raise services.ApplicationError("the caller rolls back")

    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE  # the first pause rolled back with the rest
    assert AuditEvent.objects.count() == events


def test_gateways_keep_their_savepoint_where_failures_do_not_propagate() -> None:
    with transaction.atomic():
        assert _node_atomic().savepoint is False
        with Context(propagate_exception=False):
            assert _node_atomic().savepoint is True
