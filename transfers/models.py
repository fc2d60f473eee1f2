"""Transfer packages that left or reached this installation.

An exported package is recorded with its id, digest, target and the key it
was signed with (the case file itself left with the person). An imported
package keeps the case file it brought (`payload`), so the receiving
manager can read what the other installation recorded and where the clock
facts came from; the same package is never imported twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TransferPackage(models.Model):
    class Direction(models.TextChoices):
        EXPORTED = "EXPORTED", _("exported")
        IMPORTED = "IMPORTED", _("imported")

    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    package_id = models.UUIDField(_("package id"))
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    source_installation = models.CharField(_("sending installation"), max_length=200)
    target_installation = models.CharField(_("receiving installation"), max_length=200)
    key_id = models.CharField(_("signing key"), max_length=16)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    exported_at = models.DateTimeField(_("exported at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    payload = models.JSONField(_("case file received"), default=dict, blank=True)

    class Meta:
        verbose_name = _("transfer package")
        verbose_name_plural = _("transfer packages")
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "package_id"], name="transfer_package_once_per_direction"
            ),
        ]

    def __str__(self) -> str:
        return f"TransferPackage {self.package_id} ({self.direction})"
