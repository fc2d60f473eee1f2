"""Transitions are atomic with their side records (RELIABILITY.md W8, A7).

An exception is injected at fixed points inside representative
transitions: right after the state is saved, right after the audit event
is written, and inside the follow-up (`Step.after`) that writes the side
records. Each time the exception must reach the caller and leave the case,
its audit chain and its plan, goal, person and extension rows exactly as
they were. The service's `transaction.atomic()` is a savepoint inside the
test's transaction, so its rollback is what is observed here.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db.models import Exists, F, OuterRef, Q, Subquery
from viewflow.workflow.models import Task

from audit.models import AuditEvent
from audit.services import SYSTEM_ROLE, audit_event_record
from cases import services
from cases.models import (
    Case,
    CaseStatus,
    Consultation,
    ExtensionRequest,
    Goal,
    IntegrationPlan,
    Measure,
    Person,
    Referral,
)
from cases.services import base, extensions, transitions
from tests.cases.factories import (
    AGREEMENT,
    ELIGIBLE,
    T0,
    add_complete_goal,
    consult,
    give_consent,
    journey_to,
    new_case,
    supervisor_of,
)
from workflows.models import CaseProcess

pytestmark = pytest.mark.django_db


def audit_state_divergence() -> dict[str, int]:
    """Count where case state and audit trail disagree (A7).

    `state_without_event`: cases whose status is not the `to_state` of their
    last transition event (or that have none); `event_without_case`:
    transition events whose case does not exist.
    """
    transition_events = AuditEvent.objects.filter(event_type__startswith="cases.case.").exclude(
        transition=""
    )
    last_to_state = (
        transition_events.filter(case_id=OuterRef("pk")).order_by("-seq").values("to_state")[:1]
    )
    state_without_event = (
        Case.objects.annotate(audited=Subquery(last_to_state))
        .filter(Q(audited__isnull=True) | ~Q(status=F("audited")))
        .count()
    )
    event_without_case = transition_events.exclude(
        Exists(Case.objects.filter(pk=OuterRef("case_id")))
    ).count()
    return {"state_without_event": state_without_event, "event_without_case": event_without_case}


NO_DIVERGENCE = {"state_without_event": 0, "event_without_case": 0}


class Boom(Exception):
    """The injected fault."""


def raise_after(real: Callable[..., Any]) -> Callable[..., Any]:
    """Return `real` wrapped to do its work and then fail."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise Boom

    return wrapper


@contextmanager
def fault(point: str, transition: str) -> Iterator[None]:
    """Make the next `transition` fail at `point`."""
    if point == "state_saved":
        # `_save` is imported by each aggregate module that writes a state.
        with contextlib.ExitStack() as stack:
            for module in (transitions, extensions):
                stack.enter_context(mock.patch.object(module, "_save", raise_after(base._save)))
            yield
    elif point == "audit_written":
        real = base.audit_event_record
        with mock.patch.object(base, "audit_event_record", raise_after(real)):
            yield
    else:  # inside the follow-up that writes the side records
        spec = services.TRANSITIONS[transition]

        def prepare(ctx: services.Ctx) -> services.Step:
            step = spec.prepare(ctx)
            assert step.after is not None
            step.after = raise_after(step.after)
            return step

        patched = dataclasses.replace(spec, prepare=prepare)
        with mock.patch.dict(services.TRANSITIONS, {transition: patched}):
            yield


def rows(queryset: Any) -> list[dict[str, Any]]:
    return list(queryset.order_by("pk").values())


def snapshot(case_pk: int) -> dict[str, Any]:
    """Everything a transition may touch, re-read from the database."""
    case = Case.objects.filter(pk=case_pk).values().get()
    return {
        "case": case,
        "person": Person.objects.filter(pk=case["person_id"]).values().get(),
        "audit_chain": list(
            AuditEvent.objects.filter(case_id=case_pk)
            .order_by("seq")
            .values_list("seq", "hash", "event_type")
        ),
        # The case's guided work rolls back with the transition too.
        "tasks": rows(Task.objects.filter(process__caseprocess__case_id=case_pk)),
        "processes": rows(CaseProcess.objects.filter(case_id=case_pk)),
        "audit_total": AuditEvent.objects.count(),
        "plans": rows(IntegrationPlan.objects.filter(case_id=case_pk)),
        "goals": rows(Goal.objects.filter(plan__case_id=case_pk)),
        "measures": rows(Measure.objects.filter(goal__plan__case_id=case_pk)),
        "extension_requests": rows(ExtensionRequest.objects.filter(case_id=case_pk)),
        "referrals": rows(Referral.objects.filter(case_id=case_pk)),
        "consultations": rows(Consultation.objects.filter(case_id=case_pk)),
    }


