"""REST API v1 of the case domain (shared/docs/API.md).

Views are interfaces: each reads through the access selectors (which log
the read) or makes one service call, and serializers only shape data.
Whether a caller may see a case is decided once, in `cases.selectors`; a
case the caller may see but whose content their role may not read (a
supervisor, an auditor) answers 403 for content endpoints.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import api_token_issue
from accounts.types import AuthenticatedRequest
from audit.selectors import case_events
from audit.services import read_accesses_record
from cases import api_people, services
from cases.api_fields import StrictBooleanField, StrictCharField, StrictIntegerField
from cases.api_transitions import transition_arguments
from cases.models import (
    Assessment,
    AssessmentItem,
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    Consent,
    Consultation,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    GoalCatalogueEntry,
    GoalStatus,
    HouseholdMembership,
    IntegrationPlan,
    Measure,
    NeedLevel,
    NetworkContact,
    Person,
    PersonClockFact,
    PlanReview,
    Referral,
)
from cases.person_clock import person_clock
from cases.selectors import (
    AUDITOR,
    DEPUTY,
    DPO,
    MAX_PK,
    OWNER,
    SUPERVISOR,
    case_get_for_user,
    case_list_for_user,
    content_case_ids,
    extension_requests_visible_to,
    network_contacts_of,
    parse_pk,
)
from config.api import error_responses, reject_empty_parameters
from config.api_enums import CodeField, ContractModelSerializer, EnumField, EnumFilter, snake
from config.errors import NotFound
from config.throttles import TokenRateThrottle

CONTENT_READERS = frozenset({OWNER, DEPUTY})
HISTORY_READERS = frozenset({OWNER, DEPUTY, AUDITOR, DPO})
# A step's responsible party: DOMAIN.md §14.2 names the integration manager `im`.
RESPONSIBLE_SPELLING = {Measure.Responsible.INTEGRATION_MANAGER: "im"}
# How a case came to `closing` (the system's two grounds included).
CLOSING_GROUNDS = [*services.ClosingGround.values, "PERIOD_EXPIRED", "NO_CONTACT"]

__all__ = ["StrictBooleanField", "StrictCharField", "StrictIntegerField"]


def _case_for(request: Request, case_id: Any, view: str, readers: frozenset[str]) -> Case:
    """Load a visible case (404 otherwise), require `readers` (403), log the read."""
    return case_get_for_user(
        user=request.user, case_id=case_id, now=timezone.now(), view=view, readers=readers
    )


def _object_or_404(queryset: QuerySet[Any], pk: Any) -> Any:
    number = parse_pk(pk)
    try:
        if number is None:
            raise queryset.model.DoesNotExist
        return queryset.get(pk=number)
    except queryset.model.DoesNotExist:
        raise NotFound(_("This object does not exist.")) from None


# --- serializers: output ---------------------------------------------------------


class KeyField(serializers.SlugRelatedField):
    """A catalogue entry as its key."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(slug_field="key", **kwargs)


class CatalogueEntryOut(ContractModelSerializer):
    class Meta:
        model = CatalogueEntry
        fields = [
            "key",
            "label_de",
            "label_en",
            "order",
            "is_active",
            "valid_from",
            "valid_to",
            "official_mapping",
            "report_group",
        ]


class GoalCatalogueEntryOut(ContractModelSerializer):
    field_of_action = KeyField()

    class Meta:
        model = GoalCatalogueEntry
        fields = ["key", "field_of_action", "label_de", "label_en", "order", "is_active"]


class PersonOut(ContractModelSerializer):
    residence_status = KeyField(allow_null=True)
    benefit_status = KeyField(allow_null=True)
    accommodation_stage = KeyField(allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "family_name",
            "given_names",
            "date_of_birth",
            "date_of_birth_approximate",
            "sex",
            "nationality",
            "languages",
            "literacy",
            "phone",
            "address",
            "gemeinde",
            "residence_status",
            "benefit_status",
            "accommodation_stage",
            "au_allocation_date",
            "ukraine_displaced",
            "obliged_to_leave",
        ]


class CaseOut(ContractModelSerializer):
    """A case as a list row; `person` only for those who may read content."""

    closure_reason = KeyField(allow_null=True)
    person = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "status",
            "programme",
            "owner",
            "traeger",
            "gemeinde",
            "intake_channel",
            "registered_at",
            "consultation_start",
            "regular_end",
            "effective_end",
            "next_review_at",
            "plan_declined",
            "closure_reason",
            "closed_at",
            "anonymous_mode",
            "person",
        ]

    @extend_schema_field(PersonOut(allow_null=True))
    def get_person(self, case: Case) -> dict[str, Any] | None:
        if case.pk not in self.context.get("content_case_ids", ()):
            return None
        return PersonOut(case.person).data


class ManagerOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    relation = serializers.CharField()


class HouseholdMemberOut(serializers.Serializer):
    person = serializers.IntegerField(source="person_id")
    relation = EnumField(HouseholdMembership.Relation)


