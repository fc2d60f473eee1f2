"""Appointments: consultations planned for a day and time.

An appointment belongs to a case and to the manager whose calendar it is
in. When the day has come it is either held (the consultation is recorded
through the case services and linked here), missed (a consultation with
status `NO_SHOW` is recorded: the Kennzahl K2x) or cancelled. The
manager's calendar feed (iCal) is reached through a secret link that
carries no client names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Appointment(models.Model):
    class Status(models.TextChoices):
        PLANNED = "PLANNED", _("planned")
        HELD = "HELD", _("held")
        NO_SHOW = "NO_SHOW", _("client did not come")
        CANCELLED = "CANCELLED", _("cancelled")

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("case")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("integration manager"),
    )
    starts_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    form = models.ForeignKey(
        "cases.CatalogueEntry",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"catalogue": "CONSULTATION_FORM"},
        verbose_name=_("form"),
    )
    topic = models.ForeignKey(
        "cases.CatalogueEntry",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"catalogue": "CONSULTATION_TOPIC"},
        verbose_name=_("topic"),
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    interpreter = models.CharField(_("interpreter"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    consultation = models.ForeignKey(
        "cases.Consultation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consultation"),
    )
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=720),
                name="appointment_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(status="PLANNED", closed_at__isnull=True)
                | (~Q(status="PLANNED") & Q(closed_at__isnull=False)),
                name="appointment_closed_when_not_planned",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["HELD", "NO_SHOW"]) | Q(consultation__isnull=False),
                name="appointment_outcome_has_consultation",
            ),
        ]
        indexes = [
            models.Index(fields=["manager", "starts_at"], name="appointment_calendar_idx"),
            models.Index(fields=["case", "starts_at"], name="appointment_case_idx"),
            models.Index(
                fields=["starts_at"], condition=Q(status="PLANNED"), name="appointment_planned_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} of case {self.case_id}"


class CalendarFeed(models.Model):
    """A manager's secret calendar link (iCal). Rotating replaces the
    token (the old link stops working); revoking removes it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calendar_feed"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(
                condition=Q(token__isnull=True) | Q(revoked_at__isnull=True),
                name="calendar_feed_revoked_has_no_token",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id}"
