"""Background-work bookkeeping: heartbeats, the notification outbox, digests,
per-user mail preferences and incidents.

A `Notification` row is both the in-app inbox entry and the outbox row of
its e-mail: it is written in the transaction of the change that causes it,
and the relay (notifications.services) delivers the mail after commit, at
least once. `(recipient, key)` is unique: the key names the occasion (a
reminder for one due date, one extension request submitted), so the same
occasion never notifies the same person twice. Rows carry ids, codes and
dates, never client text.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a beat-scheduled task ran on a worker.

    One row per name. A fresh row proves the whole chain beat -> broker ->
    worker -> database; /healthz reads it (dead-man's switch, C8).
    """

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last beat"))
    worker = models.CharField(_("worker"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at.isoformat()}"


class NotificationKind(models.TextChoices):
    CASE_ASSIGNED = "CASE_ASSIGNED", _("new case assigned")
    CASE_CHANGED = "CASE_CHANGED", _("case changed by someone else")
    DEADLINE_REACHED = "DEADLINE_REACHED", _("deadline reached")
    REVIEW_DUE_SOON = "REVIEW_DUE_SOON", _("plan review due soon")
    REVIEW_OVERDUE = "REVIEW_OVERDUE", _("plan review overdue")
    REVIEW_ESCALATED = "REVIEW_ESCALATED", _("plan review overdue (escalation)")
    PERIOD_ENDING = "PERIOD_ENDING", _("consultation period ending")
    NO_CONTACT_NOTICE = "NO_CONTACT_NOTICE", _("dormant case moves to closing soon")
    EXTENSION_SUBMITTED = "EXTENSION_SUBMITTED", _("extension request waiting for a decision")
    EXTENSION_WAITING = "EXTENSION_WAITING", _("extension request still undecided")
    EXTENSION_DECIDED = "EXTENSION_DECIDED", _("extension request decided")
    DEPUTY_TASK = "DEPUTY_TASK", _("task of a manager you deputise for")
    HANDOVER_SUBMITTED = "HANDOVER_SUBMITTED", _("new handover for the Gemeinde")
    REFERRAL_PENDING = "REFERRAL_PENDING", _("referral outcome still open")

    APPOINTMENT_REMINDER = "APPOINTMENT_REMINDER", _("appointment coming up")


class Delivery(models.TextChoices):
    PENDING = "PENDING", _("waiting to be sent")
    SENDING = "SENDING", _("being sent")
    SENT = "SENT", _("sent")
    DIGEST = "DIGEST", _("waiting for the daily digest")
    DIGESTED = "DIGESTED", _("sent in a digest")
    SKIPPED = "SKIPPED", _("no mail (no address)")
    FAILED = "FAILED", _("failed (incident)")


class Digest(models.Model):
    """The daily digest mail of one user; one per user and day."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="one_digest_per_user_and_day")
        ]

    def __str__(self) -> str:
        return f"Digest {self.recipient_id} {self.day}"


class Notification(models.Model):
    """One notification of one user: inbox entry and e-mail outbox row."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    key = models.CharField(_("occasion key"), max_length=200)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    delivery = models.CharField(
        _("e-mail"), max_length=10, choices=Delivery.choices, default=Delivery.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # Set while the mail is claimed and on its way (notifications.delivery).
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    digest = models.ForeignKey(
        Digest, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], name="one_notification_per_occasion"
            ),
            models.CheckConstraint(
                condition=~Q(delivery__in=["SENT", "DIGESTED"]) | Q(delivered_at__isnull=False),
                name="delivered_notification_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["id"], condition=Q(delivery="PENDING"), name="notification_pending"
            ),
            models.Index(
                fields=["recipient"], condition=Q(delivery="DIGEST"), name="notification_digest"
            ),
        ]

    def __str__(self) -> str:
        return f"Notification {self.pk} ({self.kind})"


class EmailMode(models.TextChoices):
    IMMEDIATE = "IMMEDIATE", _("an e-mail for each notification")
    DIGEST = "DIGEST", _("one daily digest e-mail")


class NotificationPreference(models.Model):
    """How a user wants to be mailed; without a row: immediately."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="notification_preference",
    )
    email_mode = models.CharField(
        _("e-mail"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email_mode}"


class Incident(models.Model):
    """Background work that failed past its retry limit (RELIABILITY.md C7).

    One open incident per source and key; a repeated failure counts up.
    Operators see them in the admin and retry from there. `error` is an
    exception class name, never a message (messages can carry data).
    """

    source = models.CharField(_("source"), max_length=60)
    key = models.CharField(_("object"), max_length=100)
    error = models.CharField(_("error"), max_length=100)
    attempts = models.PositiveIntegerField(_("failures"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "key"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_incident_per_object",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.key}: {self.error}"