class HouseholdOut(serializers.Serializer):
    id = serializers.IntegerField()
    members = HouseholdMemberOut(many=True)


class PersonClockOut(serializers.Serializer):
    """The person's consultation period across all their cases."""

    start = serializers.DateField(allow_null=True)
    regular_end = serializers.DateField(allow_null=True)
    extension_months = serializers.IntegerField(allow_null=True)
    effective_end = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    expired = serializers.BooleanField()


class CaseDetailOut(CaseOut):
    closing_ground = EnumField(CLOSING_GROUNDS, read_only=True, allow_blank=True)
    allowed_transitions = serializers.SerializerMethodField()
    managers = serializers.SerializerMethodField()
    household = serializers.SerializerMethodField()
    person_clock = serializers.SerializerMethodField()

    class Meta(CaseOut.Meta):
        fields = [
            *CaseOut.Meta.fields,
            "eligibility_basis",
            "rejection_reason",
            "closing_ground",
            "no_further_need",
            "legal_hold",
            "allowed_transitions",
            "managers",
            "household",
            "person_clock",
        ]

    @extend_schema_field(PersonClockOut)
    def get_person_clock(self, case: Case) -> dict[str, Any]:
        clock = person_clock(person=case.person_id, today=timezone.localdate(self.context["now"]))
        return PersonClockOut(clock).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, case: Case) -> list[str]:
        return services.case_allowed_transitions(
            case=case, actor=self.context["request"].user, now=self.context["now"]
        )

    @extend_schema_field(ManagerOut(many=True))
    def get_managers(self, case: Case) -> list[dict[str, Any]]:
        from accounts.models import DeputyGrant

        now = self.context["now"]
        rows = [{"id": case.owner_id, "username": case.owner.username, "relation": "owner"}]
        grants = (
            DeputyGrant.objects.filter(
                principal_id=case.owner_id,
                valid_from__lte=now,
                valid_until__gt=now,
                revoked_at__isnull=True,
            )
            .select_related("deputy")
            .order_by("deputy__username")
        )
        rows += [
            {"id": g.deputy_id, "username": g.deputy.username, "relation": "deputy"} for g in grants
        ]
        return rows

    @extend_schema_field(HouseholdOut(allow_null=True))
    def get_household(self, case: Case) -> dict[str, Any] | None:
        if case.household_id is None or case.pk not in self.context.get("content_case_ids", ()):
            return None
        members = case.household.memberships.order_by("pk")
        return {
            "id": case.household_id,
            "members": HouseholdMemberOut(members, many=True).data,
        }


