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
`_audit` in `cases.services` takes the collected changes with `drain`.
`audit.selectors.chain_replay` rebuilds the rows from the events and
`case_data_current` reads the same shape from the database, so a test can
show that the trail reproduces the case.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import DeputyGrant
from audit.services import DIGEST, VALUE, field_change, field_digest, plain
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    CaseStatus,
    CatalogueEntry,
    Consent,
    Consultation,
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    Household,
    HouseholdMembership,
    IntegrationPlan,
    Measure,
    NetworkContact,
    Person,
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
    },
    Household: {"traeger_id": VALUE, "address": DIGEST, "gemeinde_id": VALUE, "members": VALUE},
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
        "recipient": DIGEST,
        "form": VALUE,
        "language": DIGEST,
        "interpreter": DIGEST,
        "given_at": VALUE,
        "valid_until": VALUE,
        "withdrawn_at": VALUE,
        "recorded_by_id": VALUE,
    },
    Assessment: {
        "case_id": VALUE,
        "assessed_on": VALUE,
        "interpreter_language": DIGEST,
        "created_by_id": VALUE,
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
        "title": DIGEST,
        "success_criterion": DIGEST,
        "target_date": VALUE,
        "priority": VALUE,
        "status": VALUE,
        "agreed_at": VALUE,
        "closed_at": VALUE,
        "outcome_note": DIGEST,
    },
    Measure: {
        "goal_id": VALUE,
        "description": DIGEST,
        "responsible": VALUE,
        "referral_id": VALUE,
        "due_date": VALUE,
        "done_at": VALUE,
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
        "recorded_by_id": VALUE,
        "recorded_at": VALUE,
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
    },
    DeputyGrant: {
        "principal_id": VALUE,
        "deputy_id": VALUE,
        "valid_from": VALUE,
        "valid_until": VALUE,
        "reason": DIGEST,
        "granted_by_id": VALUE,
        "revoked_at": VALUE,
    },
}

# Models of the cases app that hold no client data of a case.
NOT_CASE_DATA: dict[type[models.Model], str] = {
    CatalogueEntry: "configuration, changed by administrators, not per case",
    NetworkContact: "about no client; audited in the global chain",
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
    ]
    result = {}
    for queryset in scopes:
        rows = _rows(queryset)
        if rows:
            result[queryset.model._meta.label_lower] = rows
    return result


# --- plain-language lines for the auditor's timeline ---------------------------

STEPS = {
    "create": _("registration"),
    "record_first_consultation": _("first consultation"),
    "reject_ineligible": _("not admitted"),
    "no_show_timeout": _("no first consultation in time"),
    "draft_plan": _("plan drafted"),
    "agree_plan": _("plan agreed"),
    "decline_plan": _("plan declined"),
    "review_plan": _("plan reviewed"),
    "pause": _("paused"),
    "resume": _("resumed"),
    "start_closing": _("closing started"),
    "period_expired": _("consultation period expired"),
    "no_contact_timeout": _("no contact"),
    "close": _("closed"),
    "withdraw_consent": _("consent withdrawn"),
    "reopen": _("reopened"),
    "retention_elapsed": _("retention period elapsed (anonymised)"),
    "submit": _("extension requested"),
    "approve": _("extension approved"),
    "reject": _("extension rejected"),
    "withdraw": _("extension request withdrawn"),
}

EVENT_TEXTS = {
    "cases.case.handover_accepted": _("Accepted the handover."),
    "cases.case.review_date_changed": _("Moved the next plan review."),
    "cases.consent.recorded": _("Recorded a consent (%(reason)s)."),
    "cases.consent.withdrawn": _("Recorded the withdrawal of a consent (%(reason)s)."),
    "cases.consultation.recorded": _("Recorded a consultation (%(reason)s)."),
    "cases.assessment.recorded": _("Recorded a needs assessment."),
    "cases.goal.added": _("Added a goal to the Integrationsplan."),
    "cases.goal.updated": _("Changed a goal (status %(reason)s)."),
    "cases.measure.added": _("Added a step to a goal."),
    "cases.referral.recorded": _("Recorded a referral (%(reason)s)."),
    "cases.referral.updated": _("Recorded the outcome of a referral (%(reason)s)."),
    "workflows.task.assigned": _("Task “%(reason)s” assigned."),
    "workflows.task.completed": _("Task “%(reason)s” completed."),
    "workflows.task.cancelled": _("Task “%(reason)s” cancelled."),
}

_STATE_LABELS = {**dict(CaseStatus.choices), **dict(ExtensionStatus.choices)}
MAX_FIELDS_PER_LINE = 8


def _state(code: str) -> str:
    return str(_STATE_LABELS.get(code, code or "–"))


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-":
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return str(value)


_MODELS_BY_LABEL = {model._meta.label_lower: model for model in CASE_DATA_FIELDS}


def _field_label(label: str, name: str) -> str:
    model = _MODELS_BY_LABEL.get(label)
    if model is None:
        return name
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a field removed since the event
        return name


def changes_text(changes: list[dict[str, Any]]) -> str:
    """Return the recorded changes as short German text."""
    parts = []
    for change in changes:
        model = _MODELS_BY_LABEL.get(change["model"])
        what = str(model._meta.verbose_name) if model else change["model"]
        fields = []
        for name, delta in list(change["fields"].items())[:MAX_FIELDS_PER_LINE]:
            label = _field_label(change["model"], name)
            if "digest" in delta:
                fields.append(f"{label}: {_('changed (content not logged)')}")
            elif "old" in delta:
                fields.append(f"{label}: {_shown(delta['old'])} → {_shown(delta['new'])}")
            else:
                fields.append(f"{label}: {_shown(delta['new'])}")
        more = len(change["fields"]) - MAX_FIELDS_PER_LINE
        if more > 0:
            fields.append(_("%(n)d more") % {"n": more})
        verb = {"create": _("new"), "snapshot": _("as at registration")}.get(change["op"], "")
        head = f"{what} {change['id']}" + (f" ({verb})" if verb else "")
        parts.append(f"{head}: {', '.join(fields)}")
    return "; ".join(parts)


def event_line(event: Any) -> str:
    """Return one plain-language German line for an audit event."""
    reason = event.reason or "–"
    if event.event_type == "cases.case.created":
        text = _("Registered the case (intake: %(reason)s).") % {"reason": reason}
    elif event.transition:
        text = _("Step “%(step)s”: status %(from)s → %(to)s.") % {
            "step": STEPS.get(event.transition, event.transition),
            "from": _state(event.from_state),
            "to": _state(event.to_state),
        }
        if event.reason:
            text += " " + _("Reason: %(reason)s.") % {"reason": event.reason}
    elif event.event_type in EVENT_TEXTS:
        text = EVENT_TEXTS[event.event_type] % {"reason": reason}
    else:
        text = _("Event %(type)s.") % {"type": event.event_type}
    changes = (event.data or {}).get("changes") or []
    if changes:
        text += " " + changes_text(changes)
    return str(text)


def read_line(read: Any) -> str:
    """Return one plain-language German line for a read access."""
    return str(_("Viewed the case data (view %(view)s).") % {"view": read.view})
