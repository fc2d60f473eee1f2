"""Consultations and needs assessments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases import history
from cases.clock import (
    local_date,
)
from cases.errors import (
    InvalidArguments,
    guard,
)
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    CaseStatus,
    Catalogue,
    Consent,
    Consultation,
    HouseholdMembership,
    NeedLevel,
    consultation_link_copies,
)
from cases.person_clock import person_clock
from cases.services.args import (
    _choice_arg,
    _date_arg,
    _entry,
)
from cases.services.base import (
    CONTENT_WRITERS,
    _active_consent,
    _audit,
    _case_for_write,
    _require_open,
)


def consultation_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    held_on: date | str,
    duration_minutes: int,
    form: str,
    topics: list[str],
    setting: str = "individual",
    status: str = Consultation.Status.COMPLETED,
    participant_ids: Iterable[int] = (),
    interpreter: str = "",
    notes: str = "",
    final_referral: bool = False,
) -> Consultation:
    """Record one consultation (form, topics, duration) in seconds.

    A completed consultation, or one with notes, needs an active consent
    to process the case (or anonymous counselling): 409 `consent_missing`.
    A consultation after the end of the person's consultation period is
    refused (409 `period_ended_consultation`) unless it belongs to the
    final referral (`final_referral`).
    """
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        if locked.status in (CaseStatus.REJECTED, CaseStatus.DELETED):
            raise guard("case_not_open")
        day = _date_arg(held_on, field_name="held_on")
        if day > local_date(now):
            raise InvalidArguments(
                _("A consultation cannot lie in the future."),
                fields={"held_on": [_("Choose today or an earlier date.")]},
            )
        status_value = _choice_arg(status, Consultation.Status, field_name="status")
        if not topics:
            raise InvalidArguments(
                _("Choose at least one topic."), fields={"topics": [_("This field is required.")]}
            )
        try:
            minutes = int(duration_minutes)
        except (TypeError, ValueError):
            minutes = 0
        if not 1 <= minutes <= 720:
            raise InvalidArguments(
                _("The duration is not valid."),
                fields={"duration_minutes": [_("Between 1 and 720 minutes.")]},
            )
        topic_entries = [
            _entry(Catalogue.CONSULTATION_TOPIC, key, field_name="topics", day=day)
            for key in dict.fromkeys(topics)
        ]
        participants = _participants(locked, participant_ids)
        with_content = status_value == Consultation.Status.COMPLETED or bool(notes.strip())
        if (
            with_content
            and not locked.anonymous_mode
            and not _active_consent(locked, Consent.Scope.CASE_PROCESSING, now)
        ):
            raise guard("consent_missing")
        end = _period_end(locked, day)
        if end is not None and day > end and not final_referral:
            raise guard("period_ended_consultation")
        consultation = Consultation.objects.create(
            case=locked,
            held_on=day,
            duration_minutes=minutes,
            form=_entry(Catalogue.CONSULTATION_FORM, form, field_name="form", day=day),
            setting=_entry(Catalogue.CONSULTATION_SETTING, setting, field_name="setting", day=day),
            status=status_value,
            interpreter=interpreter[:100],
            notes=notes,
            final_referral=bool(final_referral),
            recorded_by=actor,
            recorded_at=now,
            traeger_id=locked.traeger_id,
            gemeinde_id=locked.gemeinde_id,
        )
        # The links carry the report copies (cases.models._ConsultationLink).
        copies = consultation_link_copies(consultation)
        consultation.topics.set(topic_entries, through_defaults=copies)
        consultation.participants.set(participants, through_defaults=copies)
        history.created(consultation)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.consultation.recorded",
            obj=consultation,
            reason=consultation.status,
            data={
                "form": form,
                "topics": sorted(t.key for t in topic_entries),
                **({"final_referral": True} if final_referral else {}),
            },
        )
    return consultation


def _period_end(case: Case, day: date) -> date | None:
    """The end of the consultation period that `day` must not pass: the
    case's own once its period started, else the person's (a new case of
    a person whose period is over); None while neither has started."""
    if case.effective_end is not None:
        return case.effective_end
    return person_clock(person=case.person_id, today=day).effective_end


def _participants(case: Case, participant_ids: Iterable[int]) -> list[int]:
    """Return the consultation's participants: the case's person and members
    of its household only. Any other id (another client, or none at all)
    is refused alike, so the answer tells nothing about other cases."""
    allowed = {case.person_id}
    if case.household_id is not None:
        allowed |= set(
            HouseholdMembership.objects.filter(household_id=case.household_id).values_list(
                "person_id", flat=True
            )
        )
    chosen = list(dict.fromkeys(participant_ids)) or [case.person_id]
    if not set(chosen) <= allowed:
        raise InvalidArguments(
            _("Some participants do not belong to this case."),
            fields={"participants": [_("Only the person and their household members.")]},
        )
    return chosen


def assessment_record(
    *,
    case: Case | int,
    actor: User,
    now: datetime,
    assessed_on: date | str,
    items: list[dict[str, Any]],
    interpreter_language: str = "",
) -> Assessment:
    """Record a needs assessment: one need level per field of action."""
    with transaction.atomic():
        locked = _case_for_write(case=case, actor=actor, now=now, who=CONTENT_WRITERS)
        _require_open(locked)
        day = _date_arg(assessed_on, field_name="assessed_on")
        if not items:
            raise InvalidArguments(
                _("Rate at least one field of action."),
                fields={"items": [_("This field is required.")]},
            )
        assessment = Assessment.objects.create(
            case=locked,
            assessed_on=day,
            interpreter_language=interpreter_language[:50],
            created_by=actor,
        )
        history.created(assessment)
        seen: set[int] = set()
        for item in items:
            entry = _entry(
                Catalogue.FIELD_OF_ACTION, item.get("field_of_action"), field_name="items", day=day
            )
            if entry.pk in seen:
                raise InvalidArguments(
                    _("A field of action is rated twice."),
                    fields={"items": [_("Each field of action once.")]},
                )
            seen.add(entry.pk)
            item_row = AssessmentItem.objects.create(
                assessment=assessment,
                field_of_action=entry,
                need_level=_choice_arg(item.get("need_level"), NeedLevel, field_name="items"),
                situation=str(item.get("situation") or ""),
                resources=str(item.get("resources") or ""),
                client_wishes=str(item.get("client_wishes") or ""),
            )
            history.created(item_row)
        _audit(
            case=locked,
            actor=actor,
            now=now,
            event_type="cases.assessment.recorded",
            obj=assessment,
            data={"fields": len(seen)},
        )
    return assessment