class EventOut(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    actor_role = CodeField()
    event_type = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    transition = serializers.CharField()
    from_state = CodeField(help_text="Status vorher (snake_case wie `status`).")
    to_state = CodeField(help_text="Status nachher.")
    reason = CodeField(help_text="Grund als Schlüssel (snake_case).")
    data = serializers.JSONField(
        help_text="Die Änderungen, wie aufgezeichnet (gespeicherte Codes); "
        "`hash` sichert das Ereignis, wie es gespeichert ist."
    )
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class ConsentOut(ContractModelSerializer):
    class Meta:
        model = Consent
        fields = [
            "id",
            "scope",
            "legal_basis",
            "given_by",
            "guardian_name",
            "recipient",
            "purpose_version",
            "form",
            "language",
            "interpreter",
            "interpreter_language",
            "given_at",
            "valid_until",
            "withdrawn_at",
            "withdrawal_channel",
            "evidence",
        ]


class ClockFactOut(ContractModelSerializer):
    """A fact about the person's consultation period known from elsewhere."""

    extension_reason = KeyField(allow_null=True)

    class Meta:
        model = PersonClockFact
        fields = [
            "id",
            "source",
            "evidence",
            "first_consultation_on",
            "extension_months",
            "extension_reason",
            "recorded_by",
            "recorded_at",
        ]


class ConsultationOut(ContractModelSerializer):
    date = serializers.DateField(source="held_on", help_text="Datum der Beratung.")
    form = KeyField()
    setting = KeyField()
    topics = serializers.SerializerMethodField()

    class Meta:
        model = Consultation
        fields = [
            "id",
            "date",
            "duration_minutes",
            "form",
            "setting",
            "topics",
            "participants",
            "status",
            "interpreter",
            "notes",
            "final_referral",
            "recorded_by",
            "recorded_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_topics(self, consultation: Consultation) -> list[str]:
        """Topic keys in catalogue order."""
        topics = sorted(consultation.topics.all(), key=lambda t: (t.order, t.key))
        return [topic.key for topic in topics]


class AssessmentItemOut(ContractModelSerializer):
    field_of_action = KeyField()

    class Meta:
        model = AssessmentItem
        fields = [
            "field_of_action",
            "need_level",
            "situation",
            "resources",
            "client_wishes",
            "priority",
        ]


class AssessmentOut(ContractModelSerializer):
    items = AssessmentItemOut(many=True)

    class Meta:
        model = Assessment
        fields = ["id", "assessed_on", "interpreter_language", "items", "cancelled_at"]


class MeasureOut(ContractModelSerializer):
    responsible = EnumField(Measure.Responsible, spelling=RESPONSIBLE_SPELLING)

    class Meta:
        model = Measure
        fields = [
            "id",
            "description",
            "responsible",
            "due_date",
            "done_at",
            "referral",
            "cancelled_at",
        ]


class GoalOut(ContractModelSerializer):
    field_of_action = KeyField()
    catalogue_goal = KeyField(allow_null=True)
    measures = MeasureOut(many=True)

    class Meta:
        model = Goal
        fields = [
            "id",
            "field_of_action",
            "catalogue_goal",
            "title",
            "success_criterion",
            "target_date",
            "priority",
            "status",
            "agreed_at",
            "closed_at",
            "outcome_note",
            "measures",
            "cancelled_at",
        ]


class ReviewOut(ContractModelSerializer):
    version = serializers.IntegerField(source="plan.version")

    class Meta:
        model = PlanReview
        fields = ["version", "reviewed_on", "participants", "notes"]


class PlanOut(ContractModelSerializer):
    goals = GoalOut(many=True)
    reviews = serializers.SerializerMethodField()

    class Meta:
        model = IntegrationPlan
        fields = [
            "id",
            "version",
            "status",
            "created_at",
            "agreed_at",
            "agreement_form",
            "agreement_language",
            "interpreter",
            "copy_handed_over",
            "next_review_at",
            "goals",
            "reviews",
        ]

    @extend_schema_field(ReviewOut(many=True))
    def get_reviews(self, plan: IntegrationPlan) -> list[dict[str, Any]]:
        reviews = PlanReview.objects.filter(plan__case_id=plan.case_id).select_related("plan")
        return ReviewOut(reviews.order_by("plan__version"), many=True).data


class ReferralOut(ContractModelSerializer):
    date = serializers.DateField(source="referred_on", help_text="Datum der Verweisung.")
    target_service = KeyField()
    topic = KeyField(allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "date",
            "target_service",
            "topic",
            "organisation",
            "mode",
            "is_final",
            "outcome",
            "outcome_date",
            "cancelled_at",
        ]


class ExtensionRequestOut(ContractModelSerializer):
    """A request; the justification text only for the case's own managers
    (the approving supervisor sees the reason category and dates)."""

    reason = KeyField()
    justification = serializers.SerializerMethodField()

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "case",
            "reason",
            "months",
            "justification",
            "status",
            "requested_by",
            "created_at",
            "submitted_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "resulting_effective_end",
        ]

    def get_justification(self, request: ExtensionRequest) -> str | None:
        if request.case_id in self.context.get("content_case_ids", ()):
            return request.justification
        return None


class NetworkContactOut(ContractModelSerializer):
    date = serializers.DateField(source="contact_date", help_text="Datum des Kontakts.")
    category = KeyField()

    class Meta:
        model = NetworkContact
        fields = [
            "id",
            "date",
            "category",
            "organisation",
            "format",
            "topic",
            "duration_minutes",
            "cancelled_at",
        ]


# --- serializers: input (shape only; rules live in the services) ---------------


class RenamedKeys(serializers.Serializer):
    """Refuses the names a key had before the API spoke the contract, with
    the new name (README: "Changes for integrators")."""

    renamed: dict[str, str] = {}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            old = [key for key in self.renamed if key in data]
            if old:
                raise serializers.ValidationError(
                    {
                        key: [_("Renamed: send “%(new)s”.") % {"new": self.renamed[key]}]
                        for key in old
                    }
                )
        return super().to_internal_value(data)


class ConsentIn(serializers.Serializer):
    scope = EnumField(Consent.Scope)
    legal_basis = EnumField(
        Consent.LegalBasis,
        required=False,
        help_text="Rechtsgrundlage; ohne Angabe die zum Umfang passende "
        "(Art. 9 Abs. 2 lit. a für besondere Kategorien, sonst Art. 6 Abs. 1 lit. a).",
    )
    given_by = EnumField(
        Consent.GivenBy,
        required=False,
        help_text="Erteilt von der Person selbst oder (Minderjährige) vom gesetzlichen Vormund.",
    )
    guardian_name = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Name des gesetzlichen Vormunds; nur mit given_by=legal_guardian.",
    )
    form = EnumField(Consent.Form)
    language = StrictCharField(max_length=50)
    interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)
    interpreter_language = StrictCharField(max_length=50, required=False, allow_blank=True)
    recipient = StrictCharField(max_length=200, required=False, allow_blank=True)
    purpose_version = StrictCharField(
        max_length=50,
        required=False,
        allow_blank=True,
        help_text="Fassung des Informationstextes, dem zugestimmt wurde.",
    )
    given_at = serializers.DateTimeField(required=False)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class ConsentWithdrawIn(serializers.Serializer):
    channel = EnumField(Consent.WithdrawalChannel, help_text="Wie der Widerruf erklärt wurde.")


