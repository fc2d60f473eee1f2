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
    "cases.case.transferred": _("Handed the case over (%(reason)s)."),
    "cases.case.package_exported": _("Exported the case file as a signed transfer package."),
    "cases.case.imported_from_package": _("Took the case over from another Lotse installation."),
    "cases.consent.recorded": _("Recorded a consent (%(reason)s)."),
    "cases.consent.withdrawn": _("Recorded the withdrawal of a consent (%(reason)s)."),
    "cases.consultation.recorded": _("Recorded a consultation (%(reason)s)."),
    "cases.assessment.recorded": _("Recorded a needs assessment."),
    "cases.goal.added": _("Added a goal to the Integrationsplan."),
    "cases.goal.updated": _("Changed a goal (status %(reason)s)."),
    "cases.measure.added": _("Added a step to a goal."),
    "cases.referral.recorded": _("Recorded a referral (%(reason)s)."),
    "cases.referral.updated": _("Recorded the outcome of a referral (%(reason)s)."),
    "cases.case.duplicates_resolved": _("Decided on the possible duplicates at registration."),
    "cases.person.updated": _("Changed the person's data."),
    "cases.household.updated": _("Changed the household's data."),
    "cases.household.member_added": _("Added a member to the household."),
    "cases.household.member_removed": _("Removed a member from the household."),
    "cases.household.relation_changed": _("Changed a member's relation in the household."),
    # issue 18: voluntariness and data protection
    "cases.plan.agreed": _("Recorded the client's agreement to a new version of the plan."),
    "cases.plan.drafted_after_decline": _("Drafted the plan the client had declined before."),
    "cases.plan.change_discarded": _("Discarded a change of the plan the client did not agree to."),
    "cases.case.anonymous_mode_set": _("Switched the case to anonymous counselling."),
    "cases.case.legal_hold_set": _("Set a legal hold."),
    "cases.case.legal_hold_lifted": _("Lifted the legal hold."),
    "cases.case.erased_after_withdrawal": _(
        "Erased the personal data after the withdrawal of the consent."
    ),
    "cases.document.uploaded": _("Stored a document (%(reason)s)."),
    "cases.document.downloaded": _("Downloaded a document (%(reason)s)."),
    "cases.document.deleted": _("Deleted a document (%(reason)s)."),
    "cases.cv_entry.added": _("Added an entry to the CV (%(reason)s)."),
    "cases.cv_entry.removed": _("Removed an entry from the CV (%(reason)s)."),
    "appointments.appointment.planned": _("Planned an appointment."),
    "appointments.appointment.held": _("Recorded that an appointment took place."),
    "appointments.appointment.no_show": _(
        "Recorded that the client did not come to an appointment."
    ),
    "appointments.appointment.cancelled": _("Cancelled an appointment."),
    "workflows.task.assigned": _("Task “%(reason)s” assigned."),
    "workflows.task.completed": _("Task “%(reason)s” completed."),
    "workflows.task.cancelled": _("Task “%(reason)s” cancelled."),
    # Corrections and cancellations with a reason (issue 20, cases.services.corrections).
    "cases.consultation.corrected": _("Corrected a consultation."),
    "cases.consultation.cancelled": _("Cancelled a consultation recorded in error."),
    "cases.referral.corrected": _("Corrected a referral."),
    "cases.referral.cancelled": _("Cancelled a referral recorded in error."),
    "cases.assessment.corrected": _("Corrected a needs assessment."),
    "cases.assessment.cancelled": _("Cancelled a needs assessment recorded in error."),
    "cases.goal.corrected": _("Corrected a goal (new plan version if it was agreed)."),
    "cases.goal.cancelled": _("Cancelled a goal recorded in error."),
    "cases.measure.corrected": _("Corrected a step."),
    "cases.measure.cancelled": _("Cancelled a step recorded in error."),
    "cases.network_contact.corrected": _("Corrected a network contact."),
    "cases.network_contact.cancelled": _("Cancelled a network contact recorded in error."),
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


# Reasons the case services record that are no model choice: the pause
# reasons, closing grounds and reopening reasons of the case actions
# (cases.services PauseReason, ClosingGround, ReopenReason) and the reasons
# of system steps.
_REASON_LABELS = {
    "NO_CONTACT": _("no contact"),
    "CLIENT_REQUEST": _("at the client's request"),
    "HOSPITAL_STAY": _("hospital stay"),
    "OTHER": _("other"),
    "ALL_GOALS_FINAL": _("all goals have a final status"),
    "MOVED_AWAY": _("the client moved away"),
    "TRANSFER": _("transfer to another service"),
    "CLIENT_RETURNED": _("the client came back"),
    "CLOSED_IN_ERROR": _("closed in error"),
    "NEW_NEED": _("a new need"),
    "plan_declined": _("the client declined the plan"),
    "consent_withdrawn": _("consent withdrawn"),
    "retention_elapsed": _("retention period elapsed"),
    "no_show": _("no first consultation in time"),
    "period_expired": _("consultation period expired"),
    "no_contact": _("no contact"),
    "SAME_TEAM": _("to another manager of the team"),
    "OTHER_TEAM": _("to another team"),
    "OTHER_TRAEGER": _("to another Träger"),
}

