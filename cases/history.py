"""What the audit trail records of case data, field by field.

Every case service appends exactly one audit event; this module puts into
that event what the service changed: for each row the model, the id and,
per field, the old and new value (`{"old": .., "new": ..}`) or, for
client content, only that it changed and a keyed digest of the new value
(`{"changed": true, "digest": ..}`, see `audit.services.field_digest`).
`CASE_DATA_FIELDS` decides per field which of the two; a test fails when
a concrete field of a case-data model is not classified, so a new field
cannot slip into the trail unclassified.

Services call `created`, `updated` or `update_rows` next to their writes;
`_audit` in `cases.services.base` takes the collected changes with `drain`.
`audit.selectors.chain_replay` rebuilds the rows from the events and
`case_data_current` reads the same shape from the database, so a test can
show that the trail reproduces the case.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.db import models

from audit.services import DIGEST, VALUE, field_change, field_digest, plain
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    CatalogueEntry,
    Consent,
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
    Correction,
    CvEntry,
    Document,
    ExtensionRequest,
    Goal,
    GoalCatalogueEntry,
    Household,
    HouseholdMembership,
    IntegrationPlan,
    Measure,
    NetworkContact,
    Person,
    PersonClockFact,
    PlanReview,
    Referral,
)

# VALUE: codes, ids, dates, numbers, flags: old and new value recorded.
# DIGEST: names, free text and anything that identifies the client or is
# special-category content (Art. 9: health, ethnic origin via nationality
# or language): recorded as "changed" with a keyed digest only.
CASE_DATA_FIELDS: dict[type[models.Model], dict[str, str]] = {
    Person: {
        "traeger_id": VALUE,
        "family_name": DIGEST,
        "given_names": DIGEST,
        "date_of_birth": DIGEST,
        "date_of_birth_approximate": VALUE,
        "sex": VALUE,
        "nationality": DIGEST,
        "languages": DIGEST,
        "literacy": VALUE,
        "phone": DIGEST,
        "address": DIGEST,
        "gemeinde_id": VALUE,
        "residence_status_id": VALUE,
        "benefit_status_id": VALUE,
        "accommodation_stage_id": VALUE,
        "au_allocation_date": VALUE,
        "ukraine_displaced": VALUE,
        "obliged_to_leave": VALUE,
        "prior_consultation_start": VALUE,
        "anonymised_at": VALUE,
        "created_at": VALUE,
        "version": VALUE,
    },
    Household: {
        "traeger_id": VALUE,
        "address": DIGEST,
        "gemeinde_id": VALUE,
        "members": VALUE,
        "version": VALUE,
    },
    HouseholdMembership: {"household_id": VALUE, "person_id": VALUE, "relation": VALUE},
    Case: {
        "person_id": VALUE,
        "programme": VALUE,
        "status": VALUE,
        "traeger_id": VALUE,
        "gemeinde_id": VALUE,
        "owner_id": VALUE,
        "intake_channel": VALUE,
        "household_id": VALUE,
        "registered_at": VALUE,
        "handover_accepted_at": VALUE,
        "anonymous_mode": VALUE,
        "legal_hold": VALUE,
        "eligibility_basis": VALUE,
        "eligibility_checked_at": VALUE,
        "rejection_reason": VALUE,
        "consultation_start": VALUE,
        "regular_end": VALUE,
        "effective_end": VALUE,
        "next_review_at": VALUE,
        "plan_declined": VALUE,
        "plan_declined_reason": DIGEST,
        "paused_at": VALUE,
        "closing_ground": VALUE,
        "closure_reason_id": VALUE,
        "no_further_need": VALUE,
        "closed_at": VALUE,
        "deleted_at": VALUE,
    },
    Consent: {
        "person_id": VALUE,
        "case_id": VALUE,
        "scope": VALUE,
        "legal_basis": VALUE,
        "given_by": VALUE,
        "guardian_name": DIGEST,
        "recipient": DIGEST,
        "purpose_version": VALUE,
        "form": VALUE,
        "language": DIGEST,
        "interpreter": DIGEST,
        "interpreter_language": DIGEST,
        "given_at": VALUE,
        "valid_until": VALUE,
        "withdrawn_at": VALUE,
        "withdrawal_channel": VALUE,
        "evidence_id": VALUE,
        "recorded_by_id": VALUE,
    },
    Assessment: {
        "case_id": VALUE,
        "assessed_on": VALUE,
        "interpreter_language": DIGEST,
        "created_by_id": VALUE,
        "plan_review_id": VALUE,
        "cancelled_at": VALUE,
    },
    AssessmentItem: {
        "assessment_id": VALUE,
        "field_of_action_id": VALUE,
        "need_level": VALUE,
        "situation": DIGEST,
        "resources": DIGEST,
        "client_wishes": DIGEST,
        "priority": VALUE,
    },
    IntegrationPlan: {
        "case_id": VALUE,
        "version": VALUE,
        "status": VALUE,
        "created_at": VALUE,
        "agreed_at": VALUE,
        "agreement_form": VALUE,
        "agreement_language": DIGEST,
        "interpreter": DIGEST,
        "copy_handed_over": VALUE,
        "next_review_at": VALUE,
        "situation_summary": DIGEST,
    },
    PlanReview: {
        "plan_id": VALUE,
        "reviewed_on": VALUE,
        "participants": DIGEST,
        "notes": DIGEST,
        "reviewed_by_id": VALUE,
    },
    Goal: {
        "plan_id": VALUE,
        "origin_id": VALUE,
        "field_of_action_id": VALUE,
        "catalogue_goal_id": VALUE,
        "title": DIGEST,
        "success_criterion": DIGEST,
        "target_date": VALUE,
        "priority": VALUE,
        "status": VALUE,
        "agreed_at": VALUE,
        "closed_at": VALUE,
        "outcome_note": DIGEST,
        "cancelled_at": VALUE,
    },
    Measure: {
        "goal_id": VALUE,
        "description": DIGEST,
        "responsible": VALUE,
        "referral_id": VALUE,
        "due_date": VALUE,
        "done_at": VALUE,
        "cancelled_at": VALUE,
    },
    Consultation: {
        "case_id": VALUE,
        "held_on": VALUE,
        "duration_minutes": VALUE,
        "form_id": VALUE,
        "setting_id": VALUE,
        "status": VALUE,
        "interpreter": DIGEST,
        "notes": DIGEST,
        "final_referral": VALUE,
        "recorded_by_id": VALUE,
        "recorded_at": VALUE,
        "traeger_id": VALUE,
        "gemeinde_id": VALUE,
        "topics": VALUE,
        "participants": VALUE,
    },
    Referral: {
        "case_id": VALUE,
        "referred_on": VALUE,
        "target_service_id": VALUE,
        "topic_id": VALUE,
        "organisation": DIGEST,
        "mode": VALUE,
        "is_final": VALUE,
        "outcome": VALUE,
        "outcome_date": VALUE,
        "recorded_by_id": VALUE,
        "cancelled_at": VALUE,
    },
    ExtensionRequest: {
        "case_id": VALUE,
        "reason_id": VALUE,
        "justification": DIGEST,
        "months": VALUE,
        "status": VALUE,
        "requested_by_id": VALUE,
        "created_at": VALUE,
        "submitted_at": VALUE,
        "decided_by_id": VALUE,
        "decided_at": VALUE,
        "decision_note": DIGEST,
        "resulting_effective_end": VALUE,
    },
    Document: {
        "case_id": VALUE,
        "kind": VALUE,
        "sensitivity": VALUE,
        "file": DIGEST,
        "sha256": DIGEST,
        "language": DIGEST,
        "uploaded_by_id": VALUE,
        "uploaded_at": VALUE,
        "title": DIGEST,
        "original_name": DIGEST,
        "content_type": VALUE,
        "size": VALUE,
        "retain_until": VALUE,
    },
    CvEntry: {
        "case_id": VALUE,
        "kind": VALUE,
        "title": DIGEST,
        "organisation": DIGEST,
        "place": DIGEST,
        "started_on": DIGEST,
        "ended_on": DIGEST,
        "level": VALUE,
        "recognised": VALUE,
        "note": DIGEST,
        "recorded_by_id": VALUE,
        "recorded_at": VALUE,
        "removed_at": VALUE,
    },
    Correction: {
        "case_id": VALUE,
        "object_type": VALUE,
        "object_id": VALUE,
        "action": VALUE,
        "reason": DIGEST,
        "before": DIGEST,
        "after": DIGEST,
        "corrected_by_id": VALUE,
        "corrected_at": VALUE,
    },
}

# Models of the cases app that hold no client data of a case.
NOT_CASE_DATA: dict[type[models.Model], str] = {
    CatalogueEntry: "configuration, changed by administrators, not per case",
    GoalCatalogueEntry: "configuration (the goal catalogue), changed by administrators",
    NetworkContact: "about no client; audited in the global chain",
    ConsultationTopic: "recorded as the consultation's `topics`; the rest are report copies",
    ConsultationParticipant: "recorded as the consultation's `participants`; the rest are copies",
    PersonClockFact: (
        "about the person across cases; its values (evidence as a digest) are in the data of "
        "its event `cases.person.clock_fact_recorded`"
    ),
}

_pending: ContextVar[list[dict[str, Any]] | None] = ContextVar("lotse_case_changes", default=None)


def begin() -> None:
    """Start collecting the changes of one service call (drops leftovers
    of a call that failed before its audit event)."""
    _pending.set([])


def drain() -> list[dict[str, Any]]:
    """Return the changes collected since `begin` and forget them."""
    changes = _pending.get() or []
    _pending.set([])
    return changes


def _record(change: dict[str, Any]) -> None:
    pending = _pending.get()
    if pending is None:
        pending = []
        _pending.set(pending)
    pending.append(change)


def _value(obj: models.Model, name: str) -> Any:
    if obj._meta.get_field(name).many_to_many:
        return sorted(getattr(obj, name).values_list("pk", flat=True))
    return getattr(obj, name)


def values_of(obj: models.Model) -> dict[str, Any]:
    """Return the classified fields of `obj` as they are now (plain)."""
    return {name: plain(_value(obj, name)) for name in CASE_DATA_FIELDS[type(obj)]}


def _row_change(
    model: type[models.Model], pk: Any, op: str, deltas: dict[str, tuple[Any, Any]]
) -> dict[str, Any]:
    label = model._meta.label_lower
    classes = CASE_DATA_FIELDS[model]
    return {
        "model": label,
        "id": pk,
        "op": op,
        "fields": {
            name: field_change(
                label=label, pk=pk, name=name, kind=classes[name], old=old, new=new, op=op
            )
            for name, (old, new) in deltas.items()
        },
    }


def created(obj: models.Model, *, op: str = "create") -> None:
    """Record a new row with all its classified fields ("snapshot": a row
    that existed before this case, such as the person, as it is now)."""
    now_values = values_of(obj)
    _record(_row_change(type(obj), obj.pk, op, {k: (None, v) for k, v in now_values.items()}))


def deleted(obj: models.Model) -> None:
    """Record a row removed (a member leaving a household): its classified
    fields as they were; a replay drops the row."""
    old_values = values_of(obj)
    _record(_row_change(type(obj), obj.pk, "delete", {k: (v, None) for k, v in old_values.items()}))


def updated(obj: models.Model, before: dict[str, Any]) -> None:
    """Record the fields of `obj` that differ from `before` (`values_of`
    taken before the change, or any dict with attnames and old values)."""
    classes = CASE_DATA_FIELDS[type(obj)]
    deltas = {}
    for name in classes:
        if name not in before:
            continue
        old, new = plain(before[name]), plain(_value(obj, name))
        if old != new:
            deltas[name] = (old, new)
    if deltas:
        _record(_row_change(type(obj), obj.pk, "update", deltas))


def update_rows(queryset: models.QuerySet[Any], **values: Any) -> int:
    """Run `queryset.update(**values)` and record each row's changes."""
    model = queryset.model
    attnames = {name: model._meta.get_field(name).attname for name in values}
    new_values = {
        attnames[name]: plain(value.pk if isinstance(value, models.Model) else value)
        for name, value in values.items()
    }
    rows = list(queryset.order_by("pk").values("pk", *attnames.values()))
    if not rows:
        return 0
    count = model._base_manager.filter(pk__in=[row["pk"] for row in rows]).update(**values)
    for row in rows:
        deltas = {
            attname: (plain(row[attname]), new)
            for attname, new in new_values.items()
            if plain(row[attname]) != new
        }
        if deltas:
            _record(_row_change(model, row["pk"], "update", deltas))
    return count


