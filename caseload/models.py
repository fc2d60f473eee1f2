"""A caseload import run and the external references it took over."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseloadImport(models.Model):
    """One upload: checked (dry run) or imported in the Celery worker.

    The file is kept only until the run ends (`content` is emptied then);
    the report keeps line numbers, columns and messages, never client text.
    """

    class Status(models.TextChoices):
        QUEUED = "QUEUED", _("waiting")
        RUNNING = "RUNNING", _("running")
        DONE = "DONE", _("done")
        FAILED = "FAILED", _("not imported")

    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", verbose_name=_("Träger")
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"))
    filename = models.CharField(_("file name"), max_length=200)
    content = models.BinaryField(_("file"), blank=True)
    dry_run = models.BooleanField(_("dry run"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows checked"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("caseload import")
        verbose_name_plural = _("caseload imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Caseload import {self.pk} ({self.status})"


class ImportedPerson(models.Model):
    """A person taken over, by the reference of the previous tool: the key
    that makes a second import of the same rows create nothing."""

    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", verbose_name=_("Träger")
    )
    external_reference = models.CharField(_("external reference"), max_length=100)
    household_reference = models.CharField(_("household reference"), max_length=100, blank=True)
    person = models.ForeignKey(
        "cases.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    run = models.ForeignKey(
        CaseloadImport, on_delete=models.PROTECT, related_name="persons", verbose_name=_("import")
    )

    class Meta:
        verbose_name = _("imported person")
        verbose_name_plural = _("imported persons")
        constraints = [
            models.UniqueConstraint(
                fields=["traeger", "external_reference"], name="caseload_reference_once"
            ),
        ]
        indexes = [models.Index(fields=["traeger", "household_reference"])]

    def __str__(self) -> str:
        return self.external_reference