_CODE_LABELS = {**_choice_labels(), **_REASON_LABELS}
# The titles of the flow's tasks by node name, filled by the workflows app
# when it starts (the audit app imports no flow).
TASK_TITLES: dict[str, Any] = {}


def _reason(event: Any) -> str:
    code = event.reason or ""
    if not code:
        return "–"
    if event.event_type.startswith("workflows.task."):
        return str(TASK_TITLES.get(code, code))
    if code in _CODE_LABELS:
        return str(_CODE_LABELS[code])
    return _catalogue_key_label(code)


def _catalogue_key_label(key: str) -> str:
    """A catalogue entry's label by its key (extension reasons, referral
    services, topics are recorded by key)."""
    from cases.models import CatalogueEntry

    if key not in _CATALOGUE_BY_KEY:
        entry = (
            CatalogueEntry.objects.filter(key=key)
            .order_by("pk")
            .values_list("label_de", "label_en")
            .first()
        )
        if entry is None:
            # The recorded code stays readable for the auditor.
            return str(_("%(code)s (no longer in the catalogue)") % {"code": key})
        _CATALOGUE_BY_KEY[key] = entry
    return _catalogue_text(_CATALOGUE_BY_KEY[key])


MAX_FIELDS_PER_LINE = 8
CHANGED = _("changed (content not logged)")


def _state(code: str) -> str:
    return str(_STATE_LABELS.get(code, code or "–"))


def state_label(code: str) -> str:
    """Return the German name of a case or extension state code."""
    return _state(code)


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


# Who-fields whose model declares no translated name.
_ACTOR_FIELDS = {
    "created_by": _("created by"),
    "recorded_by": _("recorded by"),
    "reviewed_by": _("reviewed by"),
    "requested_by": _("requested by"),
    "decided_by": _("decided by"),
    "uploaded_by": _("uploaded by"),
}


def _field(label: str, name: str) -> Any:
    model = _MODELS_BY_LABEL.get(label)
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a field removed since the event
        return None


def _field_label(label: str, name: str) -> str:
    field = _field(label, name)
    if field is None:
        return str(_("field removed since"))
    if field.is_relation and field.name in _ACTOR_FIELDS:
        return str(_ACTOR_FIELDS[field.name])
    if field.is_relation and str(field.verbose_name) == field.name.replace("_", " "):
        # A foreign key named after its model: the model's German name.
        return str(field.related_model._meta.verbose_name)
    return str(field.verbose_name)


def _value(label: str, name: str, value: Any) -> str:
    """A recorded value as a reader knows it: a choice's or catalogue
    entry's label instead of its code or id."""
    field = _field(label, name)
    if field is None or value is None or value == "":
        return _shown(value)
    related = field.related_model if field.is_relation else None
    if related is not None and related._meta.label_lower == "cases.catalogueentry":
        ids = value if isinstance(value, list) else [value]
        labels = _catalogue_labels_by_id(ids)
        return ", ".join(labels.get(pk, str(pk)) for pk in ids) or "–"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) or "–"
    choices = dict(getattr(field, "flatchoices", None) or [])
    if not field.is_relation and isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if isinstance(value, str) and value in _REASON_LABELS:
        return str(_REASON_LABELS[value])  # a code column without choices (closing_ground)
    return _shown(value)


# Catalogue labels by id and by key, filled on first use: a timeline of
# many events asks for the same few entries (labels are edited rarely; a
# restart shows an edited label).
_CATALOGUE_BY_ID: dict[int, tuple[str, str]] = {}
_CATALOGUE_BY_KEY: dict[str, tuple[str, str]] = {}


def _catalogue_text(pair: tuple[str, str]) -> str:
    from django.utils import translation

    german = (translation.get_language() or "de").startswith("de")
    return pair[0] if german else pair[1]


