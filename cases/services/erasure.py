"""Erasure: anonymising a case whose retention period has elapsed."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from cases import case_data, history
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    CaseStatus,
    Consent,
    Consultation,
    Correction,
    CvEntry,
    ExtensionRequest,
    Goal,
    Household,
    IntegrationPlan,
    Measure,
    Person,
    PersonClockFact,
    PlanReview,
    Referral,
)


def case_anonymise(*, case: Case, now: datetime) -> None:
    """Remove the personal content of `case`; keep ids, dates and codes.

    The case data other apps keep is anonymised by their registered
    sources (`cases.case_data`). The person is anonymised only when no
    other live case needs them, with the evidence text of their clock
    facts (the audit events keep its digest).
    Called inside the `retention_elapsed` transition.
    """
    update = history.update_rows
    update(Consultation.objects.filter(case=case), notes="", interpreter="")
    update(Goal.objects.filter(plan__case=case), title="—", success_criterion="", outcome_note="")
    update(Measure.objects.filter(goal__plan__case=case), description="—")
    update(PlanReview.objects.filter(plan__case=case), notes="", participants="")
    update(IntegrationPlan.objects.filter(case=case), situation_summary="", interpreter="")
    update(
        AssessmentItem.objects.filter(assessment__case=case),
        situation="",
        resources="",
        client_wishes="",
    )
    update(ExtensionRequest.objects.filter(case=case), justification="—", decision_note="")
    update(Referral.objects.filter(case=case), organisation="")
    update(Correction.objects.filter(case=case), reason="—", before={}, after={})
    update(Case.objects.filter(pk=case.pk), plan_declined_reason="")
    update(Assessment.objects.filter(case=case), interpreter_language="")
    update(IntegrationPlan.objects.filter(case=case), agreement_language="")
    update(
        Consent.objects.filter(case=case),
        recipient="",
        interpreter="",
        interpreter_language="",
        language="—",
    )
    # The code "given by the legal guardian" stays (proof, Art. 7(1)); the
    # guardian's name goes.
    update(
        Consent.objects.filter(case=case, given_by=Consent.GivenBy.LEGAL_GUARDIAN),
        guardian_name="—",
    )
    # Files go once the erasure has committed: a rolled-back sweep keeps them.
    storage_names = [(d.file.storage, d.file.name) for d in case.documents.all() if d.file]
    update(case.documents.all(), file="", sha256="", language="", title="", original_name="")
    update(
        CvEntry.objects.filter(case=case),
        title="—",
        organisation="",
        place="",
        note="",
        started_on=None,
        ended_on=None,
    )
    transaction.on_commit(
        lambda: [storage.delete(name) for storage, name in storage_names], robust=True
    )
    # What other apps keep about the case (appointments, the handover, ...).
    for source in case_data.sources():
        if source.anonymise is not None:
            source.anonymise(case, now)
    others = (
        Case.objects.filter(person_id=case.person_id)
        .exclude(pk=case.pk)
        .exclude(status=CaseStatus.DELETED)
    )
    if not others.exists():
        update(
            Consent.objects.filter(person_id=case.person_id),
            recipient="",
            interpreter="",
            interpreter_language="",
            language="—",
        )
        update(
            Consent.objects.filter(
                person_id=case.person_id, given_by=Consent.GivenBy.LEGAL_GUARDIAN
            ),
            guardian_name="—",
        )
        # A household address goes when no other member still has a live case.
        live_members = Case.objects.exclude(status=CaseStatus.DELETED).exclude(
            person_id=case.person_id
        )
        update(
            Household.objects.filter(memberships__person_id=case.person_id).exclude(
                memberships__person__cases__in=live_members
            ),
            address="",
        )
        # Not case data of one case (cases.history.NOT_CASE_DATA): its
        # event keeps the evidence's digest, which still proves the fact.
        PersonClockFact.objects.filter(person_id=case.person_id).update(evidence="—")
        update(
            Person.objects.filter(pk=case.person_id),
            family_name="—",
            given_names="",
            date_of_birth=None,
            nationality="",
            languages="",
            phone="",
            address="",
            anonymised_at=now,
        )