# --- the transitions under test: each returns the case and the call -------

Fire = Callable[[], Any]


def first_consultation() -> tuple[Case, Fire]:
    case = new_case()
    give_consent(case)
    first = consult(case, now=T0)
    return case, lambda: services.case_transition(
        case=case,
        name="record_first_consultation",
        actor=case.owner,
        now=T0,
        consultation_id=first.pk,
        **ELIGIBLE,
    )


def agree_plan() -> tuple[Case, Fire]:
    case = journey_to(CaseStatus.PLANNING)
    add_complete_goal(case, T0)
    return case, lambda: services.case_transition(
        case=case, name="agree_plan", actor=case.owner, now=T0, **AGREEMENT
    )


def close() -> tuple[Case, Fire]:
    case = journey_to(CaseStatus.CLOSING)
    services.referral_record(
        case=case,
        actor=case.owner,
        now=T0,
        referred_on=T0.date(),
        target_service="mbe",
        mode="APPOINTMENT_ARRANGED",
        is_final=True,
        outcome="TAKEN_UP",
    )
    return case, lambda: services.case_transition(
        case=case, name="close", actor=case.owner, now=T0, closure_reason="goals_achieved"
    )


def extension_approve() -> tuple[Case, Fire]:
    case = journey_to(CaseStatus.ACTIVE)
    request = services.extension_request_submit(
        case=case,
        actor=case.owner,
        now=T0 + timedelta(days=30),
        reason="multiple_problems",
        months=6,
        justification="Mehrere Problemlagen.",
    )
    supervisor = supervisor_of(case.owner.team)
    return case, lambda: services.extension_request_approve(
        request=request, actor=supervisor, now=T0 + timedelta(days=31)
    )


SCENARIOS: dict[str, tuple[Callable[[], tuple[Case, Fire]], bool]] = {
    # name: (setup, whether the transition has an `after` follow-up)
    "record_first_consultation": (first_consultation, True),
    "agree_plan": (agree_plan, True),
    "close": (close, True),
    "extension_approve": (extension_approve, False),
}
POINTS = ("state_saved", "audit_written", "after")
FAULTS = [
    (name, point)
    for name, (_setup, has_after) in SCENARIOS.items()
    for point in POINTS
    if point != "after" or has_after
]


@pytest.mark.parametrize(("name", "point"), FAULTS, ids=[f"{n}-{p}" for n, p in FAULTS])
def test_a_fault_inside_a_transition_leaves_nothing_behind(name: str, point: str) -> None:
    setup, _has_after = SCENARIOS[name]
    case, fire = setup()
    before = snapshot(case.pk)

    with fault(point, name), pytest.raises(Boom):
        fire()

    assert snapshot(case.pk) == before
    assert audit_state_divergence() == NO_DIVERGENCE

    # The rollback left a usable state: the same call now succeeds, once.
    fire()
    after = snapshot(case.pk)
    assert after["case"] != before["case"]
    new_events = [row[2] for row in after["audit_chain"][len(before["audit_chain"]) :]]
    # One event for the change; the rest are the task events of the flow
    # that followed the case to its new state.
    assert len([e for e in new_events if not e.startswith("workflows.task.")]) == 1
    assert audit_state_divergence() == NO_DIVERGENCE


def test_divergence_query_sees_what_bypasses_the_service() -> None:
    case = journey_to(CaseStatus.ACTIVE)
    assert audit_state_divergence() == NO_DIVERGENCE

    # A state written behind the service's back, and an event for no case.
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.DORMANT)
    missing = Case.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    audit_event_record(
        event_type="cases.case.pause",
        actor=None,
        actor_role=SYSTEM_ROLE,
        now=T0,
        object_type="case",
        object_id=missing,
        case_id=missing,
        transition="pause",
        from_state=CaseStatus.ACTIVE,
        to_state=CaseStatus.DORMANT,
    )

    assert audit_state_divergence() == {"state_without_event": 1, "event_without_case": 1}
