"""REST API v1: intake without a handover (`POST /api/v1/cases/`), persons
and households kept current, a member's own case (issue 19).

Edits are conditional (RELIABILITY.md W4): GET answers with an `ETag`
(the row's version) and a `version` field; a PATCH or DELETE sends it back
as `If-Match` (a stale one is 412 `precondition_failed`) or as `version` in
the body (a stale one is 409 `stale_version`). Without either, 428
`precondition_required`: an edit never overwrites what it has not seen.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Gemeinde, User
from accounts.types import AuthenticatedRequest
from cases import services
from cases.api_fields import StrictBooleanField, StrictCharField, StrictIntegerField
from cases.households import (
    HouseholdView,
    household_check_for_user,
    household_get_for_user,
    person_check_for_user,
    person_get_for_user,
)
from cases.models import Case, HouseholdMembership, Person
from cases.services import NewPerson
from config.api import error_responses
from config.api_enums import EnumField
from config.errors import ApplicationError, InvalidInput

EDIT_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 415, 428)


class PreconditionFailed(ApplicationError):
    http_status = 412
    default_code = "precondition_failed"


class PreconditionRequired(ApplicationError):
    http_status = 428
    default_code = "precondition_required"


# --- input ---------------------------------------------------------------------


class PersonFactsIn(serializers.Serializer):
    family_name = StrictCharField(max_length=200, help_text="Familienname.")
    given_names = StrictCharField(max_length=200, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    date_of_birth_approximate = StrictBooleanField(required=False)
    sex = EnumField(Person.Sex, required=False)
    nationality = StrictCharField(max_length=100, required=False, allow_blank=True)
    languages = StrictCharField(max_length=200, required=False, allow_blank=True)
    literacy = EnumField(Person.Literacy, required=False)
    phone = StrictCharField(max_length=50, required=False, allow_blank=True)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    au_allocation_date = serializers.DateField(required=False, allow_null=True)
    ukraine_displaced = StrictBooleanField(required=False)


MAX_PEOPLE = 20
DECISION_FIELDS = ("relation", "known_person_id", "not_known", "opens_case")


class IntakePersonIn(PersonFactsIn):
    relation = EnumField(
        HouseholdMembership.Relation,
        required=False,
        help_text="Beziehung im Haushalt (die erste Person: contact person).",
    )
    known_person_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Antwort auf die Dublettenwarnung: es ist diese bekannte Person.",
    )
    not_known = StrictBooleanField(
        required=False,
        help_text="Antwort auf die Dublettenwarnung: es ist keine der vorgeschlagenen Personen.",
    )
    opens_case = StrictBooleanField(
        required=False, help_text="Ein weiteres erwachsenes Mitglied bekommt einen eigenen Fall."
    )


class CaseRegisterIn(serializers.Serializer):
    intake_channel = EnumField(
        Case.IntakeChannel,
        exclude=[Case.IntakeChannel.HANDOVER_FSA],
        help_text="Zugangsweg (Übergaben werden unter /api/v1/handovers/ angenommen).",
    )
    owner = StrictIntegerField(
        required=False, min_value=1, help_text="Integrationsmanager:in (Standard: wer anlegt)."
    )
    gemeinde = StrictIntegerField(required=False, allow_null=True, min_value=1)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    people = IntakePersonIn(many=True, allow_empty=False)

    def validate_people(self, value: list[Any]) -> list[Any]:
        if len(value) > MAX_PEOPLE:
            raise serializers.ValidationError(
                _("At most %(n)d persons at once.") % {"n": MAX_PEOPLE}
            )
        return value


def _new_person(data: dict[str, Any]) -> NewPerson:
    facts = {k: v for k, v in data.items() if k not in DECISION_FIELDS}
    return NewPerson(
        facts=facts,
        relation=data.get("relation") or HouseholdMembership.Relation.HEAD,
        known_person_id=data.get("known_person_id"),
        not_known=bool(data.get("not_known")),
        opens_case=bool(data.get("opens_case")),
    )


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _gemeinde(value: Any) -> Gemeinde | None:
    if value is None:
        return None
    found = Gemeinde.objects.filter(pk=value).first()
    if found is None:
        raise services.InvalidArguments(
            _("Please choose a valid value."), fields={"gemeinde": [_("Unknown Gemeinde.")]}
        )
    return found


def _owner(request: AuthenticatedRequest, value: Any) -> User:
    if value is None:
        return request.user
    traeger_id = request.user.traeger_id or 0
    found = User.objects.filter(pk=value, traeger_id=traeger_id).first()
    if found is None:
        raise services.InvalidArguments(
            _("Cases are owned by an active integration manager."),
            fields={"owner": [_("Choose an integration manager.")]},
        )
    return found


def _expected_version(request: Request, body_version: Any) -> tuple[Any, bool]:
    """The version the client edited, and whether it came as `If-Match`."""
    header = request.headers.get("If-Match")
    if header:
        return header, True
    if body_version is None:
        raise PreconditionRequired(
            _(
                "Send the version you edited (If-Match header or `version`), so that no "
                "newer change is overwritten."
            )
        )
    return body_version, False


def _conditional(request: Request, body_version: Any, call: Any) -> Any:
    version, from_header = _expected_version(request, body_version)
    try:
        return call(version)
    except services.StaleVersion as stale:
        if from_header:
            raise PreconditionFailed(stale.message) from None
        raise


# --- output --------------------------------------------------------------------


class PersonDataOut(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    family_name = serializers.CharField()
    given_names = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    sex = EnumField(Person.Sex)
    nationality = serializers.CharField()
    languages = serializers.CharField()
    literacy = EnumField(Person.Literacy)
    phone = serializers.CharField()
    address = serializers.CharField()
    residence_status = serializers.CharField(source="residence_status.key", allow_null=True)
    benefit_status = serializers.CharField(source="benefit_status.key", allow_null=True)
    accommodation_stage = serializers.CharField(source="accommodation_stage.key", allow_null=True)
    au_allocation_date = serializers.DateField(allow_null=True)
    ukraine_displaced = serializers.BooleanField()


class MemberCaseOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    owner = serializers.IntegerField()
    consultation_start = serializers.DateField(allow_null=True)
    effective_end = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)
    plan_version = serializers.IntegerField(allow_null=True)
    plan_status = serializers.CharField(allow_null=True)
    goals = serializers.IntegerField()


class HouseholdMemberDataOut(serializers.Serializer):
    person = PersonDataOut()
    relation = serializers.CharField()
    may_open_case = serializers.BooleanField()
    cases = MemberCaseOut(many=True)


class HouseholdDataOut(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    address = serializers.CharField()
    gemeinde = serializers.IntegerField(allow_null=True)
    members = HouseholdMemberDataOut(many=True)
    family_consultations = serializers.ListField(child=serializers.DictField())


def _person_data(person: Person) -> dict[str, Any]:
    return dict(PersonDataOut(person).data)


def _household_data(view: HouseholdView) -> dict[str, Any]:
    household = view.household
    return {
        "id": household.pk,
        "version": household.version,
        "address": household.address,
        "gemeinde": household.gemeinde_id,
        "members": [
            {
                "person": _person_data(member.person),
                "relation": member.membership.relation.lower(),
                "may_open_case": member.may_open_case,
                "cases": [
                    {
                        "id": shown.case.pk,
                        "status": shown.case.status.lower(),
                        "owner": shown.case.owner_id,
                        "consultation_start": shown.clock.start,
                        "effective_end": shown.clock.effective_end,
                        "days_left": shown.clock.days_left,
                        "plan_version": shown.plan.version if shown.plan else None,
                        "plan_status": shown.plan.status.lower() if shown.plan else None,
                        "goals": shown.goals,
                    }
                    for shown in member.cases
                ],
            }
            for member in view.members
        ],
        "family_consultations": [
            {
                "id": consultation.pk,
                "case_id": consultation.case_id,
                "held_on": consultation.held_on,
                "participants": sorted(p.pk for p in consultation.participants.all()),
            }
            for consultation in view.family_consultations
        ],
    }


def _etag(version: int) -> str:
    return f'"{version}"'


def _with_etag(data: dict[str, Any], code: int = status.HTTP_200_OK) -> Response:
    response = Response(data, status=code)
    response["ETag"] = _etag(data["version"])
    return response


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description='ETag of the version edited, e.g. "3" (or send `version` in the body).',
)


# --- views ---------------------------------------------------------------------


REGISTER_SCHEMA: dict[str, Any] = dict(
    request=CaseRegisterIn,
    responses={
        201: inline_serializer(
            "CaseRegistered",
            {
                "case_id": serializers.IntegerField(),
                "case_ids": serializers.ListField(child=serializers.IntegerField()),
                "person_ids": serializers.ListField(child=serializers.IntegerField()),
                "household_id": serializers.IntegerField(allow_null=True),
            },
        ),
        **error_responses(400, 401, 403, 409, 415),
    },
    description=(
        "Register a person or household that came without a handover (self_referral, "
        "outreach, authority_allocation, referral_other_service). Persons already known or "
        "waiting in a handover give 409 `possible_duplicate` with `candidates` per person "
        "(`people.0`, ...); send the body again with `known_person_id` (it is that person) "
        "or `not_known: true` (it is someone else) for each."
    ),
)


def case_register_post(request: AuthenticatedRequest) -> Response:
    data = _valid(CaseRegisterIn, request)
    intake = services.case_register(
        actor=request.user,
        now=timezone.now(),
        owner=_owner(request, data.get("owner")),
        intake_channel=data["intake_channel"],
        gemeinde=_gemeinde(data.get("gemeinde")),
        address=data.get("address", ""),
        people=[_new_person(item) for item in data["people"]],
    )
    return Response(
        {
            "case_id": intake.case.pk,
            "case_ids": [case.pk for case in intake.cases],
            "person_ids": [person.pk for person in intake.people],
            "household_id": intake.case.household_id,
        },
        status=status.HTTP_201_CREATED,
    )


class PersonPatchIn(serializers.Serializer):
    version = StrictIntegerField(required=False, min_value=1)
    family_name = StrictCharField(max_length=200, required=False)
    given_names = StrictCharField(max_length=200, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = EnumField(Person.Sex, required=False)
    nationality = StrictCharField(max_length=100, required=False, allow_blank=True)
    languages = StrictCharField(max_length=200, required=False, allow_blank=True)
    literacy = EnumField(Person.Literacy, required=False)
    phone = StrictCharField(max_length=50, required=False, allow_blank=True)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    residence_status = StrictCharField(
        max_length=50, required=False, allow_blank=True, help_text="Katalogschlüssel."
    )
    benefit_status = StrictCharField(
        max_length=50, required=False, allow_blank=True, help_text="Katalogschlüssel."
    )
    ukraine_displaced = StrictBooleanField(required=False)


class PersonView(APIView):
    @extend_schema(responses={200: PersonDataOut, **error_responses(401, 404)})
    def get(self, request: Request, person_id: str) -> Response:
        """A person's data (for the managers of their cases), with its version as ETag."""
        person = person_get_for_user(
            user=request.user, person_id=person_id, now=timezone.now(), view="api:person"
        )
        return _with_etag(_person_data(person))

    @extend_schema(
        request=PersonPatchIn, parameters=[IF_MATCH], responses={200: PersonDataOut, **EDIT_ERRORS}
    )
    def patch(self, request: AuthenticatedRequest, person_id: str) -> Response:
        """Change a person's data; audited field by field in each of their cases."""
        person_check_for_user(user=request.user, person_id=person_id, now=timezone.now())
        data = _valid(PersonPatchIn, request)
        body_version = data.pop("version", None)
        person = _conditional(
            request,
            body_version,
            lambda version: services.person_update(
                person=person_id, actor=request.user, now=timezone.now(), version=version, **data
            ),
        )
        return _with_etag(_person_data(person))


