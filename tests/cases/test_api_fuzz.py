"""API fuzzing (RELIABILITY.md F1): Schemathesis against Lotse's own schema.

The OpenAPI schema is loaded from the WSGI app (`/api/schema/`) and every
operation is fuzzed for each of three roles of one team: its integration
manager, its supervisor and an auditor of its Träger, each with an API
token. Per operation and role Hypothesis generates the profile's number of
examples (positive and negative; tests/hypothesis_profiles.py: 30 in
`make test`, 120 in `make test-deep`), for the manager on top of
Schemathesis' coverage phase. Every response must pass Schemathesis'
default checks (see `EXCLUDED_CHECKS` for the one left out): no 5xx, a
documented status code and content type, a body that conforms to the
schema, schema-violating input rejected,
authentication enforced (`ignored_auth` resends without and with a wrong
token), a JSON 405 with an Allow header for other methods. The checks that
follow resources across requests (`use_after_free`, ...) only bite in a
stateful run (F1 nightly).

Generated ids rarely name a real row, so they are steered: three times in
four a valid generated id (a string, or an integer in 0..STEERED_BELOW)
is swapped, deterministically, for the id of a seeded object (cases in
every state, their consents, goals, referrals and extension requests, the
team's and a foreign team's; a row of a case brings its case's id along),
a transition name for a real one, and strings in catalogue fields for
catalogue keys. Only valid values are swapped for valid values, so a
negative case stays negative. That way the fuzzer reaches the services
behind the access chokepoint and the catalogue lookup, not only their 404
and 400.

The Django app runs in the test's thread and shares its connection, so the
ordinary (rolled back) `django_db` test isolates the run.
"""

from __future__ import annotations

import re
import zlib
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import Role
from cases import services
from cases.models import (
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    Consent,
    ExtensionRequest,
    Goal,
    Referral,
)
from tests.accounts.factories import TeamFactory, UserFactory, api_key
from tests.cases.factories import journey_to, manager_in, supervisor_of
from tests.hypothesis_profiles import BUDGET, PROFILE

pytestmark = [pytest.mark.django_db, pytest.mark.property]

ROLES = ["manager", "supervisor", "auditor"]
STATES = [
    CaseStatus.REGISTERED,
    CaseStatus.INITIAL_COUNSELLING,
    CaseStatus.PLANNING,
    CaseStatus.ACTIVE,
    CaseStatus.DORMANT,
    CaseStatus.CLOSING,
    CaseStatus.CLOSED,
    CaseStatus.REJECTED,
]
# Body fields that take a catalogue key: generated strings there are swapped
# for real keys (deterministically, or kept), so requests get past the
# catalogue lookup into the services.
CATALOGUE_FIELDS = {
    "POST /api/v1/cases/{case_id}/consultations/": {
        "form": Catalogue.CONSULTATION_FORM,
        "setting": Catalogue.CONSULTATION_SETTING,
        "topics": Catalogue.CONSULTATION_TOPIC,
    },
    "PUT /api/v1/cases/{case_id}/assessment/": {"items": Catalogue.FIELD_OF_ACTION},
    "POST /api/v1/cases/{case_id}/plan/goals/": {"field_of_action": Catalogue.FIELD_OF_ACTION},
    "POST /api/v1/cases/{case_id}/referrals/": {
        "target_service": Catalogue.REFERRAL_TARGET,
        "topic": Catalogue.CONSULTATION_TOPIC,
    },
    "POST /api/v1/cases/{case_id}/extension-requests/": {"reason": Catalogue.EXTENSION_REASON},
    "POST /api/v1/network-contacts/": {"category": Catalogue.NETWORK_CONTACT_CATEGORY},
    "POST /api/v1/cases/{case_id}/transitions/record_first_consultation/": {
        "benefit_status": Catalogue.BENEFIT_STATUS
    },
    "POST /api/v1/cases/{case_id}/transitions/close/": {"closure_reason": Catalogue.CLOSURE_REASON},
}
MAX_KEY_LENGTH = 50  # the fields' maxLength: longer (and empty) strings stay invalid
STEERED_BELOW = 10_000  # larger (and negative) generated ids are sent as they are
SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # transition names are slugs

