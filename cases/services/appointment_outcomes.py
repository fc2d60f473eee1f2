"""The consultation an appointment ends in (the appointments app plans
them; what happened is case data and is written here).

A held appointment is a completed consultation, a missed one a consultation
with status `NO_SHOW` (counted as K2x, never as K2). The no-show sweep acts
as the system (`actor=None`); the consultation is then recorded in the name
of the manager whose appointment it was.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.errors import GuardFailed
from cases.models import Case, CaseStatus, Catalogue, Consultation, consultation_link_copies
from cases.selectors import SYSTEM
from cases.services.args import _choice_arg, _entry
from cases.services.base import CONTENT_WRITERS, _audit, _case_for_write

OUTCOMES = (Consultation.Status.COMPLETED, Consultation.Status.NO_SHOW)


def consultation_of_appointment_record(
    *,
    case: Case | int,
    actor: User | None,
    recorded_by: User,
    now: datetime,
    held_on: date,
    duration_minutes: int,
    form: str,
    topic: str,
    status: str,
    appointment_id: int,
    interpreter: str = "",
    notes: str = "",
) -> Consultation:
    """Record the consultation a planned appointment ended in (held or
    missed), for the client alone. Call inside the appointment's own
    transaction: its audit event names the appointment."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=(*CONTENT_WRITERS, SYSTEM))
        if locked.status in (CaseStatus.REJECTED, CaseStatus.DELETED, CaseStatus.CLOSED):
            raise GuardFailed(_("The case is not open."), code="case_not_open")
        status = _choice_arg(
            status, Consultation.Status, field_name="status", exclude=["CANCELLED"]
        )
        topic_entry = _entry(Catalogue.CONSULTATION_TOPIC, topic, field_name="topic", day=held_on)
        consultation = Consultation.objects.create(
            case=locked,
            held_on=held_on,
            duration_minutes=duration_minutes,
            form=_entry(Catalogue.CONSULTATION_FORM, form, field_name="form", day=held_on),
            setting=_entry(
                Catalogue.CONSULTATION_SETTING, "individual", field_name="setting", day=held_on
            ),
            status=status,
            interpreter=interpreter[:100],
            notes=notes,
            recorded_by=recorded_by,
            recorded_at=now,
            traeger_id=locked.traeger_id,
            gemeinde_id=locked.gemeinde_id,
        )
        copies = consultation_link_copies(consultation)
        consultation.topics.set([topic_entry], through_defaults=copies)
        consultation.participants.set([locked.person_id], through_defaults=copies)
        history.created(consultation)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consultation.recorded",
            obj=consultation,
            reason=consultation.status,
            data={"form": form, "topics": [topic], "appointment_id": appointment_id},
        )
    return consultation