class HouseholdPatchIn(serializers.Serializer):
    version = StrictIntegerField(required=False, min_value=1)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    gemeinde = StrictIntegerField(required=False, allow_null=True, min_value=1)


def _household(request: Request, household_id: str) -> dict[str, Any]:
    view = household_get_for_user(
        user=request.user, household_id=household_id, now=timezone.now(), view="api:household"
    )
    return _household_data(view)


class HouseholdDetailView(APIView):
    @extend_schema(responses={200: HouseholdDataOut, **error_responses(401, 404)})
    def get(self, request: Request, household_id: str) -> Response:
        """The household: members, the members' cases the caller may read (status, clock,
        plan) and the family consultations; its version as ETag."""
        return _with_etag(_household(request, household_id))

    @extend_schema(
        request=HouseholdPatchIn,
        parameters=[IF_MATCH],
        responses={200: HouseholdDataOut, **EDIT_ERRORS},
    )
    def patch(self, request: AuthenticatedRequest, household_id: str) -> Response:
        """Change the household's address or Gemeinde (members at the old address move too)."""
        household_check_for_user(user=request.user, household_id=household_id, now=timezone.now())
        data = _valid(HouseholdPatchIn, request)
        body_version = data.pop("version", None)
        changes: dict[str, Any] = {}
        if "address" in data:
            changes["address"] = data["address"]
        if "gemeinde" in data:
            changes["gemeinde"] = _gemeinde(data["gemeinde"])
        _conditional(
            request,
            body_version,
            lambda version: services.household_update(
                household=household_id,
                actor=request.user,
                now=timezone.now(),
                version=version,
                **changes,
            ),
        )
        return _with_etag(_household(request, household_id))


