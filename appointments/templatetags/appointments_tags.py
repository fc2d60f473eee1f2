"""The case page's appointments section (the case page is in `cases`,
which imports nothing of this app: the template asks here)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from appointments.models import Appointment
from appointments.selectors import appointments_of_case

register = template.Library()


@register.inclusion_tag("appointments/_on_case.html")
def case_appointments(case: Any) -> dict[str, Any]:
    """The case's next appointments (one query; the page logged the read)."""
    now = timezone.now()
    rows = [
        row for row in appointments_of_case(case=case) if row.status == Appointment.Status.PLANNED
    ]
    rows.reverse()
    return {"case": case, "upcoming": rows[:5], "now": now}