NO_COVERAGE = {"phases": {"coverage": {"enabled": False}}}

# Left out of Schemathesis' defaults, each with its reason:
EXCLUDED_CHECKS = [
    # "Schema-valid request rejected": whether a request is valid depends on
    # what the schema cannot say: catalogue keys are rows with validity
    # dates (DOMAIN.md §11), dates are checked against today and the case's
    # clock, and a token needs a real password. The contract (API.md) answers
    # such input with 400 and `fields`; the checks that remain make sure that
    # answer is documented and has the error shape.
    positive_data_acceptance,
]


def _seed(now: Any) -> dict[str, Any]:
    """One team (manager, colleague, supervisor, auditor) with cases in
    every state, and one foreign team's case; return the three callers."""
    team = TeamFactory()
    manager = manager_in(team)
    colleague = manager_in(team)
    callers = {
        "manager": manager,
        "supervisor": supervisor_of(team),
        "auditor": UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
    }
    for state in STATES:
        journey_to(state, owner=manager, now=now)
    active = journey_to(CaseStatus.ACTIVE, owner=manager, now=now)
    services.extension_request_submit(
        case=active, actor=manager, now=now, reason="illiteracy", months=6, justification="Kurs"
    )
    services.referral_record(
        case=active,
        actor=manager,
        now=now,
        referred_on=timezone.localdate(now),
        target_service="mbe",
        mode="APPOINTMENT_ARRANGED",
    )
    others = journey_to(CaseStatus.ACTIVE, owner=colleague, now=now)
    services.extension_request_submit(
        case=others, actor=colleague, now=now, reason="illiteracy", months=3, justification="Kurs"
    )
    foreign = journey_to(CaseStatus.ACTIVE, now=now)
    services.extension_request_submit(
        case=foreign, actor=foreign.owner, now=now, reason="illiteracy", months=3, justification="x"
    )
    services.network_contact_record(
        actor=manager,
        now=now,
        contact_date=timezone.localdate(now),
        category="other_networking",
        organisation="Jobcenter",
        format="MEETING",
    )
    return callers


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def token(role: str) -> str:
    callers = _seed(timezone.now() - timedelta(days=30))
    return api_key(callers[role])


@pytest.fixture
def pools(token: str) -> dict[str, list[Any]]:
    """Real values per path parameter, plus one that names nothing. Ids of
    a case's rows come with their case's id: (case_id, id)."""
    found: dict[str, list[Any]] = {
        "case_id": list(Case.objects.values_list("pk", flat=True)),
        "request_id": list(ExtensionRequest.objects.values_list("pk", flat=True)),
        "consent_id": list(Consent.objects.values_list("case_id", "pk")),
        "goal_id": list(Goal.objects.values_list("plan__case_id", "pk")),
        "referral_id": list(Referral.objects.values_list("case_id", "pk")),
    }
    pools: dict[str, list[Any]] = {}
    for key, values in found.items():
        values.sort()
        pairs = bool(values) and isinstance(values[0], tuple)
        highest = max((value[1] if pairs else value for value in values), default=0)
        pools[key] = [*values, (None, highest + 1000) if pairs else highest + 1000]
    pools["name"] = [*sorted(services.TRANSITIONS), "no_such_transition"]
    return pools


@pytest.fixture
def catalogue_keys(token: str) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for catalogue, key in CatalogueEntry.objects.order_by("catalogue", "order", "key").values_list(
        "catalogue", "key"
    ):
        keys.setdefault(catalogue, []).append(key)
    return keys