class EvidenceIn(serializers.Serializer):
    file = serializers.FileField(
        help_text="Scan der unterschriebenen Einwilligung (PDF, PNG, JPEG)."
    )


class ConsultationIn(RenamedKeys):
    renamed = {"held_on": "date"}

    date = serializers.DateField(help_text="Datum der Beratung.")
    duration_minutes = StrictIntegerField(min_value=1, max_value=720)
    form = StrictCharField(max_length=50)
    topics = serializers.ListField(
        child=StrictCharField(max_length=50), min_length=1, max_length=17
    )
    setting = StrictCharField(max_length=50, default="individual")
    status = EnumField(Consultation.Status, default=Consultation.Status.COMPLETED)
    participants = serializers.ListField(
        child=StrictIntegerField(min_value=1), required=False, max_length=30
    )
    interpreter = StrictCharField(max_length=100, required=False, allow_blank=True)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)
    final_referral = StrictBooleanField(
        required=False,
        default=False,
        help_text="Gespräch zur abschließenden Weitervermittlung (auch nach Ende des Zeitraums).",
    )


class ClockFactIn(serializers.Serializer):
    source = EnumField(PersonClockFact.Source)
    evidence = StrictCharField(
        max_length=2000,
        help_text="Was den Beginn oder die Verlängerung belegt (Aktenzeichen, Bescheinigung, ...).",
    )
    first_consultation_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Erstberatung der Person dort; darf den Beginn nur nach vorn verlegen.",
    )
    extension_months = StrictIntegerField(
        min_value=1, max_value=12, required=False, allow_null=True
    )
    extension_reason = StrictCharField(max_length=50, required=False, allow_null=True)


class AssessmentItemIn(serializers.Serializer):
    field_of_action = StrictCharField(max_length=50)
    need_level = EnumField(NeedLevel)
    situation = StrictCharField(max_length=5000, required=False, allow_blank=True)
    resources = StrictCharField(max_length=5000, required=False, allow_blank=True)
    client_wishes = StrictCharField(max_length=5000, required=False, allow_blank=True)


class AssessmentIn(serializers.Serializer):
    assessed_on = serializers.DateField()
    interpreter_language = StrictCharField(max_length=50, required=False, allow_blank=True)
    items = AssessmentItemIn(many=True, allow_empty=False)


class GoalIn(serializers.Serializer):
    field_of_action = StrictCharField(
        max_length=50, required=False, help_text="Handlungsfeld; folgt sonst aus catalogue_goal."
    )
    catalogue_goal = StrictCharField(
        max_length=50, required=False, help_text="Schlüssel eines Ziels aus dem Zielkatalog."
    )
    title = StrictCharField(
        max_length=300, required=False, help_text="Freie Formulierung; Standard: das Katalogziel."
    )
    success_criterion = StrictCharField(max_length=300)
    target_date = serializers.DateField()
    priority = StrictIntegerField(min_value=1, max_value=3, default=2)


class GoalPatch(serializers.Serializer):
    status = EnumField(GoalStatus, required=False)
    outcome_note = StrictCharField(max_length=5000, required=False, allow_blank=True)
    # A changed wording or date of an agreed goal makes a new plan draft.
    title = StrictCharField(max_length=300, required=False)
    success_criterion = StrictCharField(max_length=300, required=False)
    target_date = serializers.DateField(required=False)


class MeasureIn(serializers.Serializer):
    description = StrictCharField(max_length=300)
    responsible = EnumField(Measure.Responsible, spelling=RESPONSIBLE_SPELLING)
    due_date = serializers.DateField(required=False, allow_null=True)


class ReferralIn(RenamedKeys):
    renamed = {"referred_on": "date"}

    date = serializers.DateField(help_text="Datum der Verweisung.")
    target_service = StrictCharField(max_length=50)
    topic = StrictCharField(max_length=50, required=False, allow_null=True)
    mode = EnumField(Referral.Mode)
    is_final = StrictBooleanField(default=False)
    organisation = StrictCharField(max_length=200, required=False, allow_blank=True)
    outcome = EnumField(Referral.Outcome, default=Referral.Outcome.PENDING)


class ReferralPatch(serializers.Serializer):
    outcome = EnumField(Referral.Outcome)
    outcome_date = serializers.DateField(required=False, allow_null=True)
    is_final = StrictBooleanField(required=False)


class ExtensionRequestIn(serializers.Serializer):
    reason = StrictCharField(max_length=50)
    months = StrictIntegerField(min_value=1, max_value=12)
    justification = StrictCharField(max_length=5000)


class DecisionIn(serializers.Serializer):
    note = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")


class RejectionIn(serializers.Serializer):
    note = StrictCharField(max_length=5000)


class NetworkContactIn(RenamedKeys):
    renamed = {"contact_date": "date"}

    date = serializers.DateField(help_text="Datum des Kontakts.")
    category = StrictCharField(max_length=50)
    organisation = StrictCharField(max_length=200)
    format = EnumField(NetworkContact.Format)
    topic = StrictCharField(max_length=200, required=False, allow_blank=True)
    duration_minutes = StrictIntegerField(
        min_value=1, max_value=720, required=False, allow_null=True
    )