def _catalogue_labels_by_id(ids: list[Any]) -> dict[Any, str]:
    from cases.models import CatalogueEntry

    wanted = {i for i in ids if isinstance(i, int)}
    missing = wanted - _CATALOGUE_BY_ID.keys()
    if missing:
        for pk, key, de, en in CatalogueEntry.objects.filter(pk__in=missing).values_list(
            "pk", "key", "label_de", "label_en"
        ):
            _CATALOGUE_BY_ID[pk] = (de, en)
            _CATALOGUE_BY_KEY.setdefault(key, (de, en))
    return {pk: _catalogue_text(_CATALOGUE_BY_ID[pk]) for pk in wanted if pk in _CATALOGUE_BY_ID}


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
                old = _value(change["model"], name, delta["old"])
                new = _value(change["model"], name, delta["new"])
                fields.append(f"{label}: {old} → {new}")
            else:
                fields.append(f"{label}: {_value(change['model'], name, delta['new'])}")
        more = len(change["fields"]) - MAX_FIELDS_PER_LINE
        if more > 0:
            fields.append(_("%(n)d more") % {"n": more})
        verb = {
            "create": _("new"),
            "snapshot": _("as at registration"),
            "delete": _("removed"),
        }.get(change["op"], "")
        head = f"{what} {change['id']}" + (f" ({verb})" if verb else "")
        parts.append(f"{head}: {', '.join(fields)}")
    return "; ".join(parts)


def event_line(event: Any) -> str:
    """Return one plain-language German line for an audit event."""
    reason = _reason(event)
    if event.event_type == "cases.case.created":
        text = _("Registered the case (intake: %(reason)s).") % {"reason": reason}
    elif event.event_type == "cases.case.imported":
        text = _(
            "Took the case over from a caseload import (%(source)s) in status %(to)s "
            "(intake: %(reason)s)."
        ) % {
            "source": (event.data or {}).get("source", "–"),
            "to": _state(event.to_state),
            "reason": reason,
        }
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


# The screens and API endpoints a read is recorded under (ReadAccess.view).
VIEW_LABELS = {
    "home": _("start page"),
    "cases.case_detail": _("case file"),
    "cases.consultation_new": _("record a consultation"),
    "cases.plan_pdf": _("Integrationsplan (PDF)"),
    "cases.document_upload": _("upload a document"),
    "cases.document_download": _("a document (download)"),
    "cases.document_delete": _("delete a document"),
    "cases.cv": _("CV and competences"),
    "cases.cv_pdf": _("CV (Lebenslauf, PDF)"),
    "appointments.week": _("my week (appointments)"),
    "appointments.case": _("the case's appointments"),
    "appointments.letter": _("appointment letter (PDF)"),
    "reports.kennzahlen": _("Kennzahlen"),
    "reports.overview": _("caseload and deadlines"),
    "workflows.inbox": _("my tasks"),
    "workflows.case": _("the case's tasks"),
    "workflows.case_action": _("a case action"),
    "workflows.process_chart": _("the case's flow"),
    "workflows.task_detail": _("a task"),
    "workspace.case_list": _("case list"),
    "workspace.dashboard": _("workspace"),
    "audit.timeline": _("case timeline (audit)"),
    "audit.access_report": _("access report"),
    "dataprotection.lookup": _("data protection: person lookup"),
    "transfers.case_transfer": _("hand over the case"),
    "transfers.package_export_form": _("transfer package (form)"),
    "transfers.package_export": _("transfer package (export)"),
    "transfers.package_received": _("case file taken over"),
    "audit.export_pdf": _("history export (PDF)"),
    "audit.export_csv": _("history export (CSV)"),
    "audit.export_json": _("history export (JSON)"),
    "api.tasks": _("API: tasks"),
    "api:case-list": _("API: case list"),
    "api:case-detail": _("API: case"),
    "api:case-transition": _("API: status change"),
    "api:case-history": _("API: case history"),
    "api:consents": _("API: consents"),
    "api:consent": _("API: consent"),
    "api:consent-evidence": _("API: consent evidence"),
    "api:consultations": _("API: consultations"),
    "api:assessment": _("API: needs assessment"),
    "api:plan": _("API: Integrationsplan"),
    "api:goals": _("API: goals"),
    "api:goal": _("API: goal"),
    "api:measures": _("API: steps"),
    "api:referrals": _("API: referrals"),
    "api:referral": _("API: referral"),
    "api:extension-request": _("API: extension request"),
    "api.kennzahlen.csv": _("API: Kennzahlen (CSV)"),
    "api.kennzahlen.json": _("API: Kennzahlen (JSON)"),
    "api.kennzahlen.xlsx": _("API: Kennzahlen (XLSX)"),
}


def view_label(view: str) -> str:
    """Return the German name of the screen a read was recorded under."""
    if view in VIEW_LABELS:
        return str(VIEW_LABELS[view])
    if view.startswith("workflows.") and view.removeprefix("workflows.") in TASK_TITLES:
        return str(_("task “%(title)s”") % {"title": TASK_TITLES[view.removeprefix("workflows.")]})
    if view.startswith(("api:", "api.")):
        return str(_("API"))
    return str(_("another screen"))


def role_label(code: str) -> str:
    """Return the German name of a role code (ReadAccess.user_role)."""
    from accounts.models import Role

    return str(dict(Role.choices).get(code, _("unknown role") if code else "–"))


def read_line(read: Any) -> str:
    """Return one plain-language German line for a read access."""
    return str(_("Viewed the case data: %(view)s.") % {"view": view_label(read.view)})