# --- the case's data as it is now, in the shape of a replay ------------------


def _rows(queryset: models.QuerySet[Any]) -> dict[Any, dict[str, Any]]:
    model = queryset.model
    label = model._meta.label_lower
    classes = CASE_DATA_FIELDS[model]
    m2m = [name for name in classes if model._meta.get_field(name).many_to_many]
    plain_fields = [name for name in classes if name not in m2m]
    prefetched = queryset.prefetch_related(*m2m) if m2m else queryset
    result: dict[Any, dict[str, Any]] = {}
    for obj in prefetched.order_by("pk"):
        row = {}
        for name in plain_fields:
            row[name] = _current(label, obj.pk, name, classes[name], getattr(obj, name))
        for name in m2m:
            ids = sorted(item.pk for item in getattr(obj, name).all())
            row[name] = _current(label, obj.pk, name, classes[name], ids)
        result[str(obj.pk)] = row
    return result


def _current(label: str, pk: Any, name: str, kind: str, value: Any) -> Any:
    if kind == DIGEST:
        return {"digest": field_digest(label=label, pk=pk, name=name, value=value)}
    return plain(value)


def case_data_current(*, case_id: int) -> dict[str, dict[Any, dict[str, Any]]]:
    """Return the case's rows from the database as `chain_replay` builds
    them: {model label: {id: {field: value or {"digest": ..}}}}."""
    case = Case.objects.get(pk=case_id)
    scopes = [
        Case.objects.filter(pk=case_id),
        Person.objects.filter(pk=case.person_id),
        Household.objects.filter(pk=case.household_id),
        HouseholdMembership.objects.filter(household_id=case.household_id),
        Consent.objects.filter(case_id=case_id),
        Assessment.objects.filter(case_id=case_id),
        AssessmentItem.objects.filter(assessment__case_id=case_id),
        IntegrationPlan.objects.filter(case_id=case_id),
        PlanReview.objects.filter(plan__case_id=case_id),
        Goal.objects.filter(plan__case_id=case_id),
        Measure.objects.filter(goal__plan__case_id=case_id),
        Consultation.objects.filter(case_id=case_id),
        Referral.objects.filter(case_id=case_id),
        ExtensionRequest.objects.filter(case_id=case_id),
        Document.objects.filter(case_id=case_id),
        Correction.objects.filter(case_id=case_id),
        CvEntry.objects.filter(case_id=case_id),
    ]
    result = {}
    for queryset in scopes:
        rows = _rows(queryset)
        if rows:
            result[queryset.model._meta.label_lower] = rows
    return result
