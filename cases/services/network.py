"""Network contacts of an integration manager (about no client)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases.clock import (
    local_date,
)
from cases.errors import (
    MESSAGES,
    InvalidArguments,
    TransitionForbidden,
)
from cases.models import (
    Catalogue,
    NetworkContact,
)
from cases.services.args import (
    _choice_arg,
    _date_arg,
    _entry,
    _text_arg,
)
from cases.services.base import _audit_record


def network_contact_record(
    *,
    actor: User,
    now: datetime,
    contact_date: date | str,
    category: str,
    organisation: str,
    format: str,
    topic: str = "",
    duration_minutes: int | None = None,
) -> NetworkContact:
    """Record a Netzwerkkontakt of an integration manager (no client data)."""
    if actor.role != Role.INTEGRATION_MANAGER:
        raise TransitionForbidden(MESSAGES["forbidden"])
    day = _date_arg(contact_date, field_name="contact_date")
    if day > local_date(now):
        raise InvalidArguments(
            _("A network contact cannot lie in the future."),
            fields={"contact_date": [_("Choose today or an earlier date.")]},
        )
    if duration_minutes is not None and not 1 <= int(duration_minutes) <= 720:
        raise InvalidArguments(
            _("The duration is not valid."),
            fields={"duration_minutes": [_("Between 1 and 720 minutes.")]},
        )
    with transaction.atomic():
        contact = NetworkContact.objects.create(
            manager=actor,
            contact_date=day,
            category=_entry(
                Catalogue.NETWORK_CONTACT_CATEGORY, category, field_name="category", day=day
            ),
            organisation=_text_arg(organisation, field_name="organisation", max_length=200),
            format=_choice_arg(format, NetworkContact.Format, field_name="format"),
            topic=str(topic or "")[:200],
            duration_minutes=duration_minutes,
        )
        _audit_record(
            event_type="cases.network_contact.recorded",
            actor=actor,
            actor_role=actor.role,
            now=now,
            object_type="networkcontact",
            object_id=contact.pk,
            reason=category,
        )
    return contact
