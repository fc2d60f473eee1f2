"""The data protection officer's tools (DOMAIN.md §14.5): retention sweep and
the Art. 15 export of everything Lotse stores about one person."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.models import AuditEvent
from audit.services import audit_event_record
from cases import case_data
from cases import services as case_services
from cases.models import (
    Assessment,
    Case,
    CaseStatus,
    Consent,
    Consultation,
    CvEntry,
    Document,
    ExtensionRequest,
    Goal,
    IntegrationPlan,
    Measure,
    Person,
    PersonClockFact,
    PlanReview,
    Referral,
)
from config.errors import NotFound

logger = logging.getLogger(__name__)


class PersonNotFound(NotFound):
    default_code = "not_found"


# --- the retention sweep -------------------------------------------------------


@dataclass
class SweepResult:
    anonymised: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def retention_due(*, today: date) -> list[Case]:
    """Closed and rejected cases whose retention period has ended."""
    candidates = Case.objects.filter(status__in=[CaseStatus.CLOSED, CaseStatus.REJECTED]).only(
        "pk",
        "status",
        "legal_hold",
        "closed_at",
        "eligibility_checked_at",
        "registered_at",
    )
    due = []
    for case in candidates.order_by("pk"):
        deadline = case_services.retention_deadline(case)
        if deadline is not None and today > deadline:
            due.append(case)
    return due


def retention_sweep(*, now: datetime) -> SweepResult:
    """Anonymise every closed or rejected case whose period has ended.

    A case on legal hold is left alone. Each case is its own transaction
    (the `retention_elapsed` transition: personal content erased, files
    deleted after commit, one audit event without content as the erasure
    log); one case failing does not stop the others.
    """
    result = SweepResult()
    for case in retention_due(today=case_services._local_date(now)):
        if case.legal_hold:
            result.held.append(case.pk)
            continue
        try:
            case_services.case_transition(
                case=case.pk, name="retention_elapsed", actor=None, now=now
            )
        except case_services.GuardFailed as exc:
            if exc.code == "legal_hold":
                result.held.append(case.pk)
            else:
                result.failed.append(case.pk)
                logger.warning("retention sweep: case %s refused (%s)", case.pk, exc.code)
        else:
            result.anonymised.append(case.pk)
    logger.info(
        "retention sweep: %d anonymised, %d on legal hold, %d refused",
        len(result.anonymised),
        len(result.held),
        len(result.failed),
    )
    return result


def erasure_log(*, traeger_id: int, limit: int = 500) -> list[AuditEvent]:
    """The erasures of one Träger's cases: ids, time and state, no content."""
    case_ids = Case.objects.filter(traeger_id=traeger_id).values("pk")
    return list(
        AuditEvent.objects.filter(transition="retention_elapsed", case_id__in=case_ids).order_by(
            "-occurred_at"
        )[:limit]
    )


# --- Art. 15 export ------------------------------------------------------------


def _row(obj: Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, datetime):
            value = timezone.localtime(value).isoformat()  # local time, as on screen
        elif isinstance(value, date):
            value = value.isoformat()
        elif hasattr(value, "name") and f.get_internal_type() == "FileField":
            value = value.name or ""
        elif value is not None and not isinstance(value, str | int | float | bool | list | dict):
            value = str(value)
        if f.is_relation and f.related_model is not None:
            entry = getattr(obj, f.name, None)
            if entry is not None and hasattr(entry, "label_de"):
                data[f.name] = {"key": entry.key, "label": entry.label_de}
                continue
        data[f.attname if f.is_relation else f.name] = value
    return data


def _export_allowed(actor: User) -> bool:
    return actor.is_active and actor.role == Role.DATA_PROTECTION_OFFICER and bool(actor.traeger_id)


def person_export(*, person_id: int, actor: User, now: datetime) -> dict[str, Any]:
    """Everything stored about one person, for an Art. 15 request.

    Only a data protection officer of the person's Träger may ask; anyone
    else gets the same 404 as for a person that does not exist. The export
    itself is logged (an audit event naming only ids).
    """
    if not _export_allowed(actor):
        raise PersonNotFound(_("This person does not exist."))
    person = Person.objects.filter(pk=person_id, traeger_id=actor.traeger_id).first()
    if person is None:
        raise PersonNotFound(_("This person does not exist."))
    cases = []
    for case in Case.objects.filter(person=person).order_by("pk"):
        plans = []
        for plan in IntegrationPlan.objects.filter(case=case).order_by("version"):
            goals = []
            for goal in Goal.objects.filter(plan=plan).order_by("pk"):
                goals.append(
                    {
                        **_row(goal),
                        "measures": [_row(m) for m in Measure.objects.filter(goal=goal)],
                    }
                )
            plans.append(
                {
                    **_row(plan),
                    "goals": goals,
                    "reviews": [_row(r) for r in PlanReview.objects.filter(plan=plan)],
                }
            )
        assessments = [
            {**_row(a), "items": [_row(i) for i in a.items.all().order_by("pk")]}
            for a in Assessment.objects.filter(case=case).order_by("pk")
        ]
        cases.append(
            {
                **_row(case),
                "assessments": assessments,
                "plans": plans,
                "consultations": [
                    _row(c) for c in Consultation.objects.filter(case=case).order_by("pk")
                ],
                "referrals": [_row(r) for r in Referral.objects.filter(case=case).order_by("pk")],
                "extension_requests": [
                    _row(r) for r in ExtensionRequest.objects.filter(case=case).order_by("pk")
                ],
                "documents": [
                    _row(d, exclude=("sha256",))
                    for d in Document.objects.filter(case=case).order_by("pk")
                ],
                "cv_entries": [_row(e) for e in CvEntry.objects.filter(case=case).order_by("pk")],
                # What other apps keep about the case (appointments, the
                # handover, transfer packages, ...: cases.case_data).
                **{
                    source.key: [_row(r, exclude=source.exclude) for r in source.rows(case)]
                    for source in case_data.sources()
                },
                "history": [
                    {
                        "at": timezone.localtime(e.occurred_at).isoformat(),
                        "event": e.event_type,
                        "from": e.from_state,
                        "to": e.to_state,
                        "reason": e.reason,
                    }
                    for e in AuditEvent.objects.filter(case_id=case.pk).order_by(
                        "occurred_at", "seq"
                    )
                ],
            }
        )
    export = {
        "generated_at": timezone.localtime(now).isoformat(),
        "controller": person.traeger.name,
        "person": _row(person),
        "households": [
            {**_row(m.household), "relation": m.relation}
            for m in person.memberships.select_related("household").order_by("pk")
        ],
        "consents": [_row(c) for c in Consent.objects.filter(person=person).order_by("pk")],
        "clock_facts": [
            _row(f)
            for f in PersonClockFact.objects.filter(person=person).order_by("recorded_at", "pk")
        ],
        "cases": cases,
    }
    with transaction.atomic():
        audit_event_record(
            event_type="dataprotection.person.exported",
            actor=actor,
            actor_role=actor.role,
            now=now,
            object_type="person",
            object_id=person.pk,
            data={"cases": [c["id"] for c in cases]},
        )
    return export


def person_export_pdf(export: dict[str, Any]) -> bytes:
    """A readable German PDF of `person_export`'s result (dataprotection.art15)."""
    from dataprotection.art15 import person_export_pdf as render

    return render(export)
