"""What a case change sets off: typed changes, handlers in one declared order."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from audit.models import AuditEvent
from cases import effects, services
from cases.effects import CaseChange, ChangeKind
from cases.models import Case, CaseStatus
from tests.cases.factories import T0, journey_to, manager_in, new_case, supervisor_of

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SEEN: list[tuple[str, CaseChange, bool]] = []


def first(change: CaseChange) -> None:
    SEEN.append(("first", change, connection.in_atomic_block))


def second(change: CaseChange) -> None:
    SEEN.append(("second", change, connection.in_atomic_block))


def test_the_handlers_and_their_order_are_pinned() -> None:
    # Notifications are written first, then the guided work follows the case,
    # then an ending case cancels its planned appointments.
    assert settings.LOTSE_CASE_CHANGE_HANDLERS == [
        "notifications.services.case_changes.notifications_for_case_change",
        "workflows.services.case_flow_sync",
        "appointments.services.appointments_for_case_change",
    ]
    assert [f"{h.__module__}.{h.__qualname__}" for h in effects.handlers()] == (
        settings.LOTSE_CASE_CHANGE_HANDLERS
    )


def test_a_change_is_frozen_and_typed() -> None:
    change = CaseChange(case=None, kind=ChangeKind.TRANSITION, actor=None, now=T0, transition="x")  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.kind = ChangeKind.OWNER  # type: ignore[misc]


def test_handlers_run_in_the_declared_order_inside_the_transaction(settings: Any) -> None:
    settings.LOTSE_CASE_CHANGE_HANDLERS = [f"{__name__}.second", f"{__name__}.first"]
    case = new_case()
    lead = supervisor_of_owner(case)
    SEEN.clear()

    services.case_transition(
        case=case.pk, name="reject_ineligible", actor=lead, now=T0, reason="NOT_TARGET_GROUP"
    )

    assert [(name, change.kind, change.transition) for name, change, _ in SEEN] == [
        ("second", ChangeKind.TRANSITION, "reject_ineligible"),
        ("first", ChangeKind.TRANSITION, "reject_ineligible"),
    ]
    change = SEEN[0][1]
    assert (change.case.pk, change.case.status, change.actor, change.now) == (
        case.pk,
        CaseStatus.REJECTED,
        lead,
        T0,
    )


class Refused(Exception):
    pass


def refusing(change: CaseChange) -> None:
    raise Refused


def test_a_failing_handler_rolls_the_change_back(settings: Any) -> None:
    """The handlers run inside the change's transaction: the change commits
    with what they write, or not at all."""
    case = new_case()
    lead = supervisor_of_owner(case)
    events = AuditEvent.objects.count()
    settings.LOTSE_CASE_CHANGE_HANDLERS = [f"{__name__}.first", f"{__name__}.refusing"]
    SEEN.clear()

    with pytest.raises(Refused):
        services.case_transition(
            case=case.pk, name="reject_ineligible", actor=lead, now=T0, reason="NOT_TARGET_GROUP"
        )

    assert [name for name, _, _ in SEEN] == ["first"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED
    assert AuditEvent.objects.count() == events


def test_every_kind_of_change_is_dispatched(settings: Any) -> None:
    settings.LOTSE_CASE_CHANGE_HANDLERS = [f"{__name__}.first"]
    SEEN.clear()
    case = journey_to(CaseStatus.ACTIVE)
    other = manager_in(case.owner.team)
    lead = supervisor_of_owner(case)
    services.case_owner_change(case=case.pk, actor=lead, now=T0, owner=other)
    kinds = [change.kind for _, change, _ in SEEN]
    assert ChangeKind.CREATED in kinds
    assert ChangeKind.TRANSITION in kinds
    assert kinds[-1] is ChangeKind.OWNER


def test_no_django_signal_carries_case_changes_any_more() -> None:
    """The handlers are declared in settings only: nothing connects a
    receiver to a case change, so import order cannot reorder them."""
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"]
    for path in (path for package in packages for path in package.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "cases.signals":
                raise AssertionError(f"{path}: imports cases.signals")


def supervisor_of_owner(case: Any) -> Any:
    return supervisor_of(case.owner.team)
