"""The case's appointments as entries of the case chronology (see
`cases.document_chronology`): registered as the kind `appointment` when
the registry `cases.chronology` is there, from `AppointmentsConfig.ready`."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment
from cases.models import Case


def appointment_entries(*, case: Case) -> list[tuple[date, datetime, Appointment]]:
    """(day, moment, appointment) for each of the case's appointments (one query)."""
    rows = (
        Appointment.objects.filter(case_id=case.pk)
        .select_related("form", "topic", "manager")
        .order_by("pk")
    )
    return [(timezone.localdate(row.starts_at), row.starts_at, row) for row in rows]


def register_chronology() -> bool:
    """Register the appointments as the chronology's kind `appointment`
    (False when there is no chronology registry)."""
    try:
        chronology = importlib.import_module("cases.chronology")
    except ImportError:
        return False

    def source(case: Case) -> Iterator[object]:
        for day, moment, row in appointment_entries(case=case):
            yield chronology.Entry(
                kind="appointment",
                day=day,
                moment=moment,
                obj=row,
                cancelled=row.status == Appointment.Status.CANCELLED,
            )

    chronology.register(
        "appointment",
        _("Appointments"),
        source,
        template="appointments/chronology/appointment.html",
        order=60,
    )
    return True
