"""Users, roles and the organisation: Kreis > Träger > team.

The Träger is the data controller (DOMAIN.md §8); personal data stays at
Träger level, figures roll up to the Kreis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Kreis(models.Model):
    """A Stadt- or Landkreis: the koordinierende Stelle."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    ags = models.CharField(_("Kreisschlüssel (AGS)"), max_length=8, unique=True)

    class Meta:
        verbose_name = _("Kreis")
        verbose_name_plural = _("Kreise")

    def __str__(self) -> str:
        return self.name


class Gemeinde(models.Model):
    name = models.CharField(_("name"), max_length=200)
    ags = models.CharField(_("Gemeindeschlüssel (AGS)"), max_length=8, unique=True)
    kreis = models.ForeignKey(
        Kreis, on_delete=models.PROTECT, related_name="gemeinden", verbose_name=_("Kreis")
    )

    class Meta:
        verbose_name = _("Gemeinde")
        verbose_name_plural = _("Gemeinden")

    def __str__(self) -> str:
        return f"{self.name} ({self.ags})"


class Traeger(models.Model):
    """The organisation that delivers the service and controls the data."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "MUNICIPALITY", _("municipality")
        DISTRICT = "DISTRICT", _("district")
        FREE_WELFARE = "FREE_WELFARE", _("free welfare organisation")
        CHURCH_WELFARE = "CHURCH_WELFARE", _("church welfare organisation")

    class DataProtectionRegime(models.TextChoices):
        DSGVO_LDSG_BW = "DSGVO_LDSG_BW", _("GDPR and LDSG BW")
        DSGVO_BDSG = "DSGVO_BDSG", _("GDPR and BDSG")
        KDG = "KDG", _("KDG (Catholic church)")
        DSG_EKD = "DSG_EKD", _("DSG-EKD (Protestant church)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    data_protection_regime = models.CharField(
        _("data protection regime"), max_length=20, choices=DataProtectionRegime.choices
    )
    kreis = models.ForeignKey(
        Kreis, on_delete=models.PROTECT, related_name="traeger", verbose_name=_("Kreis")
    )
    gemeinden = models.ManyToManyField(
        Gemeinde, blank=True, related_name="traeger", verbose_name=_("Gemeinden served")
    )

    class Meta:
        verbose_name = _("Träger")
        verbose_name_plural = _("Träger")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=200)
    traeger = models.ForeignKey(
        Traeger, on_delete=models.PROTECT, related_name="teams", verbose_name=_("Träger")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(
                fields=["traeger", "name"], name="team_name_unique_per_traeger"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.traeger})"


class Role(models.TextChoices):
    INTEGRATION_MANAGER = "INTEGRATION_MANAGER", _("integration manager")
    SUPERVISOR = "SUPERVISOR", _("supervisor (Teamleitung)")
    AUDITOR = "AUDITOR", _("auditor")
    GU_SOCIAL_WORKER = "GU_SOCIAL_WORKER", _("refugee social worker (GU)")
    DATA_PROTECTION_OFFICER = "DATA_PROTECTION_OFFICER", _("data protection officer")
    ADMINISTRATOR = "ADMINISTRATOR", _("administrator")
    # The koordinierende Stelle of a Kreis (DOMAIN.md §9, §14.6): the Kreis's
    # Kennzahlen and caseload figures, aggregated; no case, no name.
    COORDINATOR = "COORDINATOR", _("coordinating office (Kreis)")


class User(AbstractUser):
    """A person who signs in. Never deleted, only deactivated.

    Roles are exclusive on purpose: a supervisor who also counsels gets a
    second account, so that four-eyes decisions and case access stay
    apart.
    """

    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    traeger = models.ForeignKey(
        Traeger,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("Träger"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    # Only for the coordinating office: the Kreis whose figures it sees.
    kreis = models.ForeignKey(
        Kreis,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinators",
        verbose_name=_("Kreis"),
    )

    REQUIRED_FIELDS = ["email", "role"]

    if TYPE_CHECKING:
        # Set on the request's user by django_otp's OTPMiddleware.
        def is_verified(self) -> bool: ...

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            # Case-facing roles belong to a team; the team fixes the Träger.
            models.CheckConstraint(
                condition=~Q(role__in=["INTEGRATION_MANAGER", "SUPERVISOR"])
                | Q(team__isnull=False),
                name="user_case_roles_have_team",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["INTEGRATION_MANAGER", "SUPERVISOR", "AUDITOR"])
                | Q(traeger__isnull=False),
                name="user_case_roles_have_traeger",
            ),
            # The coordinating office belongs to a Kreis and to no Träger or
            # team (which would open their cases); no other role has a Kreis.
            models.CheckConstraint(
                condition=Q(role="COORDINATOR", kreis__isnull=False, traeger__isnull=True)
                & Q(team__isnull=True)
                | ~Q(role="COORDINATOR") & Q(kreis__isnull=True),
                name="user_kreis_only_for_the_coordinating_office",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_integration_manager(self) -> bool:
        return self.role == Role.INTEGRATION_MANAGER

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


class DeputyGrant(models.Model):
    """A time-bounded Vertretung: `deputy` acts on `principal`'s cases.

    Access ends at `valid_until` without grace (RELIABILITY.md P6).
    """

    principal = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="deputy_grants_given",
        verbose_name=_("absent integration manager"),
    )
    deputy = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="deputy_grants_received",
        verbose_name=_("deputy"),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    reason = models.CharField(_("reason"), max_length=200)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("granted by")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deputy grant")
        verbose_name_plural = _("deputy grants")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")), name="deputy_grant_window_positive"
            ),
            models.CheckConstraint(
                condition=~Q(principal=F("deputy")), name="deputy_grant_not_self"
            ),
        ]
        indexes = [models.Index(fields=["deputy", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.deputy} für {self.principal} bis {self.valid_until:%Y-%m-%d %H:%M}"


class DirectoryGroup(models.Model):
    """A group of the organisation's directory and the Lotse role it grants.

    `name` is what the directory reports: a group's DN for LDAP / Active
    Directory (`cn=im-nord,ou=groups,dc=kreis,dc=de`), the group's name or
    path in the OIDC `groups` claim (Keycloak `/lotse/im-nord`, an Entra ID
    group object id). Compared without regard to case. A user signing in
    through the directory gets the role and team of the group it is in,
    at every sign-in; in no mapped group, the sign-in is refused.
    """

    name = models.CharField(_("directory group"), max_length=500, unique=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    traeger = models.ForeignKey(
        Traeger, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("Träger")
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team")
    )
    kreis = models.ForeignKey(
        Kreis, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("Kreis")
    )

    class Meta:
        verbose_name = _("directory group")
        verbose_name_plural = _("directory groups")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="directory_group_role_valid"
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["INTEGRATION_MANAGER", "SUPERVISOR"])
                | Q(team__isnull=False),
                name="directory_group_case_roles_have_team",
            ),
            models.CheckConstraint(
                condition=~Q(role="AUDITOR") | Q(traeger__isnull=False) | Q(team__isnull=False),
                name="directory_group_auditor_has_traeger",
            ),
            models.CheckConstraint(
                condition=Q(role="COORDINATOR", kreis__isnull=False, traeger__isnull=True)
                & Q(team__isnull=True)
                | ~Q(role="COORDINATOR") & Q(kreis__isnull=True),
                name="directory_group_kreis_only_for_the_coordinating_office",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """An API token, stored only as the SHA-256 of its key.

    The key is shown once, to the user who asked for it with their own
    password (and second factor); nobody can read it back, not even an
    administrator. A token ends at `expires_at`, and at once when the
    account's password, activity, role or organisation unit changes
    (`account_stamp` no longer matches; see accounts.tokens).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    key_digest = models.CharField(_("key digest"), max_length=64, unique=True)
    prefix = models.CharField(_("key prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    mfa_verified = models.BooleanField(_("issued after the second factor"), default=False)
    account_stamp = models.CharField(_("account stamp"), max_length=64)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