def _valid(
    serializer_class: type[serializers.Serializer], request: Request, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views -------------------------------------------------------------------------

CASE_ERRORS = error_responses(400, 401, 403, 404, 409, 415)
READ_ERRORS = error_responses(401, 403, 404)
LIST_ERRORS = error_responses(400, 401, 403, 404)


class TokenIn(serializers.Serializer):
    # Lengths are checked before the sign-in is attempted, so that an
    # over-long name never reaches django-axes (varchar 255) or the hasher.
    username = StrictCharField(max_length=150, write_only=True)
    password = StrictCharField(max_length=1024, trim_whitespace=False, write_only=True)
    otp = StrictCharField(
        max_length=20,
        required=False,
        help_text="Current code of the authenticator app, or a backup code "
        "(required while LOTSE_REQUIRE_MFA is on).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if not user:
            raise serializers.ValidationError(
                _("Unable to log in with provided credentials."), code="authorization"
            )
        attrs["user"] = user
        return attrs


class AuthTokenView(APIView):
    """Exchange user name, password and a one-time code for an API token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        request=TokenIn,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            **error_responses(400, 415, 429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenIn(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token = api_token_issue(
            user=serializer.validated_data["user"],
            otp=serializer.validated_data.get("otp"),
            require_mfa=settings.LOTSE_REQUIRE_MFA,
            now=timezone.now(),
        )
        return Response({"token": token})


class CatalogueListView(APIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "Catalogues",
                {
                    **{snake(name): CatalogueEntryOut(many=True) for name in Catalogue.values},
                    "goal": GoalCatalogueEntryOut(many=True),
                },
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        """All catalogues with their keys and German/English labels, in order;
        `goal` is the goal catalogue, each entry under its field of action."""
        result: dict[str, list[dict[str, Any]]] = {snake(name): [] for name in Catalogue.values}
        entries = list(CatalogueEntry.objects.order_by("catalogue", "order", "key"))
        for entry, data in zip(entries, CatalogueEntryOut(entries, many=True).data, strict=True):
            result[snake(entry.catalogue)].append(data)
        goals = GoalCatalogueEntry.objects.select_related("field_of_action")
        result["goal"] = GoalCatalogueEntryOut(
            goals.order_by("field_of_action__order", "order", "key"), many=True
        ).data
        return Response(result)


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: whole numbers only, within the key range."""

    field_class = forms.IntegerField


class CaseFilter(django_filters.FilterSet):
    status = EnumFilter(enum=CaseStatus)
    assignee = IdFilter(field_name="owner_id", min_value=1, max_value=MAX_PK)
    due_before = django_filters.DateFilter(
        method="filter_due_before", label="next review or period end before"
    )

    class Meta:
        model = Case
        fields = ["status", "assignee", "due_before"]

    def filter_due_before(self, queryset: QuerySet[Case], name: str, value: Any) -> QuerySet[Case]:
        return queryset.filter(Q(next_review_at__lt=value) | Q(effective_end__lt=value))


def _content_ids(request: Request, cases: list[Case], now: Any) -> set[int]:
    return content_case_ids(user=request.user, cases=cases, now=now)


class CaseListView(GenericAPIView):
    serializer_class = CaseOut
    filterset_class = CaseFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Case]:
        return case_list_for_user(user=self.request.user, now=timezone.now()).select_related(
            "person",
            "person__residence_status",
            "person__benefit_status",
            "person__accommodation_stage",
            "closure_reason",
        )

    @extend_schema(
        responses={200: CaseOut(many=True), **LIST_ERRORS},
        parameters=[
            OpenApiParameter("assignee", OpenApiTypes.INT, description="owner's user id"),
            OpenApiParameter(
                "due_before", OpenApiTypes.DATE, description="next review or period end before"
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        """The caller's visible cases (filters: status, assignee, due_before)."""
        reject_empty_parameters(request, ["status", "assignee", "due_before"])
        now = timezone.now()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        content = _content_ids(request, page, now)
        if content:
            read_accesses_record(
                user=request.user, case_ids=sorted(content), view="api:case-list", now=now
            )
        data = CaseOut(page, many=True, context={"content_case_ids": content}).data
        return self.get_paginated_response(data)

    @extend_schema(**api_people.REGISTER_SCHEMA)
    def post(self, request: AuthenticatedRequest) -> Response:
        """Register a person or household without a handover (cases.api_people)."""
        return api_people.case_register_post(request)


def _detail(request: Request, case: Case) -> dict[str, Any]:
    now = timezone.now()
    case.refresh_from_db()
    context = {
        "request": request,
        "now": now,
        "content_case_ids": _content_ids(request, [case], now),
    }
    return CaseDetailOut(case, context=context).data


class CaseDetailView(APIView):
    @extend_schema(responses={200: CaseDetailOut, **READ_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """A case with its clock and the transitions the caller may fire now."""
        case = _case_for(
            request, case_id, "api:case-detail", CONTENT_READERS | {SUPERVISOR, AUDITOR, DPO}
        )
        return Response(_detail(request, case))


class CaseTransitionView(APIView):
    @extend_schema(exclude=True)  # one path per transition: cases.api_transitions
    def post(self, request: AuthenticatedRequest, case_id: int, name: str) -> Response:
        """Fire a transition; its arguments go in the body (DOMAIN.md §14.1)."""
        now = timezone.now()
        # A foreign case is a 404 before the body is read.
        case = case_get_for_user(
            user=request.user, case_id=case_id, now=now, view="api:case-transition"
        )
        args = request.data if isinstance(request.data, dict) else None
        if args is None or not all(isinstance(key, str) for key in args):
            raise services.InvalidArguments(_("The body must be a JSON object."))
        arguments = transition_arguments(
            case=case, name=name, actor=request.user, now=now, data=args
        )
        case = services.case_transition(
            case=case, name=name, actor=request.user, now=now, **arguments
        )
        return Response(_detail(request, case))


class CaseHistoryView(APIView):
    @extend_schema(responses={200: EventOut(many=True), **READ_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The case's audit events in order (managers, auditors, DPO)."""
        case = _case_for(request, case_id, "api:case-history", HISTORY_READERS)
        return Response(EventOut(case_events(case_id=case.pk), many=True).data)


class CaseScopedListCreate(GenericAPIView):
    """A list of one case's records, and creating one through a service."""

    view_name = ""

    def case(self, request: Request, case_id: Any) -> Case:
        return _case_for(request, case_id, f"api:{self.view_name}", CONTENT_READERS)

    def listed(self, request: Request, queryset: QuerySet[Any], out: type) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(out(page, many=True).data)


class ConsentListView(CaseScopedListCreate):
    view_name = "consents"
    serializer_class = ConsentOut

    @extend_schema(responses={200: ConsentOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The consents the person gave (and withdrew) for this case."""
        case = self.case(request, case_id)
        return self.listed(request, case.consents.order_by("-given_at", "-pk"), ConsentOut)

    @extend_schema(request=ConsentIn, responses={201: ConsentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Record a consent (Art. 7 DSGVO: documented, in the person's language)."""
        case = self.case(request, case_id)
        data = _valid(ConsentIn, request)
        consent = services.consent_record(case=case, actor=request.user, now=timezone.now(), **data)
        return Response(ConsentOut(consent).data, status=status.HTTP_201_CREATED)


class ConsentWithdrawView(APIView):
    @extend_schema(request=ConsentWithdrawIn, responses={200: ConsentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int, consent_id: int) -> Response:
        """Record that a consent was withdrawn, and how (`channel`). Withdrawing
        the consent to case processing itself is the transition `withdraw_consent`
        (with `channel` too)."""
        case = _case_for(request, case_id, "api:consent", CONTENT_READERS)
        consent = _object_or_404(case.consents.all(), consent_id)
        data = _valid(ConsentWithdrawIn, request)
        consent = services.consent_withdraw(
            consent=consent, actor=request.user, now=timezone.now(), channel=data["channel"]
        )
        return Response(ConsentOut(consent).data)


class ConsentEvidenceView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request=EvidenceIn, responses={201: ConsentOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int, consent_id: int) -> Response:
        """Upload the scan of the signed consent (multipart field `file`: PDF,
        PNG or JPEG); it is stored as the case's document and linked as the
        consent's evidence, once."""
        case = _case_for(request, case_id, "api:consent-evidence", CONTENT_READERS)
        consent = _object_or_404(case.consents.all(), consent_id)
        upload = request.data.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise services.InvalidArguments(
                _("The scan is missing."), fields={"file": [_("This field is required.")]}
            )
        # A file over the limit is refused by the service without being read.
        content = b"" if upload.size > settings.LOTSE_EVIDENCE_MAX_BYTES else upload.read()
        consent = services.consent_evidence_attach(
            consent=consent, actor=request.user, now=timezone.now(), content=content
        )
        return Response(ConsentOut(consent).data, status=status.HTTP_201_CREATED)


class ConsultationListView(CaseScopedListCreate):
    view_name = "consultations"
    serializer_class = ConsultationOut

    @extend_schema(responses={200: ConsultationOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        case = self.case(request, case_id)
        consultations = (
            case.consultations.select_related("form", "setting")
            .prefetch_related("topics", "participants")
            .order_by("-held_on", "-pk")
        )
        return self.listed(request, consultations, ConsultationOut)

    @extend_schema(request=ConsultationIn, responses={201: ConsultationOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        case = self.case(request, case_id)
        data = _valid(ConsultationIn, request)
        consultation = services.consultation_record(
            case=case,
            actor=request.user,
            now=timezone.now(),
            held_on=data["date"],
            duration_minutes=data["duration_minutes"],
            form=data["form"],
            topics=data["topics"],
            setting=data["setting"],
            status=data["status"],
            participant_ids=data.get("participants", []),
            interpreter=data.get("interpreter", ""),
            notes=data.get("notes", ""),
            final_referral=data.get("final_referral", False),
        )
        return Response(ConsultationOut(consultation).data, status=status.HTTP_201_CREATED)


class ClockFactListView(CaseScopedListCreate):
    view_name = "clock-facts"
    serializer_class = ClockFactOut

    @extend_schema(responses={200: ClockFactOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """What is known from elsewhere about the person's consultation period."""
        case = self.case(request, case_id)
        facts = case.person.clock_facts.select_related("extension_reason").order_by("-pk")
        return self.listed(request, facts, ClockFactOut)

    @extend_schema(request=ClockFactIn, responses={201: ClockFactOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Record a start or an extension of the person's period known from
        elsewhere (another Träger, a migration, a transfer), with evidence."""
        case = self.case(request, case_id)
        data = _valid(ClockFactIn, request)
        fact = services.person_clock_fact_record(
            person=case.person, actor=request.user, now=timezone.now(), **data
        )
        return Response(ClockFactOut(fact).data, status=status.HTTP_201_CREATED)


class AssessmentView(APIView):
    @extend_schema(responses={200: AssessmentOut, **READ_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The latest needs assessment."""
        case = _case_for(request, case_id, "api:assessment", CONTENT_READERS)
        assessment = (
            Assessment.objects.filter(case=case)
            .prefetch_related(
                Prefetch(
                    "items", AssessmentItem.objects.select_related("field_of_action").order_by("pk")
                )
            )
            .order_by("-assessed_on", "-pk")
            .first()
        )
        if assessment is None:
            raise NotFound(_("No needs assessment has been recorded yet."))
        return Response(AssessmentOut(assessment).data)

    @extend_schema(request=AssessmentIn, responses={200: AssessmentOut, **CASE_ERRORS})
    def put(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Record the needs assessment (each PUT is a re-assessment)."""
        case = _case_for(request, case_id, "api:assessment", CONTENT_READERS)
        data = _valid(AssessmentIn, request)
        assessment = services.assessment_record(
            case=case,
            actor=request.user,
            now=timezone.now(),
            assessed_on=data["assessed_on"],
            items=[dict(item) for item in data["items"]],
            interpreter_language=data.get("interpreter_language", ""),
        )
        return Response(AssessmentOut(assessment).data)


def _current_plan(case: Case) -> IntegrationPlan:
    plan = (
        IntegrationPlan.objects.filter(case=case)
        .exclude(status=IntegrationPlan.Status.REVISION)  # a pending change: plan/change/
        .prefetch_related(
            Prefetch(
                "goals",
                Goal.objects.select_related("field_of_action", "catalogue_goal")
                .prefetch_related("measures")
                .order_by("pk"),
            )
        )
        .order_by("-version")
        .first()
    )
    if plan is None:
        raise NotFound(_("This case has no Integrationsplan yet."))
    return plan


class PlanView(APIView):
    @extend_schema(responses={200: PlanOut, **READ_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        """The current plan version with goals, steps and review history."""
        case = _case_for(request, case_id, "api:plan", CONTENT_READERS)
        return Response(PlanOut(_current_plan(case)).data)


class GoalListView(CaseScopedListCreate):
    view_name = "goals"
    serializer_class = GoalOut

    @extend_schema(responses={200: GoalOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        plan = _current_plan(self.case(request, case_id))
        return self.listed(request, plan.goals.all(), GoalOut)

    @extend_schema(request=GoalIn, responses={201: GoalOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        case = self.case(request, case_id)
        data = _valid(GoalIn, request)
        goal = services.goal_add(case=case, actor=request.user, now=timezone.now(), **data)
        return Response(GoalOut(goal).data, status=status.HTTP_201_CREATED)


def _goal_of(case: Case, goal_id: Any) -> Goal:
    return _object_or_404(Goal.objects.filter(plan__case=case), goal_id)


class GoalDetailView(APIView):
    @extend_schema(request=GoalPatch, responses={200: GoalOut, **CASE_ERRORS})
    def patch(self, request: AuthenticatedRequest, case_id: int, goal_id: int) -> Response:
        """Change a goal's status or outcome."""
        case = _case_for(request, case_id, "api:goal", CONTENT_READERS)
        goal = _goal_of(case, goal_id)
        data = _valid(GoalPatch, request)
        goal = services.goal_update(goal=goal, actor=request.user, now=timezone.now(), **data)
        return Response(GoalOut(goal).data)


class MeasureListView(APIView):
    @extend_schema(request=MeasureIn, responses={201: MeasureOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int, goal_id: int) -> Response:
        """Add a step to a goal of the current plan."""
        case = _case_for(request, case_id, "api:measures", CONTENT_READERS)
        goal = _goal_of(case, goal_id)
        data = _valid(MeasureIn, request)
        measure = services.measure_add(goal=goal, actor=request.user, now=timezone.now(), **data)
        return Response(MeasureOut(measure).data, status=status.HTTP_201_CREATED)


class ReferralListView(CaseScopedListCreate):
    view_name = "referrals"
    serializer_class = ReferralOut

    @extend_schema(responses={200: ReferralOut(many=True), **LIST_ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        case = self.case(request, case_id)
        referrals = case.referrals.select_related("target_service", "topic").order_by("-pk")
        return self.listed(request, referrals, ReferralOut)

    @extend_schema(request=ReferralIn, responses={201: ReferralOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        case = self.case(request, case_id)
        data = _valid(ReferralIn, request)
        data["referred_on"] = data.pop("date")
        referral = services.referral_record(
            case=case, actor=request.user, now=timezone.now(), **data
        )
        return Response(ReferralOut(referral).data, status=status.HTTP_201_CREATED)


class ReferralDetailView(APIView):
    @extend_schema(request=ReferralPatch, responses={200: ReferralOut, **CASE_ERRORS})
    def patch(self, request: AuthenticatedRequest, case_id: int, referral_id: int) -> Response:
        """Record a referral's outcome."""
        case = _case_for(request, case_id, "api:referral", CONTENT_READERS)
        referral = _object_or_404(case.referrals.all(), referral_id)
        data = _valid(ReferralPatch, request)
        referral = services.referral_update(
            referral=referral, actor=request.user, now=timezone.now(), **data
        )
        return Response(ReferralOut(referral).data)


class CaseExtensionRequestView(APIView):
    @extend_schema(request=ExtensionRequestIn, responses={201: ExtensionRequestOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, case_id: int) -> Response:
        """Submit an extension of the consultation period (1-12 months)."""
        case = _case_for(request, case_id, "api:extension-request", CONTENT_READERS)
        data = _valid(ExtensionRequestIn, request)
        extension = services.extension_request_submit(
            case=case, actor=request.user, now=timezone.now(), **data
        )
        return Response(
            ExtensionRequestOut(extension, context={"content_case_ids": {case.pk}}).data,
            status=status.HTTP_201_CREATED,
        )


class ExtensionRequestFilter(django_filters.FilterSet):
    status = EnumFilter(enum=ExtensionStatus)

    class Meta:
        model = ExtensionRequest
        fields = ["status"]


class ExtensionRequestListView(GenericAPIView):
    serializer_class = ExtensionRequestOut
    filterset_class = ExtensionRequestFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[ExtensionRequest]:
        return (
            extension_requests_visible_to(user=self.request.user, now=timezone.now())
            .select_related("reason", "case", "case__owner", "case__closure_reason")
            .order_by("-pk")
        )

    @extend_schema(responses={200: ExtensionRequestOut(many=True), **LIST_ERRORS})
    def get(self, request: Request) -> Response:
        """Extension requests of the caller's visible cases (filter: status)."""
        reject_empty_parameters(request, ["status"])
        now = timezone.now()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        content = _content_ids(request, [r.case for r in page], now)
        data = ExtensionRequestOut(page, many=True, context={"content_case_ids": content}).data
        return self.get_paginated_response(data)


def _decide(request: AuthenticatedRequest, request_id: Any, *, approve: bool) -> Response:
    pk = parse_pk(request_id)
    # A request of a case one does not see is a 404 before the body is read.
    visible = extension_requests_visible_to(user=request.user, now=timezone.now())
    if pk is None or not visible.filter(pk=pk).exists():
        raise NotFound(_("This extension request does not exist."))
    data = _valid(DecisionIn if approve else RejectionIn, request)
    decide = services.extension_request_approve if approve else services.extension_request_reject
    extension = decide(request=pk, actor=request.user, now=timezone.now(), note=data["note"])
    return Response(ExtensionRequestOut(extension).data)


class ExtensionApproveView(APIView):
    @extend_schema(request=DecisionIn, responses={200: ExtensionRequestOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, request_id: str) -> Response:
        """Approve, as a supervisor of the case's team; never one's own request."""
        return _decide(request, request_id, approve=True)


class ExtensionRejectView(APIView):
    @extend_schema(request=RejectionIn, responses={200: ExtensionRequestOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest, request_id: str) -> Response:
        """Reject, as a supervisor of the case's team, with a note."""
        return _decide(request, request_id, approve=False)


class NetworkContactListView(GenericAPIView):
    serializer_class = NetworkContactOut

    def get_queryset(self) -> QuerySet[NetworkContact]:
        return network_contacts_of(user=self.request.user).select_related("category")

    @extend_schema(responses={200: NetworkContactOut(many=True), **LIST_ERRORS})
    def get(self, request: Request) -> Response:
        """The caller's own network contacts."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(NetworkContactOut(page, many=True).data)

    @extend_schema(request=NetworkContactIn, responses={201: NetworkContactOut, **CASE_ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _valid(NetworkContactIn, request)
        data["contact_date"] = data.pop("date")
        contact = services.network_contact_record(actor=request.user, now=timezone.now(), **data)
        return Response(NetworkContactOut(contact).data, status=status.HTTP_201_CREATED)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@authentication_classes([])
def not_found(request: Request) -> Response:
    """Answer unknown API paths in the API's error format."""
    raise NotFound(_("There is no such API path."))
