"""The manager's appointments as an iCalendar feed (RFC 5545, icalendar).

An event names the case by its number only: the feed may sit in a phone's
calendar app or a cloud account, so it carries no client name, no place,
no topic and no note.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from appointments.models import Appointment

PRODUCT = "-//Lotse//Termine//DE"


def calendar_bytes(appointments: Iterable[Appointment], *, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Lotse appointments"))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for row in appointments:
        event = Event()
        event.add("uid", f"termin-{row.pk}@lotse")
        event.add("dtstamp", now)
        event.add("dtstart", row.starts_at)
        event.add("dtend", row.starts_at + timedelta(minutes=row.duration_minutes))
        event.add("summary", _("Consultation (case %(case)s)") % {"case": row.case_id})
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("class", "PRIVATE")
        calendar.add_component(event)
    return calendar.to_ical()