class MemberAddIn(IntakePersonIn):
    version = StrictIntegerField(required=False, min_value=1)


class HouseholdMembersView(APIView):
    @extend_schema(
        request=MemberAddIn, parameters=[IF_MATCH], responses={201: HouseholdDataOut, **EDIT_ERRORS}
    )
    def post(self, request: AuthenticatedRequest, household_id: str) -> Response:
        """Add a member (a new person, or a known one after the duplicate check)."""
        household_check_for_user(user=request.user, household_id=household_id, now=timezone.now())
        data = _valid(MemberAddIn, request)
        body_version = data.pop("version", None)
        data.setdefault("relation", HouseholdMembership.Relation.OTHER)
        _conditional(
            request,
            body_version,
            lambda version: services.household_member_add(
                household=household_id,
                actor=request.user,
                now=timezone.now(),
                version=version,
                member=_new_person(data),
            ),
        )
        return _with_etag(_household(request, household_id), status.HTTP_201_CREATED)


class MemberPatchIn(serializers.Serializer):
    version = StrictIntegerField(required=False, min_value=1)
    relation = EnumField(HouseholdMembership.Relation)


class HouseholdMemberView(APIView):
    @extend_schema(
        request=MemberPatchIn,
        parameters=[IF_MATCH],
        responses={200: HouseholdDataOut, **EDIT_ERRORS},
    )
    def patch(self, request: AuthenticatedRequest, household_id: str, person_id: str) -> Response:
        """Change a member's relation in the household."""
        household_check_for_user(user=request.user, household_id=household_id, now=timezone.now())
        data = _valid(MemberPatchIn, request)
        _conditional(
            request,
            data.get("version"),
            lambda version: services.household_member_relation_set(
                household=household_id,
                person=person_id,
                actor=request.user,
                now=timezone.now(),
                version=version,
                relation=data["relation"],
            ),
        )
        return _with_etag(_household(request, household_id))

    @extend_schema(
        parameters=[
            IF_MATCH,
            OpenApiParameter("version", OpenApiTypes.INT, description="or the If-Match header"),
        ],
        responses={200: HouseholdDataOut, **EDIT_ERRORS},
    )
    def delete(self, request: AuthenticatedRequest, household_id: str, person_id: str) -> Response:
        """Take a member out of the household (their own case leaves with them)."""
        household_check_for_user(user=request.user, household_id=household_id, now=timezone.now())
        _conditional(
            request,
            request.query_params.get("version"),
            lambda version: services.household_member_remove(
                household=household_id,
                person=person_id,
                actor=request.user,
                now=timezone.now(),
                version=version,
            ),
        )
        return _with_etag(_household(request, household_id))


class MemberCaseIn(serializers.Serializer):
    owner = StrictIntegerField(required=False, min_value=1)


class HouseholdMemberCaseView(APIView):
    @extend_schema(
        request=MemberCaseIn,
        responses={
            201: inline_serializer("MemberCaseOpened", {"case_id": serializers.IntegerField()}),
            **error_responses(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request: AuthenticatedRequest, household_id: str, person_id: str) -> Response:
        """Open an adult member's own case (own plan, own consultations)."""
        household_check_for_user(user=request.user, household_id=household_id, now=timezone.now())
        data = _valid(MemberCaseIn, request)
        case = services.household_member_case_open(
            household=household_id,
            person=person_id,
            actor=request.user,
            now=timezone.now(),
            owner=_owner(request, data.get("owner")),
        )
        return Response({"case_id": case.pk}, status=status.HTTP_201_CREATED)
