"""Plain-language German lines for audit events and read accesses.

Part of the auditor's interface (like `audit.views`), so it may read the
case domain's labels; the audit models and services know no domain.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.history import CASE_DATA_FIELDS
from cases.models import CaseStatus, ExtensionStatus

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
    "cases.case.owner_changed": _("Handed the case to another integration manager."),
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


def _choice_labels() -> dict[str, Any]:
    """The labels of every code of the case domain's choices (consent
    scopes, consultation results, closing grounds, ...), so that a line shows
    "Verarbeitung der Falldaten" instead of CASE_PROCESSING."""
    from django.db import models

    from cases import models as case_models

    labels: dict[str, Any] = {}
    found: list[type] = []
    for value in vars(case_models).values():
        if isinstance(value, type) and issubclass(value, models.TextChoices):
            found.append(value)
        elif isinstance(value, type) and issubclass(value, models.Model):
            found.extend(
                inner
                for inner in vars(value).values()
                if isinstance(inner, type) and issubclass(inner, models.TextChoices)
            )
    for choices in found:
        for code, label in choices.choices:
            labels.setdefault(code, label)
    return labels


_CODE_LABELS = _choice_labels()
# The titles of the flow's tasks by node name, filled by the workflows app
# when it starts (the audit app imports no flow).
TASK_TITLES: dict[str, Any] = {}


def _reason(event: Any) -> str:
    code = event.reason or ""
    if not code:
        return "–"
    if event.event_type.startswith("workflows.task."):
        return str(TASK_TITLES.get(code, code))
    return str(_CODE_LABELS.get(code, code))


MAX_FIELDS_PER_LINE = 8
CHANGED = _("changed (content not logged)")


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
                fields.append(f"{label}: {CHANGED}")
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
    reason = _reason(event)
    if event.event_type == "cases.case.created":
        text = _("Registered the case (intake: %(reason)s).") % {"reason": reason}
    elif event.transition:
        text = _("Step “%(step)s”: status %(from)s → %(to)s.") % {
            "step": STEPS.get(event.transition, event.transition),
            "from": _state(event.from_state),
            "to": _state(event.to_state),
        }
        if event.reason:
            text += " " + _("Reason: %(reason)s.") % {"reason": reason}
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
