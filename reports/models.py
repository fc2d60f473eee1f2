"""Frozen Kennzahlen: the figures of one unit and period, without personal data.

A snapshot holds only counts, catalogue keys and their labels at freeze
time (DOMAIN.md §14.3, §14.5): it survives the deletion and anonymisation
of the cases it was computed from and reads back the same figures.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    MANAGER = "manager", _("integration manager")
    TEAM = "team", _("team")
    TRAEGER = "traeger", _("Träger")
    GEMEINDE = "gemeinde", _("Gemeinde")
    KREIS = "kreis", _("Kreis")
    LAND = "land", _("Land")


class ReportSnapshot(models.Model):
    unit_kind = models.CharField(_("unit"), max_length=10, choices=UnitKind.choices)
    # No foreign key: the unit may be renamed or retired; the figures stay.
    # The Land is unit 0.
    unit_id = models.PositiveBigIntegerField(_("unit id"))
    unit_label = models.CharField(_("unit name"), max_length=200)
    period_from = models.DateField(_("from"))
    period_to = models.DateField(_("to"))
    figures = models.JSONField(_("figures"))
    frozen_at = models.DateTimeField(_("frozen at"))
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("frozen by"),
    )

    class Meta:
        verbose_name = _("Kennzahlen snapshot")
        verbose_name_plural = _("Kennzahlen snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["unit_kind", "unit_id", "period_from", "period_to"],
                name="report_snapshot_once_per_unit_and_period",
            ),
            models.CheckConstraint(
                condition=Q(period_to__gte=F("period_from")), name="report_snapshot_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(unit_kind="land", unit_id=0)
                | (~Q(unit_kind="land") & Q(unit_id__gt=0)),
                name="report_snapshot_unit_id_unless_land",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_kind}:{self.unit_id} {self.period_from}..{self.period_to}"
