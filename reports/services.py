"""Writes of the reports app: freezing the Kennzahlen of a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from audit.services import SYSTEM_ROLE, audit_event_record
from config.errors import Conflict, Forbidden, InvalidInput
from reports.models import ReportSnapshot
from reports.selectors import Period, Unit, kennzahlen_compute, report_unit_get

FREEZERS = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR)


class PeriodNotOver(InvalidInput):
    default_code = "period_not_over"


class AlreadyFrozen(Conflict):
    default_code = "already_frozen"


def report_snapshot_freeze(
    *, units: list[tuple[str, int]], period: Period, actor: Any | None, now: datetime
) -> list[ReportSnapshot]:
    """Freeze the figures of `units` for an ended `period`.

    With an actor (a supervisor, auditor or administrator), each unit must
    be one the actor may see (404 otherwise); without one (the system,
    e.g. the yearly command) any unit. Units already frozen for this
    period are refused (409): a frozen period never changes. One audit
    event per snapshot, in the same transaction.
    """
    if period.end >= timezone.localdate(now):
        raise PeriodNotOver(
            _("Only a period that has ended can be frozen."),
            fields={"to": [_("Choose a period that ended before today.")]},
        )
    if actor is not None and actor.role not in FREEZERS:
        raise Forbidden(_("Your role may not freeze Kennzahlen."))
    resolved: list[Unit] = []
    for kind, pk in units:
        if actor is not None:
            resolved.append(report_unit_get(user=actor, kind=kind, pk=pk))
        else:
            resolved.append(_unit_for_system(kind, pk))
    snapshots = []
    try:
        with transaction.atomic():
            for unit in resolved:
                figures = kennzahlen_compute(unit=unit, period=period)
                snapshot = ReportSnapshot.objects.create(
                    unit_kind=unit.kind,
                    unit_id=unit.pk,
                    unit_label=unit.label[:200],
                    period_from=period.start,
                    period_to=period.end,
                    figures=figures,
                    frozen_at=now,
                    frozen_by=actor,
                )
                audit_event_record(
                    event_type="reports.snapshot.frozen",
                    actor=actor,
                    actor_role=actor.role if actor is not None else SYSTEM_ROLE,
                    now=now,
                    object_type="reportsnapshot",
                    object_id=snapshot.pk,
                    reason=unit.kind,
                    data={"from": period.start.isoformat(), "to": period.end.isoformat()},
                )
                snapshots.append(snapshot)
    except IntegrityError:
        raise AlreadyFrozen(_("The figures of this period are already frozen.")) from None
    return snapshots


def _unit_for_system(kind: str, pk: int) -> Unit:
    from accounts.models import User
    from reports.models import UnitKind
    from reports.selectors import _label, _unit_model

    if kind == UnitKind.LAND:
        return Unit(UnitKind.LAND, 0, str(_("Land (all Kreise)")))
    model = _unit_model(kind)
    obj = model.objects.filter(pk=pk).first()
    if obj is None or (model is User and obj.role != Role.INTEGRATION_MANAGER):
        raise InvalidInput(_("This organisation unit does not exist."), code="unit_not_found")
    return Unit(kind, obj.pk, _label(kind, obj))
