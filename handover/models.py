"""The handover from the GU's refugee social work (DOMAIN.md "Lotse
decisions", §9).

A `Handover` moves draft -> submitted -> accepted | returned, only through
`handover.services`. Its `HandoverMember` rows are the persons handed over
(one, or a household). Without the consent for the data transfer only the
allocation facts are kept: names, household relation, Gemeinde, AU
allocation date (§9); the services strip everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from cases.models import Consent, HouseholdMembership, Person

if TYPE_CHECKING:
    from accounts.models import User
    from cases.models import Case


class HandoverStatus(models.TextChoices):
    DRAFT = "DRAFT", _("draft")
    SUBMITTED = "SUBMITTED", _("submitted")
    ACCEPTED = "ACCEPTED", _("accepted")
    RETURNED = "RETURNED", _("returned")


H = HandoverStatus


class ReturnReason(models.TextChoices):
    INCOMPLETE = "INCOMPLETE", _("incomplete")
    WRONG_GEMEINDE = "WRONG_GEMEINDE", _("wrong Gemeinde")
    DUPLICATE = "DUPLICATE", _("duplicate")
    NOT_TARGET_GROUP = "NOT_TARGET_GROUP", _("not in the target group")
    OTHER = "OTHER", _("other")


class Handover(ConcurrentTransitionMixin, models.Model):
    """One handover of a person or a household to the Gemeinde."""

    class Source(models.TextChoices):
        FORM = "FORM", _("web form")
        API = "API", _("API")
        IMPORT = "IMPORT", _("file import")

    status = FSMField(
        _("status"), max_length=10, choices=HandoverStatus.choices, default=H.DRAFT, protected=True
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    external_reference = models.CharField(_("sender's reference"), max_length=100, blank=True)
    gemeinde = models.ForeignKey(
        "accounts.Gemeinde", on_delete=models.PROTECT, related_name="+", verbose_name=_("Gemeinde")
    )
    au_allocation_date = models.DateField(_("AU allocation date"))
    # The consent of the person for the transfer of their data (scope
    # handover_in); without it only the allocation facts are stored.
    consent_given = models.BooleanField(_("consent to the data transfer given"), default=False)
    consent_form = models.CharField(
        _("form of the consent"), max_length=20, choices=Consent.Form.choices, blank=True
    )
    consent_language = models.CharField(_("language of the information"), max_length=50, blank=True)
    consent_interpreter = models.CharField(_("interpreter"), max_length=100, blank=True)
    consent_given_on = models.DateField(_("consent given on"), null=True, blank=True)
    known_needs = models.TextField(_("known needs"), blank=True)
    open_matters = models.TextField(_("open matters"), blank=True)
    notes = models.TextField(_("handover notes"), blank=True)
    phone = models.CharField(_("phone of the household"), max_length=50, blank=True)
    address = models.CharField(_("address (AU unit or flat)"), max_length=300, blank=True)
    gu_facility = models.CharField(_("GU (collective accommodation)"), max_length=200, blank=True)
    gu_contact_name = models.CharField(_("contact at the refugee social work"), max_length=200)
    gu_contact_phone = models.CharField(_("contact phone"), max_length=50, blank=True)
    gu_contact_email = models.EmailField(_("contact e-mail"), blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="handovers_sent",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("integration manager"),
    )
    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handover",
        verbose_name=_("case"),
    )
    return_reason = models.CharField(
        _("reason for the return"), max_length=20, choices=ReturnReason.choices, blank=True
    )
    return_note = models.TextField(_("note on the return"), blank=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=H.values), name="handover_status_valid"),
            models.UniqueConstraint(
                fields=["submitted_by", "external_reference"],
                condition=~Q(external_reference=""),
                name="handover_external_reference_unique_per_sender",
            ),
            models.CheckConstraint(
                condition=~Q(status=H.ACCEPTED)
                | Q(case__isnull=False, decided_by__isnull=False, decided_at__isnull=False),
                name="accepted_handover_has_case",
            ),
            models.CheckConstraint(
                condition=~Q(status=H.RETURNED)
                | (Q(decided_by__isnull=False, decided_at__isnull=False) & ~Q(return_reason="")),
                name="returned_handover_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[H.SUBMITTED, H.ACCEPTED, H.RETURNED])
                | Q(submitted_at__isnull=False),
                name="submitted_handover_has_time",
            ),
            # DOMAIN.md §9: without consent only the allocation facts.
            models.CheckConstraint(
                condition=Q(consent_given=True)
                | Q(
                    known_needs="",
                    open_matters="",
                    notes="",
                    phone="",
                    address="",
                    consent_form="",
                    consent_given_on__isnull=True,
                ),
                name="handover_without_consent_keeps_allocation_facts_only",
            ),
        ]
        indexes = [models.Index(fields=["gemeinde", "status"])]

    def __str__(self) -> str:
        return f"Handover {self.pk} ({self.status})"

    @transition(field=status, source=H.DRAFT, target=H.SUBMITTED)
    def submit(self, *, at: datetime) -> None:
        self.submitted_at = at

    @transition(field=status, source=H.SUBMITTED, target=H.ACCEPTED)
    def accept(self, *, by: User, at: datetime, assignee: User, case: Case) -> None:
        self.decided_by = by
        self.decided_at = at
        self.assignee = assignee
        self.case = case

    @transition(field=status, source=H.SUBMITTED, target=H.RETURNED)
    def return_to_sender(self, *, by: User, at: datetime, reason: str, note: str) -> None:
        self.decided_by = by
        self.decided_at = at
        self.return_reason = reason
        self.return_note = note


class HandoverMember(models.Model):
    """A person handed over; position 0 is the person the case is for."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveSmallIntegerField(_("position"))
    relation = models.CharField(
        _("relation"), max_length=10, choices=HouseholdMembership.Relation.choices
    )
    family_name = models.CharField(_("family name"), max_length=200)
    given_names = models.CharField(_("given names"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(
        _("sex"), max_length=10, choices=Person.Sex.choices, default=Person.Sex.UNKNOWN
    )
    nationality = models.CharField(_("nationality"), max_length=100, blank=True)
    languages = models.CharField(_("languages"), max_length=200, blank=True)
    authority_reference = models.CharField(_("authority reference"), max_length=100, blank=True)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )

    class Meta:
        verbose_name = _("handed-over person")
        verbose_name_plural = _("handed-over persons")
        constraints = [
            models.UniqueConstraint(
                fields=["handover", "position"], name="handover_member_position_unique"
            ),
        ]
        indexes = [models.Index(fields=["authority_reference"])]

    def __str__(self) -> str:
        return f"Member {self.position} of handover {self.handover_id}"


class ImportJob(models.Model):
    """A large handover file import, run by the worker (issue 22 finding 3).

    The request stores the file and returns; the worker parses it within
    the time bound (LOTSE_IMPORT_TIME_LIMIT_SECONDS; the archive check
    bounds its memory before parsing) and writes its progress here, so the
    page and `GET /api/v1/handovers/import/{id}/` can show it. The file is
    dropped when the job ends; the report stays for its sender.
    """

    class Status(models.TextChoices):
        QUEUED = "QUEUED", _("waiting for the worker")
        RUNNING = "RUNNING", _("running")
        DONE = "DONE", _("done")
        FAILED = "FAILED", _("not imported")

    class Phase(models.TextChoices):
        READING = "READING", _("reading the rows")
        CHECKING = "CHECKING", _("checking the rows")
        SAVING = "SAVING", _("saving")

    id = models.UUIDField(primary_key=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    content = models.BinaryField(_("file"), null=True, editable=False)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), default=0)
    report = models.JSONField(_("report"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("handover import")
        verbose_name_plural = _("handover imports")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Import {self.pk}"