@pytest.fixture
def wsgi_app() -> Any:
    """The project's WSGI app, kept from closing the test's connection.

    After each request Django closes a connection that is inside a
    transaction (here: the test's); on SQLite's in-memory database that is
    a no-op, on PostgreSQL it would end the test. Django's test client
    unhooks the same receiver.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(role: str, wsgi_app: Any, pools: dict[str, list[Any]]) -> Any:
    # The coverage phase walks the boundaries of every body and parameter:
    # validation that only the manager reaches. For the supervisor and the
    # auditor the same requests stop at the access check (403/404), so they
    # skip it (and save a minute of the CI budget); fuzzing stays.
    config = None if role == "manager" else SchemathesisConfig.from_dict(NO_COVERAGE)
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, config=config)


def _pick(pool: list[Any], *seed: Any) -> Any:
    """Deterministically one of `pool`, or (one time in four) None: keep
    the generated value."""
    digest = zlib.crc32(repr(seed).encode())
    return None if digest % 4 == 0 else pool[digest // 4 % len(pool)]


def _admits(parameter: Any, value: Any) -> bool:
    """Whether `value` is valid for the path parameter (the coverage phase
    sends integers as text)."""
    if parameter.is_valid(value):
        return True
    return isinstance(value, str) and value.isdigit() and parameter.is_valid(int(value))


def _steer_path(case: Any, pools: dict[str, list[Any]]) -> None:
    """Swap valid generated path values for real ones, keeping how they
    are sent; a picked row of a case brings its case's id along. Ids
    outside 0..STEERED_BELOW stay as generated."""
    params = case.path_parameters or {}
    declared = {parameter.name: parameter for parameter in case.operation.path_parameters}
    seed = (case.operation.label, case.body, case.query)

    def steerable(key: str) -> bool:
        value = params[key]
        if key not in pools or not _admits(declared[key], value):
            return False
        if key == "name":
            return SLUG.fullmatch(str(value)) is not None
        number = int(value) if str(value).isdigit() else None
        return number is None or number < STEERED_BELOW

    def put(key: str, value: Any) -> None:
        sent = str(value) if isinstance(params[key], str) else value
        if _admits(declared[key], sent):
            params[key] = sent

    todo = {key for key in params if steerable(key)}
    for key in sorted(todo - {"case_id"}):
        picked = _pick(pools[key], params[key], seed)
        if isinstance(picked, tuple):
            case_id, picked = picked
            if case_id is not None and "case_id" in todo:
                put("case_id", case_id)
                todo.discard("case_id")
        if picked is not None:
            put(key, picked)
    if "case_id" in todo:
        picked = _pick(pools["case_id"], params["case_id"], seed)
        if picked is not None:
            put("case_id", picked)


def _steer_body(case: Any, keys: dict[str, list[str]]) -> None:
    """Swap generated strings in catalogue fields for catalogue keys."""
    fields = CATALOGUE_FIELDS.get(case.operation.label, {})
    body = case.body
    if not fields or not isinstance(body, dict):
        return

    def swapped(value: Any, catalogue: str) -> Any:
        if isinstance(value, str) and 1 <= len(value) <= MAX_KEY_LENGTH:
            picked = _pick(keys[catalogue], value, case.operation.label)
            return value if picked is None else picked
        return value

    for name, catalogue in fields.items():
        if name == "items" and isinstance(body.get(name), list):
            for item in body[name]:
                if isinstance(item, dict) and "field_of_action" in item:
                    item["field_of_action"] = swapped(item["field_of_action"], catalogue)
        elif isinstance(body.get(name), list):
            body[name] = [swapped(value, catalogue) for value in body[name]]
        elif name in body:
            body[name] = swapped(body[name], catalogue)


schema = schemathesis.pytest.from_fixture("api_schema")


# Examples per operation and role from the Hypothesis profile (100 before
# the profiles; tests/hypothesis_profiles.py), derandomized unless exploring.
@settings(
    parent=settings.get_profile(PROFILE),
    max_examples=BUDGET.fuzz_examples,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_api_conforms_to_its_schema_for_every_role(
    case: Any, token: str, pools: dict[str, list[Any]], catalogue_keys: dict[str, list[str]]
) -> None:
    _steer_path(case, pools)
    _steer_body(case, catalogue_keys)
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"}, excluded_checks=EXCLUDED_CHECKS
    )
