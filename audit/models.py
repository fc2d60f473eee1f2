"""Append-only audit events (hash-chained) and the read-access log.

Neither table has an update or delete path in code; on PostgreSQL triggers
refuse UPDATE and DELETE for everyone and TRUNCATE for every role that does
not own the table (production runs as a non-owner role with INSERT and
SELECT only). Events carry ids and reason codes, never client content.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be deleted")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be updated")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit rows cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be deleted")


class AuditEvent(AppendOnlyModel):
    """One change: who, in which role, what, from which state to which, why.

    `chain_key` groups events into hash chains ("case:<id>" per case,
    "global" otherwise); `seq` numbers them gap-free inside a chain.
    """

    chain_key = models.CharField(_("chain"), max_length=50)
    seq = models.PositiveBigIntegerField(_("sequence number"))
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("actor role"), max_length=30)
    event_type = models.CharField(_("event type"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=50)
    case_id = models.BigIntegerField(_("case id"), null=True, blank=True)
    transition = models.CharField(_("transition"), max_length=50, blank=True)
    from_state = models.CharField(_("from state"), max_length=30, blank=True)
    to_state = models.CharField(_("to state"), max_length=30, blank=True)
    reason = models.CharField(_("reason code"), max_length=50, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    # HMAC-SHA256 of `hash` under LOTSE_AUDIT_SEAL_KEY (audit.services.
    # event_seal): the plain SHA-256 chain stays checkable by anyone (exports),
    # the seal only by whoever holds the key, which the database does not.
    # Empty on events written before seals existed.
    seal = models.CharField(_("seal"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(fields=["chain_key", "seq"], name="audit_event_seq_unique"),
        ]
        indexes = [models.Index(fields=["case_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.chain_key}#{self.seq} {self.event_type}"


class ReadAccess(AppendOnlyModel):
    """One read of case data: who, which case, when, through which view."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    user_role = models.CharField(_("role"), max_length=30)
    case_id = models.BigIntegerField(_("case id"))
    view = models.CharField(_("view"), max_length=100)
    accessed_at = models.DateTimeField(_("accessed at"))

    class Meta:
        verbose_name = _("read access")
        verbose_name_plural = _("read accesses")
        indexes = [
            # "Who accessed case X in period P" (and the timeline's reads)
            # from the index alone: 10 million rows answer in well under
            # 2 s (`make bench`). INCLUDE is PostgreSQL; elsewhere the
            # index has only its key columns.
            models.Index(
                fields=["case_id", "accessed_at", "id"],
                include=["user", "user_role", "view"],
                name="audit_read_case_report_idx",
            ),
            models.Index(fields=["user", "accessed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read case {self.case_id} via {self.view}"


class ReportRead(AppendOnlyModel):
    """One read of report figures: who, which report, for which scope (an
    organisation unit) and period, when, through which view (page, file
    export or API). Figures only: the row names no case and no client."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    user_role = models.CharField(_("role"), max_length=30)
    report = models.CharField(_("report"), max_length=30)
    scope_kind = models.CharField(_("unit"), max_length=20)
    scope_id = models.PositiveBigIntegerField(_("unit id"))  # 0 for the Land
    period_from = models.DateField(_("from"))
    period_to = models.DateField(_("to"))
    view = models.CharField(_("view"), max_length=100)
    accessed_at = models.DateTimeField(_("accessed at"))

    class Meta:
        verbose_name = _("report read")
        verbose_name_plural = _("report reads")
        indexes = [
            models.Index(fields=["user", "accessed_at"]),
            models.Index(fields=["scope_kind", "scope_id", "accessed_at"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user_id} read {self.report} of {self.scope_kind}:{self.scope_id} "
            f"{self.period_from}..{self.period_to} via {self.view}"
        )
