"""The domain core: persons, households, the case and what happens in it.

`Case.status` moves only through `cases.services.case_transition`; the
`@transition` methods below declare the graph of DOMAIN.md §14.1 and set the
fields a transition changes. Guards, permissions and the audit event live
in the service, where `now` and the actor are known.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User

# --- catalogues ------------------------------------------------------------


class Catalogue(models.TextChoices):
    CONSULTATION_FORM = "CONSULTATION_FORM", _("consultation form")
    CONSULTATION_SETTING = "CONSULTATION_SETTING", _("consultation setting")
    CONSULTATION_TOPIC = "CONSULTATION_TOPIC", _("consultation topic")
    FIELD_OF_ACTION = "FIELD_OF_ACTION", _("field of action (Handlungsfeld)")
    REFERRAL_TARGET = "REFERRAL_TARGET", _("referral target")
    NETWORK_CONTACT_CATEGORY = "NETWORK_CONTACT_CATEGORY", _("network contact category")
    EXTENSION_REASON = "EXTENSION_REASON", _("extension reason")
    CLOSURE_REASON = "CLOSURE_REASON", _("closure reason")
    BENEFIT_STATUS = "BENEFIT_STATUS", _("benefit status")
    ACCOMMODATION_STAGE = "ACCOMMODATION_STAGE", _("accommodation stage")
    RESIDENCE_STATUS = "RESIDENCE_STATUS", _("residence status")
    LANGUAGE_LEVEL = "LANGUAGE_LEVEL", _("language level")


class CatalogueEntry(models.Model):
    """One value of a catalogue (DOMAIN.md §11, governance §14.4)."""

    catalogue = models.CharField(_("catalogue"), max_length=30, choices=Catalogue.choices)
    key = models.SlugField(_("key"), max_length=50)
    label_de = models.CharField(_("German label"), max_length=200)
    label_en = models.CharField(_("English label"), max_length=200)
    order = models.PositiveIntegerField(_("order"), default=0)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    official_mapping = models.CharField(_("official mapping"), max_length=50, blank=True)
    report_group = models.CharField(_("report group"), max_length=30, blank=True)
    version = models.PositiveIntegerField(_("catalogue version"), default=1)

    class Meta:
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "key"], name="catalogue_key_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="catalogue_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.catalogue}:{self.key}"

    def is_valid_on(self, day: date) -> bool:
        return (
            self.is_active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
        )


def _catalogue_fk(
    catalogue: Catalogue, verbose_name: StrOrPromise, **kwargs: Any
) -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        CatalogueEntry,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"catalogue": catalogue},
        verbose_name=verbose_name,
        **kwargs,
    )


# --- people ----------------------------------------------------------------


class Person(models.Model):
    """The client (personal data)."""

    class Sex(models.TextChoices):
        FEMALE = "FEMALE", _("female")
        MALE = "MALE", _("male")
        DIVERSE = "DIVERSE", _("diverse")
        UNKNOWN = "UNKNOWN", _("not stated")

    class Literacy(models.TextChoices):
        LITERATE = "LITERATE", _("literate")
        LIMITED = "LIMITED", _("limited")
        ILLITERATE = "ILLITERATE", _("illiterate")
        UNKNOWN = "UNKNOWN", _("unknown")

    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", verbose_name=_("Träger")
    )
    family_name = models.CharField(_("family name"), max_length=200)
    given_names = models.CharField(_("given names"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    date_of_birth_approximate = models.BooleanField(_("date of birth approximate"), default=False)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    nationality = models.CharField(_("nationality"), max_length=100, blank=True)
    languages = models.CharField(_("languages"), max_length=200, blank=True)
    literacy = models.CharField(
        _("literacy"), max_length=12, choices=Literacy.choices, default=Literacy.UNKNOWN
    )
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    gemeinde = models.ForeignKey(
        "accounts.Gemeinde",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Gemeinde"),
    )
    residence_status = _catalogue_fk(
        Catalogue.RESIDENCE_STATUS, _("residence status"), null=True, blank=True
    )
    benefit_status = _catalogue_fk(
        Catalogue.BENEFIT_STATUS, _("benefit status"), null=True, blank=True
    )
    accommodation_stage = _catalogue_fk(
        Catalogue.ACCOMMODATION_STAGE, _("accommodation stage"), null=True, blank=True
    )
    au_allocation_date = models.DateField(_("AU allocation date"), null=True, blank=True)
    ukraine_displaced = models.BooleanField(_("displaced from Ukraine"), default=False)
    obliged_to_leave = models.BooleanField(_("obliged to leave (ausreisepflichtig)"), default=False)
    prior_consultation_start = models.DateField(
        _("earlier consultation start (other Gemeinde)"), null=True, blank=True
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Raised by every edit of the person's data (`person_update`): an edit
    # made on an older version is refused (RELIABILITY.md W4).
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return f"Person {self.pk}"


class Household(models.Model):
    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", verbose_name=_("Träger")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    gemeinde = models.ForeignKey(
        "accounts.Gemeinde",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Gemeinde"),
    )
    members = models.ManyToManyField(
        Person, through="HouseholdMembership", related_name="households", verbose_name=_("members")
    )
    # Raised by every edit of the household and its members (see Person).
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"Household {self.pk}"


class HouseholdMembership(models.Model):
    class Relation(models.TextChoices):
        HEAD = "HEAD", _("contact person")
        SPOUSE = "SPOUSE", _("spouse or partner")
        CHILD = "CHILD", _("child")
        PARENT = "PARENT", _("parent")
        SIBLING = "SIBLING", _("sibling")
        GUARDIAN = "GUARDIAN", _("guardian")
        WARD = "WARD", _("ward")
        OTHER = "OTHER", _("other")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)

    class Meta:
        verbose_name = _("household membership")
        verbose_name_plural = _("household memberships")
        constraints = [
            models.UniqueConstraint(fields=["household", "person"], name="household_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.household} ({self.relation})"


# --- the case --------------------------------------------------------------


class CaseStatus(models.TextChoices):
    REGISTERED = "REGISTERED", _("registered")
    INITIAL_COUNSELLING = "INITIAL_COUNSELLING", _("initial counselling")
    PLANNING = "PLANNING", _("planning")
    ACTIVE = "ACTIVE", _("active")
    DORMANT = "DORMANT", _("dormant")
    CLOSING = "CLOSING", _("closing")
    CLOSED = "CLOSED", _("closed")
    REJECTED = "REJECTED", _("not admitted")
    DELETED = "DELETED", _("deleted")


S = CaseStatus
FINAL_STATES = (S.REJECTED, S.DELETED)
OPEN_STATES = (S.REGISTERED, S.INITIAL_COUNSELLING, S.PLANNING, S.ACTIVE, S.DORMANT, S.CLOSING)
CLOCK_STATES = (S.INITIAL_COUNSELLING, S.PLANNING, S.ACTIVE, S.DORMANT)


class Case(ConcurrentTransitionMixin, models.Model):
    """A Beratungsfall: one per person and programme at a time."""

    class Programme(models.TextChoices):
        BW_IM = "BW_IM", _("Integrationsmanagement Baden-Württemberg")
        NRW_KIM = "NRW_KIM", _("Kommunales Integrationsmanagement NRW")

    class IntakeChannel(models.TextChoices):
        HANDOVER_FSA = "HANDOVER_FSA", _("handover from the refugee social work")
        AUTHORITY_ALLOCATION = "AUTHORITY_ALLOCATION", _("allocation by the authority")
        SELF_REFERRAL = "SELF_REFERRAL", _("self-referral")
        OUTREACH = "OUTREACH", _("outreach")
        REFERRAL_OTHER_SERVICE = "REFERRAL_OTHER_SERVICE", _("referral by another service")

    class EligibilityBasis(models.TextChoices):
        FOLLOW_UP_ACCOMMODATION = (
            "FOLLOW_UP_ACCOMMODATION",
            _("Anschlussunterbringung (§§ 17, 18 FlüAG)"),
        )
        UKRAINE = "UKRAINE", _("displaced from Ukraine (§ 24 AufenthG)")
        NONE = "NONE", _("neither")

    class RejectionReason(models.TextChoices):
        NOT_TARGET_GROUP = "NOT_TARGET_GROUP", _("not in the target group")
        NO_QUALIFYING_BENEFITS = "NO_QUALIFYING_BENEFITS", _("no qualifying benefits")
        OBLIGED_TO_LEAVE = "OBLIGED_TO_LEAVE", _("obliged to leave")
        DECLINED_PARTICIPATION = "DECLINED_PARTICIPATION", _("declined to take part")
        NO_SHOW = "NO_SHOW", _("never reached (no first consultation)")

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="cases", verbose_name=_("person")
    )
    programme = models.CharField(
        _("programme"), max_length=10, choices=Programme.choices, default=Programme.BW_IM
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=CaseStatus.choices,
        default=S.REGISTERED,
        protected=True,
    )
    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", verbose_name=_("Träger")
    )
    gemeinde = models.ForeignKey(
        "accounts.Gemeinde",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Gemeinde"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_cases",
        verbose_name=_("integration manager"),
    )
    intake_channel = models.CharField(
        _("intake channel"), max_length=30, choices=IntakeChannel.choices
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("household"),
    )
    registered_at = models.DateTimeField(_("registered at"))
    handover_accepted_at = models.DateTimeField(_("handover accepted at"), null=True, blank=True)
    anonymous_mode = models.BooleanField(_("anonymous counselling"), default=False)
    legal_hold = models.BooleanField(_("legal hold"), default=False)

    eligibility_basis = models.CharField(
        _("eligibility basis"), max_length=30, choices=EligibilityBasis.choices, blank=True
    )
    eligibility_checked_at = models.DateTimeField(
        _("eligibility checked at"), null=True, blank=True
    )
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=30, choices=RejectionReason.choices, blank=True
    )

    consultation_start = models.DateField(_("consultation period start"), null=True, blank=True)
    regular_end = models.DateField(_("regular end"), null=True, blank=True)
    effective_end = models.DateField(_("effective end"), null=True, blank=True)
    next_review_at = models.DateField(_("next plan review"), null=True, blank=True)

    plan_declined = models.BooleanField(_("plan declined"), default=False)
    plan_declined_reason = models.CharField(
        _("why the plan was declined"), max_length=300, blank=True
    )
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    closing_ground = models.CharField(_("ground for closing"), max_length=30, blank=True)
    closure_reason = _catalogue_fk(
        Catalogue.CLOSURE_REASON, _("closure reason"), null=True, blank=True
    )
    no_further_need = models.BooleanField(_("no further need stated"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "programme"],
                condition=Q(status__in=[s.value for s in OPEN_STATES]),
                name="one_open_case_per_person_and_programme",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(regular_end__isnull=True)
                | Q(consultation_start__isnull=False, regular_end__gt=F("consultation_start")),
                name="case_regular_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(effective_end__isnull=True)
                | Q(regular_end__isnull=False, effective_end__gte=F("regular_end")),
                name="case_effective_end_not_before_regular_end",
            ),
            models.CheckConstraint(
                condition=~Q(status=S.CLOSED)
                | Q(closed_at__isnull=False, closure_reason__isnull=False),
                name="case_closed_has_reason_and_time",
            ),
        ]
        indexes = [
            # A manager's or a team's cases by status, and those whose period
            # ends in a window ("ending within 90 days"): without the end
            # date PostgreSQL ANDed this index with the effective_end index,
            # reading the whole window for every manager (`make bench`).
            models.Index(
                fields=["owner", "status", "effective_end"], name="case_owner_status_end_idx"
            ),
            models.Index(fields=["effective_end"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"

    # The transitions. Bodies set only what the transition itself changes;
    # the service computes the values and runs the guards first.

    @transition(field=status, source=S.REGISTERED, target=S.INITIAL_COUNSELLING)
    def record_first_consultation(
        self,
        *,
        basis: str,
        checked_at: datetime,
        start: date,
        regular_end: date,
        effective_end: date | None = None,
    ) -> None:
        self.eligibility_basis = basis
        self.eligibility_checked_at = checked_at
        self.consultation_start = start
        self.regular_end = regular_end
        # The person's period: extended already when they used their
        # extension in an earlier case or elsewhere.
        self.effective_end = effective_end or regular_end

    @transition(field=status, source=S.REGISTERED, target=S.REJECTED)
    def reject_ineligible(self, *, reason: str, checked_at: datetime) -> None:
        self.rejection_reason = reason
        self.eligibility_checked_at = checked_at

    @transition(field=status, source=S.REGISTERED, target=S.REJECTED)
    def no_show_timeout(self) -> None:
        self.rejection_reason = Case.RejectionReason.NO_SHOW

    @transition(field=status, source=S.INITIAL_COUNSELLING, target=S.PLANNING)
    def draft_plan(self) -> None:
        pass

    @transition(field=status, source=S.PLANNING, target=S.ACTIVE)
    def agree_plan(self, *, next_review_at: date) -> None:
        self.next_review_at = next_review_at

    @transition(field=status, source=S.PLANNING, target=S.ACTIVE)
    def decline_plan(self, *, reason: str) -> None:
        self.plan_declined = True
        self.plan_declined_reason = reason
        self.next_review_at = None

    @transition(field=status, source=S.ACTIVE, target=S.ACTIVE)
    def review_plan(self, *, next_review_at: date) -> None:
        self.next_review_at = next_review_at

    @transition(field=status, source=S.ACTIVE, target=S.DORMANT)
    def pause(self, *, at: datetime) -> None:
        self.paused_at = at

    @transition(field=status, source=S.DORMANT, target=S.ACTIVE)
    def resume(self) -> None:
        self.paused_at = None

    @transition(field=status, source=[S.ACTIVE, S.DORMANT], target=S.CLOSING)
    def start_closing(self, *, ground: str) -> None:
        self.closing_ground = ground

    @transition(field=status, source=list(CLOCK_STATES), target=S.CLOSING)
    def period_expired(self) -> None:
        self.closing_ground = "PERIOD_EXPIRED"

    @transition(field=status, source=S.DORMANT, target=S.CLOSING)
    def no_contact_timeout(self) -> None:
        self.closing_ground = "NO_CONTACT"

    @transition(field=status, source=S.CLOSING, target=S.CLOSED)
    def close(self, *, reason: CatalogueEntry, no_further_need: bool, at: datetime) -> None:
        self.closure_reason = reason
        self.no_further_need = no_further_need
        self.closed_at = at

    @transition(field=status, source=list(OPEN_STATES), target=S.CLOSED)
    def withdraw_consent(self, *, reason: CatalogueEntry, at: datetime) -> None:
        self.closure_reason = reason
        self.closed_at = at

    @transition(field=status, source=S.CLOSED, target=S.ACTIVE)
    def reopen(self) -> None:
        self.closure_reason = None
        self.closed_at = None
        self.closing_ground = ""
        self.no_further_need = False

    @transition(field=status, source=[S.CLOSED, S.REJECTED], target=S.DELETED)
    def retention_elapsed(self, *, at: datetime) -> None:
        self.deleted_at = at


class Consent(models.Model):
    """A documented, revocable consent (Art. 7 DSGVO)."""

    class Scope(models.TextChoices):
        CASE_PROCESSING = "CASE_PROCESSING", _("case processing")
        SPECIAL_CATEGORIES_ART9 = "SPECIAL_CATEGORIES_ART9", _("special categories (Art. 9)")
        HANDOVER_IN = "HANDOVER_IN", _("handover from the GU")
        HANDOVER_OUT = "HANDOVER_OUT", _("handover to another service")
        TRANSFER_TO_RECIPIENT = "TRANSFER_TO_RECIPIENT", _("transfer to a recipient")
        TEAM_SHARING = "TEAM_SHARING", _("sharing within the team")
        MESSENGER_CONTACT = "MESSENGER_CONTACT", _("contact by messenger")

    class Form(models.TextChoices):
        SIGNED_PAPER = "SIGNED_PAPER", _("signed on paper")
        E_SIGNATURE = "E_SIGNATURE", _("electronic signature")
        DOCUMENTED_VERBAL = "DOCUMENTED_VERBAL", _("documented verbal consent")

    class LegalBasis(models.TextChoices):
        CONSENT_ART6_1A = "CONSENT_ART6_1A", _("consent, Art. 6(1)(a) GDPR")
        CONSENT_ART9_2A = "CONSENT_ART9_2A", _("explicit consent, Art. 9(2)(a) GDPR")

    class GivenBy(models.TextChoices):
        PERSON = "PERSON", _("the person")
        LEGAL_GUARDIAN = "LEGAL_GUARDIAN", _("legal guardian (minor)")

    class WithdrawalChannel(models.TextChoices):
        IN_PERSON = "IN_PERSON", _("in person")
        WRITTEN = "WRITTEN", _("in writing")
        PHONE = "PHONE", _("by phone")
        EMAIL = "EMAIL", _("by e-mail")
        MESSENGER = "MESSENGER", _("by messenger")
        REPRESENTATIVE = "REPRESENTATIVE", _("through a representative")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    scope = models.CharField(_("scope"), max_length=30, choices=Scope.choices)
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=20,
        choices=LegalBasis.choices,
        default=LegalBasis.CONSENT_ART6_1A,
    )
    given_by = models.CharField(
        _("given by"), max_length=15, choices=GivenBy.choices, default=GivenBy.PERSON
    )
    guardian_name = models.CharField(_("name of the legal guardian"), max_length=200, blank=True)
    recipient = models.CharField(_("recipient and purpose"), max_length=200, blank=True)
    purpose_version = models.CharField(
        _("version of the information text"), max_length=50, blank=True
    )
    form = models.CharField(_("form"), max_length=20, choices=Form.choices)
    language = models.CharField(_("language of the information"), max_length=50)
    interpreter = models.CharField(_("interpreter"), max_length=100, blank=True)
    interpreter_language = models.CharField(_("interpreter language"), max_length=50, blank=True)
    given_at = models.DateTimeField(_("given at"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_channel = models.CharField(
        _("withdrawn how"), max_length=15, choices=WithdrawalChannel.choices, blank=True
    )
    evidence = models.ForeignKey(
        "Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evidence document (scan)"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=F("given_at")),
                name="consent_withdrawn_after_given",
            ),
            # Art. 9 data need explicit consent under Art. 9(2)(a).
            models.CheckConstraint(
                condition=~Q(scope="SPECIAL_CATEGORIES_ART9") | Q(legal_basis="CONSENT_ART9_2A"),
                name="consent_art9_scope_has_art9_basis",
            ),
            models.CheckConstraint(
                condition=~Q(given_by="LEGAL_GUARDIAN") | ~Q(guardian_name=""),
                name="consent_by_guardian_names_the_guardian",
            ),
            # A withdrawal channel only with a withdrawal (consents withdrawn
            # before the channel was recorded keep an empty one).
            models.CheckConstraint(
                condition=Q(withdrawal_channel="") | Q(withdrawn_at__isnull=False),
                name="consent_withdrawal_channel_only_when_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent {self.pk} ({self.scope})"

    def is_active_at(self, now: datetime) -> bool:
        return (
            self.given_at <= now
            and self.withdrawn_at is None
            and (self.valid_until is None or now < self.valid_until)
        )


class Assessment(models.Model):
    """Erstberatung / Bedarfsermittlung (re-assessment allowed)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"))
    interpreter_language = models.CharField(_("interpreter language"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The review at which the needs were assessed again (None: the first
    # assessment or one between reviews); cancelled_at: recorded in error.
    plan_review = models.ForeignKey(
        "PlanReview",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
        verbose_name=_("plan review"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("needs assessment")
        verbose_name_plural = _("needs assessments")

    def __str__(self) -> str:
        return f"Assessment {self.pk} of case {self.case_id}"


class NeedLevel(models.TextChoices):
    NONE = "NONE", _("none")
    LOW = "LOW", _("low")
    MEDIUM = "MEDIUM", _("medium")
    HIGH = "HIGH", _("high")


class AssessmentItem(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    field_of_action = _catalogue_fk(Catalogue.FIELD_OF_ACTION, _("field of action"))
    need_level = models.CharField(_("need"), max_length=10, choices=NeedLevel.choices)
    situation = models.TextField(_("current situation"), blank=True)
    resources = models.TextField(_("resources and strengths"), blank=True)
    client_wishes = models.TextField(_("client's own wishes"), blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=2)

    class Meta:
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "field_of_action"], name="assessment_field_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}:{self.field_of_action_id}={self.need_level}"


class IntegrationPlan(models.Model):
    """One version of the Integrationsplan; a review creates the next."""

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("draft")
        AGREED = "AGREED", _("agreed")
        SUPERSEDED = "SUPERSEDED", _("superseded")
        CLOSED = "CLOSED", _("closed")
        # A change of the agreed plan awaiting the client's agreement; the
        # agreed version stays in force until then.
        REVISION = "REVISION", _("change awaiting agreement")

    class AgreementForm(models.TextChoices):
        SIGNATURE = "SIGNATURE", _("signature")
        E_SIGNATURE = "E_SIGNATURE", _("electronic signature")
        DOCUMENTED_VERBAL = "DOCUMENTED_VERBAL", _("documented verbal consent")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    created_at = models.DateTimeField(_("created at"))
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    agreement_form = models.CharField(
        _("agreement form"), max_length=20, choices=AgreementForm.choices, blank=True
    )
    agreement_language = models.CharField(_("language"), max_length=50, blank=True)
    interpreter = models.CharField(_("interpreter"), max_length=100, blank=True)
    copy_handed_over = models.BooleanField(_("copy handed to the client"), default=False)
    next_review_at = models.DateField(_("next review"), null=True, blank=True)
    situation_summary = models.TextField(_("situation summary"), blank=True)

    class Meta:
        verbose_name = _("Integrationsplan")
        verbose_name_plural = _("Integrationspläne")
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="plan_version_unique"),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["DRAFT", "AGREED"]),
                name="one_current_plan_per_case",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="REVISION"), name="one_plan_change_per_case"
            ),
            models.CheckConstraint(
                condition=~Q(status="AGREED") | Q(agreed_at__isnull=False),
                name="agreed_plan_has_agreement_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan v{self.version} of case {self.case_id}"


class PlanReview(models.Model):
    """A Fortschreibung: the review that produced `plan` from its predecessor."""

    plan = models.OneToOneField(IntegrationPlan, on_delete=models.PROTECT, related_name="review")
    reviewed_on = models.DateField(_("reviewed on"))
    participants = models.CharField(_("participants"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("plan review")
        verbose_name_plural = _("plan reviews")

    def __str__(self) -> str:
        return f"Review of plan {self.plan_id}"


class GoalStatus(models.TextChoices):
    NEW = "NEW", _("new")
    PROPOSED = "PROPOSED", _("proposed")
    AGREED = "AGREED", _("agreed")
    IN_PROGRESS = "IN_PROGRESS", _("in progress")
    PAUSED = "PAUSED", _("paused")
    ACHIEVED = "ACHIEVED", _("achieved")
    PARTIALLY_ACHIEVED = "PARTIALLY_ACHIEVED", _("partially achieved")
    NOT_ACHIEVED = "NOT_ACHIEVED", _("not achieved")
    DROPPED = "DROPPED", _("dropped")


FINAL_GOAL_STATES = (
    GoalStatus.ACHIEVED,
    GoalStatus.PARTIALLY_ACHIEVED,
    GoalStatus.NOT_ACHIEVED,
    GoalStatus.DROPPED,
)


class Goal(models.Model):
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="goals")
    origin = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("same goal in the previous version"),
    )
    field_of_action = _catalogue_fk(Catalogue.FIELD_OF_ACTION, _("field of action"))
    catalogue_goal = models.ForeignKey(
        "GoalCatalogueEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("goal from the catalogue"),
    )
    title = models.CharField(_("goal"), max_length=300)
    success_criterion = models.CharField(_("success criterion"), max_length=300, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=2)
    status = models.CharField(
        _("status"), max_length=20, choices=GoalStatus.choices, default=GoalStatus.PROPOSED
    )
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=[s.value for s in FINAL_GOAL_STATES])
                | Q(closed_at__isnull=False),
                name="final_goal_has_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Goal {self.pk} ({self.status})"


class Measure(models.Model):
    class Responsible(models.TextChoices):
        CLIENT = "CLIENT", _("client")
        INTEGRATION_MANAGER = "INTEGRATION_MANAGER", _("integration manager")
        SERVICE = "SERVICE", _("regular service")
        VOLUNTEER = "VOLUNTEER", _("volunteer")
        FAMILY = "FAMILY", _("family")

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="measures")
    description = models.CharField(_("step"), max_length=300)
    responsible = models.CharField(_("responsible"), max_length=20, choices=Responsible.choices)
    referral = models.ForeignKey(
        "Referral", on_delete=models.SET_NULL, null=True, blank=True, related_name="measures"
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")

    def __str__(self) -> str:
        return f"Measure {self.pk} of goal {self.goal_id}"


class Consultation(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "COMPLETED", _("completed")
        NO_SHOW = "NO_SHOW", _("no-show")
        CANCELLED = "CANCELLED", _("cancelled")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    held_on = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    form = _catalogue_fk(Catalogue.CONSULTATION_FORM, _("form"))
    setting = _catalogue_fk(Catalogue.CONSULTATION_SETTING, _("setting"))
    topics = models.ManyToManyField(
        CatalogueEntry,
        through="ConsultationTopic",
        related_name="+",
        limit_choices_to={"catalogue": Catalogue.CONSULTATION_TOPIC},
        verbose_name=_("topics"),
    )
    participants = models.ManyToManyField(
        Person,
        through="ConsultationParticipant",
        related_name="consultations",
        blank=True,
        verbose_name=_("participants"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.COMPLETED
    )
    interpreter = models.CharField(_("interpreter"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The talk that prepares the final referral: the only consultation
    # possible after the end of the person's consultation period.
    final_referral = models.BooleanField(
        _("for the final referral"), default=False, db_default=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    # Copies of the case's Träger and Gemeinde for the Kennzahlen, like
    # those on the topic and participant links (see _ConsultationLink).
    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    gemeinde = models.ForeignKey(
        "accounts.Gemeinde",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=720),
                name="consultation_duration_range",
            ),
        ]
        # K2 and its breakdowns from the index alone: by day for the Land,
        # by Träger or Gemeinde and day for a Kreis, a Träger, a Gemeinde
        # (INCLUDE is PostgreSQL; elsewhere only the key columns).
        indexes = [
            models.Index(fields=["case", "held_on"]),
            *(
                models.Index(
                    fields=[*key, "held_on"],
                    include=["status", "form", "setting", "duration_minutes"],
                    name=name,
                )
                for key, name in (
                    ((), "cases_consult_day_idx"),
                    (("traeger",), "cases_consult_traeger_idx"),
                    (("gemeinde",), "cases_consult_gemeinde_idx"),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation {self.pk} of case {self.case_id}"


class _ConsultationLink(models.Model):
    """A row linking a consultation to one of its topics or participants,
    with copies of what the Kennzahlen filter by (DOMAIN.md §14.3).

    K1 (persons) and K2b (topics) count these rows: about three million at
    state scale. Read through the consultation and its case, every report
    joined two tables per row; with the consultation's date and status and
    the case's Träger and Gemeinde on the row, one covering index answers
    the Land, a Kreis, a Träger or a Gemeinde (`make bench`).

    The copies (here and the consultation's own Träger and Gemeinde) are
    written with the consultation by `consultation_record`; the services
    that change a source write the copies with it in the same transaction
    (corrections: a consultation's date or status; the transfer to another
    Träger: the case's Träger).
    `tests/cases/test_report_copies.py` fails when code starts to write
    one of them, so that such a change has to update the copies with it.
    """

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    held_on = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=10, choices=Consultation.Status.choices)
    traeger = models.ForeignKey(
        "accounts.Traeger", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    gemeinde = models.ForeignKey(
        "accounts.Gemeinde",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True


def consultation_link_copies(consultation: Consultation) -> dict[str, object]:
    """Return the report columns of a link of `consultation`."""
    return {
        "held_on": consultation.held_on,
        "status": consultation.status,
        "traeger_id": consultation.traeger_id,
        "gemeinde_id": consultation.gemeinde_id,
    }


def _report_indexes(table: str, counted: str) -> list[models.Index]:
    """Covering indexes of the completed links: by day (the Land), by
    Träger and day (a Träger, a Kreis), by Gemeinde and day."""
    done = Q(status="COMPLETED")
    return [
        models.Index(
            fields=["held_on"], include=[counted], condition=done, name=f"{table}_day_idx"
        ),
        models.Index(
            fields=["traeger", "held_on"],
            include=[counted],
            condition=done,
            name=f"{table}_traeger_idx",
        ),
        models.Index(
            fields=["gemeinde", "held_on"],
            include=[counted],
            condition=done,
            name=f"{table}_gemeinde_idx",
        ),
    ]


class ConsultationTopic(_ConsultationLink):
    """A topic of a consultation (K2b)."""

    catalogueentry = models.ForeignKey(CatalogueEntry, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "cases_consultation_topics"
        verbose_name = _("consultation topic")
        verbose_name_plural = _("consultation topics")
        unique_together = [("consultation", "catalogueentry")]
        indexes = _report_indexes("cases_ctopic", "catalogueentry")

    def __str__(self) -> str:
        return f"Topic {self.catalogueentry_id} of consultation {self.consultation_id}"


class ConsultationParticipant(_ConsultationLink):
    """A person who took part in a consultation (K1)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "cases_consultation_participants"
        verbose_name = _("consultation participant")
        verbose_name_plural = _("consultation participants")
        unique_together = [("consultation", "person")]
        indexes = _report_indexes("cases_cpart", "person")

    def __str__(self) -> str:
        return f"Person {self.person_id} in consultation {self.consultation_id}"


class Referral(models.Model):
    class Mode(models.TextChoices):
        INFORMATION_ONLY = "INFORMATION_ONLY", _("information only")
        APPOINTMENT_ARRANGED = "APPOINTMENT_ARRANGED", _("appointment arranged")
        ACCOMPANIED = "ACCOMPANIED", _("accompanied")
        WRITTEN_REFERRAL = "WRITTEN_REFERRAL", _("written referral")

    class Outcome(models.TextChoices):
        PENDING = "PENDING", _("pending")
        TAKEN_UP = "TAKEN_UP", _("taken up")
        NOT_TAKEN_UP = "NOT_TAKEN_UP", _("not taken up")
        UNKNOWN = "UNKNOWN", _("unknown")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    referred_on = models.DateField(_("date"))
    target_service = _catalogue_fk(Catalogue.REFERRAL_TARGET, _("target service"))
    topic = _catalogue_fk(Catalogue.CONSULTATION_TOPIC, _("topic"), null=True, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    mode = models.CharField(_("mode"), max_length=25, choices=Mode.choices)
    is_final = models.BooleanField(_("final referral"), default=False)
    outcome = models.CharField(
        _("outcome"), max_length=15, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_date = models.DateField(_("outcome date"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return f"Referral {self.pk} of case {self.case_id}"


class ExtensionStatus(models.TextChoices):
    DRAFT = "DRAFT", _("draft")
    SUBMITTED = "SUBMITTED", _("submitted")
    APPROVED = "APPROVED", _("approved")
    REJECTED = "REJECTED", _("rejected")
    WITHDRAWN = "WITHDRAWN", _("withdrawn")


E = ExtensionStatus


class ExtensionRequest(ConcurrentTransitionMixin, models.Model):
    """Verlängerungsantrag with four-eyes approval."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extension_requests")
    reason = _catalogue_fk(Catalogue.EXTENSION_REASON, _("reason"))
    justification = models.TextField(_("justification"))
    months = models.PositiveSmallIntegerField(_("months"))
    status = FSMField(
        _("status"),
        max_length=10,
        choices=ExtensionStatus.choices,
        default=E.DRAFT,
        protected=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    resulting_effective_end = models.DateField(_("resulting end"), null=True, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.CheckConstraint(
                condition=~Q(decided_by=F("requested_by")), name="extension_approver_not_requester"
            ),
            models.CheckConstraint(
                condition=Q(months__gte=1, months__lte=12), name="extension_months_range"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="APPROVED"),
                name="at_most_one_approved_extension_per_case",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["DRAFT", "SUBMITTED"]),
                name="at_most_one_open_extension_request_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["APPROVED", "REJECTED"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="decided_extension_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"Extension request {self.pk} of case {self.case_id}"

    @transition(field=status, source=E.DRAFT, target=E.SUBMITTED)
    def submit(self, *, at: datetime) -> None:
        self.submitted_at = at

    @transition(field=status, source=E.SUBMITTED, target=E.APPROVED)
    def approve(self, *, by: User, at: datetime, note: str, effective_end: date) -> None:
        self.decided_by = by
        self.decided_at = at
        self.decision_note = note
        self.resulting_effective_end = effective_end

    @transition(field=status, source=E.SUBMITTED, target=E.REJECTED)
    def reject(self, *, by: User, at: datetime, note: str) -> None:
        self.decided_by = by
        self.decided_at = at
        self.decision_note = note

    @transition(field=status, source=[E.DRAFT, E.SUBMITTED], target=E.WITHDRAWN)
    def withdraw(self, *, at: datetime) -> None:
        self.decided_at = at


class NetworkContact(models.Model):
    """Netzwerkkontakt: never about a client, never with client identifiers."""

    class Format(models.TextChoices):
        MEETING = "MEETING", _("meeting")
        PHONE = "PHONE", _("phone")
        WORKING_GROUP = "WORKING_GROUP", _("working group")
        EVENT = "EVENT", _("event")
        EMAIL = "EMAIL", _("e-mail")

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="network_contacts"
    )
    contact_date = models.DateField(_("date"))
    category = _catalogue_fk(Catalogue.NETWORK_CONTACT_CATEGORY, _("category"))
    organisation = models.CharField(_("organisation"), max_length=200)
    format = models.CharField(_("format"), max_length=15, choices=Format.choices)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("network contact")
        verbose_name_plural = _("network contacts")

    def __str__(self) -> str:
        return f"Network contact {self.pk}"


class Document(models.Model):
    class Kind(models.TextChoices):
        CONSENT_FORM = "CONSENT_FORM", _("consent form")
        PLAN_PDF = "PLAN_PDF", _("plan")
        CERTIFICATE = "CERTIFICATE", _("certificate")
        MEDICAL_PROOF = "MEDICAL_PROOF", _("medical proof")
        LETTER = "LETTER", _("letter")
        OTHER = "OTHER", _("other")
        RECOGNITION = "RECOGNITION", _("recognition of a qualification")
        IDENTITY_COPY = "IDENTITY_COPY", _("copy of an identity document")

    class Sensitivity(models.TextChoices):
        NORMAL = "NORMAL", _("normal")
        ART9 = "ART9", _("special category (Art. 9)")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=10, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )
    file = models.FileField(_("file"), upload_to="documents/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    language = models.CharField(_("language"), max_length=50, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))
    # What the manager called it, the file's own name and what its content
    # is (checked by its first bytes), its size, and until when it is kept.
    title = models.CharField(_("title"), max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("file type"), max_length=50, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0, db_default=0)
    retain_until = models.DateField(_("keep until"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["case", "-uploaded_at"], name="cases_document_case_idx")]

    def __str__(self) -> str:
        return f"Document {self.pk} of case {self.case_id}"


# --- the goal catalogue ------------------------------------------------------------


class GoalCatalogueEntry(models.Model):
    """A goal of the catalogue, under its field of action (K4 counts the
    goals of a plan by these entries, as the Land's sheet lists its most
    frequent goals; a goal in free wording has none). Edited in the admin;
    keys are fixed once created, entries are retired, never deleted."""

    field_of_action = _catalogue_fk(Catalogue.FIELD_OF_ACTION, _("field of action"))
    key = models.SlugField(_("key"), max_length=50, unique=True)
    label_de = models.CharField(_("German label"), max_length=200)
    label_en = models.CharField(_("English label"), max_length=200)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("catalogue goal")
        verbose_name_plural = _("goal catalogue")

    def __str__(self) -> str:
        return self.label_de


class PersonClockFact(models.Model):
    """A fact about the person's consultation period known from elsewhere
    (a migrated caseload, a transfer from another installation, another
    Träger's records): the start of their period or the extension already
    used, with its source and evidence. Written only by
    `cases.services.person_clock_fact_record`; the person's clock
    (`cases.person_clock.person_clock`) takes the earliest start and the
    one extension from these rows and from the person's own cases."""

    class Source(models.TextChoices):
        MIGRATION = "MIGRATION", _("migrated caseload")
        TRANSFER = "TRANSFER", _("transfer from another installation")
        OTHER_TRAEGER = "OTHER_TRAEGER", _("another Träger or Gemeinde")
        HANDOVER = "HANDOVER", _("handover from the GU")

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="clock_facts", verbose_name=_("person")
    )
    source = models.CharField(_("source"), max_length=15, choices=Source.choices)
    evidence = models.TextField(_("evidence"))
    first_consultation_on = models.DateField(_("first consultation on"), null=True, blank=True)
    extension_months = models.PositiveSmallIntegerField(
        _("extension (months)"), null=True, blank=True
    )
    extension_reason = _catalogue_fk(
        Catalogue.EXTENSION_REASON, _("extension reason"), null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("clock fact")
        verbose_name_plural = _("clock facts")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_consultation_on__isnull=False)
                | Q(extension_months__isnull=False),
                name="clock_fact_states_something",
            ),
            models.CheckConstraint(
                condition=Q(extension_months__isnull=True)
                | Q(extension_months__gte=1, extension_months__lte=12),
                name="clock_fact_extension_months_range",
            ),
            models.CheckConstraint(
                condition=Q(extension_reason__isnull=True) | Q(extension_months__isnull=False),
                name="clock_fact_reason_needs_extension",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(extension_months__isnull=False),
                name="clock_fact_one_extension_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Clock fact {self.pk} of person {self.person_id}"


class Correction(models.Model):
    """A correction or cancellation of an entry recorded in error, with the
    reason a person gave and the entry's fields before and after.

    The audit event of the same change keeps the field changes (values
    for codes and dates, digests for text); this row keeps the readable
    reason and the text before and after for the case's managers, and is
    case data (anonymised with the case). Network contacts are about no
    client: their corrections have no case.
    """

    class Action(models.TextChoices):
        CORRECTED = "CORRECTED", _("corrected")
        CANCELLED = "CANCELLED", _("cancelled")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    object_type = models.CharField(_("kind of entry"), max_length=30)
    object_id = models.PositiveBigIntegerField(_("entry"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.CharField(_("reason"), max_length=300)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(_("corrected at"))

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        indexes = [models.Index(fields=["case", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"Correction {self.pk} of {self.object_type} {self.object_id}"


class CvEntry(models.Model):
    """One line of the client's CV / competence profile (Lebenslauf):
    education, work, a language with its level, a certificate."""

    class Kind(models.TextChoices):
        EDUCATION = "EDUCATION", _("education")
        WORK = "WORK", _("work experience")
        LANGUAGE = "LANGUAGE", _("language")
        CERTIFICATE = "CERTIFICATE", _("certificate")

    class Level(models.TextChoices):
        NATIVE = "NATIVE", _("native language")
        A1 = "A1", _("A1 (beginner)")
        A2 = "A2", _("A2 (elementary)")
        B1 = "B1", _("B1 (intermediate)")
        B2 = "B2", _("B2 (upper intermediate)")
        C1 = "C1", _("C1 (advanced)")
        C2 = "C2", _("C2 (proficient)")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="cv_entries")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    title = models.CharField(_("what"), max_length=200)
    organisation = models.CharField(
        _("where (school, employer, issuer)"), max_length=200, blank=True
    )
    place = models.CharField(_("place or country"), max_length=100, blank=True)
    started_on = models.DateField(_("from"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    recognised = models.BooleanField(_("recognised in Germany"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("CV entry")
        verbose_name_plural = _("CV entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="cv_entry_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="LANGUAGE") | ~Q(level=""),
                name="cv_language_has_level",
            ),
        ]

    def __str__(self) -> str:
        return f"CV entry {self.pk} of case {self.case_id}"
