"""Cross-manager access through the API (RELIABILITY.md P2, API.md).

Manager A requests every case-scoped path of the API with manager B's ids,
with every method the view implements and a plausible body: every answer is
a 404 in the API's error format that carries none of B's data, and B's case
shows up in none of A's lists. The paths are enumerated from the URLconf,
so a new path is covered (or, if it names an object this test cannot fill
in, fails) without anyone remembering to add it here.

The same holds for a supervisor of another team, an auditor of another
Träger and the coordinating office of B's own Kreis. The supervisor of B's
team sees the case (detail, `person` null) but gets 403 on its content; the
auditor of B's Träger reads the history and gets 403 on the content. Every
successful read of case data writes exactly one ReadAccess row.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import ReadAccess
from caseload.models import CaseloadImport
from cases import services
from cases.models import Case, CaseStatus, Consent, Consultation
from handover.models import ImportJob
from notifications.services import notification_enqueue
from tests.accounts.factories import TeamFactory, UserFactory, api_key
from tests.cases.factories import journey_to, manager_in, supervisor_of

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
# B's secrets: none may occur in any answer to someone who may not read them.
FAMILY_NAME = "Zzyxbergerova"
GIVEN_NAMES = "Quillana"
GOAL_TITLE = "Qzx-Ziel Fahrerlaubnis"
ORGANISATION = "Qzx-Beratungsstelle Nord"
JUSTIFICATION = "Qzx-Begruendung Alphabetisierung"
NOTES = "Qzx-Notiz Wohnungssuche"
RECIPIENT = "Qzx-Empfaenger Jobcenter"
SECRETS = (FAMILY_NAME, GIVEN_NAMES, GOAL_TITLE, ORGANISATION, JUSTIFICATION, NOTES, RECIPIENT)

# A plausible body per route (by URL name), so a request that got past the
# access check would do something; routes without an entry get {}.
BODIES: dict[str, dict[str, Any]] = {
    "api-case-transition": {"reason": "client_request"},
    "api-consents": {"scope": "case_processing", "form": "signed_paper", "language": "ar"},
    "api-consultations": {
        "date": "{today}",
        "duration_minutes": 30,
        "form": "office",
        "topics": ["language"],
    },
    "api-assessment": {
        "assessed_on": "{today}",
        "items": [{"field_of_action": "language", "need_level": "high"}],
    },
    "api-goals": {
        "field_of_action": "work",
        "title": "Arbeit finden",
        "success_criterion": "Vertrag",
        "target_date": "{in_90_days}",
    },
    "api-goal": {"status": "achieved"},
    "api-measures": {"description": "Bewerbung schreiben", "responsible": "client"},
    "api-referrals": {
        "date": "{today}",
        "target_service": "mbe",
        "mode": "accompanied",
    },
    "api-referral": {"outcome": "taken_up"},
    "api-case-extension-requests": {"reason": "illiteracy", "months": 3, "justification": "x"},
    "api-extension-approve": {"note": "ok"},
    "api-extension-reject": {"note": "nein"},
    "api-handover-return": {"reason": "incomplete"},
    "api-plan-agree": {"agreement_form": "signature", "agreement_language": "ar"},
    "api-legal-hold": {"legal_hold": True, "reason": "Klage"},
    "api-cv-entries": {"kind": "work", "title": "Tischler"},
    "api-appointments": {
        "starts_at": "{in_90_days}T10:00:00+01:00",
        "duration_minutes": 30,
        "form": "office",
        "topic": "work",
    },
    "api-appointment-held": {"notes": "x"},
    # the manager's day: a correction needs its reason, a cancellation only that
    **{
        f"api-{entry}-{action}": {"reason": "doppelt erfasst"}
        for entry in (
            "consultation",
            "referral",
            "assessment",
            "goal",
            "measure",
            "network-contact",
        )
        for action in ("correct", "cancel")
    },
    # persons and households: the version edited, so only access control stops it
    "api-person": {"version": 1, "family_name": "Qzx-Neu"},
    "api-household": {"version": 1, "address": "Qzx-Str. 1"},
    "api-household-members": {"version": 1, "family_name": "Qzx-Neu", "relation": "child"},
    "api-household-member": {"version": 1, "relation": "other"},
}
# Handovers come into the shared queue of every manager and supervisor of the
# Träger that serves the Gemeinde; one who tries to decide a handover someone
# else already decided learns that it was decided (409, API.md: a concurrent
# change won), without any of its content.
DECISION_ROUTES = ("api-handover-accept", "api-handover-return")
# The content of a case: its managers read it, a supervisor or auditor gets 403.
CONTENT_ROUTES = (
    "api-consultations",
    "api-plan",
    "api-goals",
    "api-referrals",
    "api-assessment",
    "api-consents",
    "api-clock-facts",
)


# --- enumerating the API's case-scoped paths -------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    template: str
    parameters: tuple[str, ...]
    view_class: Any

    @property
    def methods(self) -> list[str]:
        """The HTTP methods the view implements (HEAD comes with GET)."""
        implemented = [m for m in METHODS if callable(getattr(self.view_class, m, None))]
        return implemented + (["head"] if "get" in implemented else [])


def _view_class(callback: Any) -> Any:
    # Class-based views carry `view_class`; DRF's @api_view functions `cls`.
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            found.append((prefix + str(entry.pattern), entry))
    return found


def api_routes(patterns: list[Any] | None = None) -> list[Route]:
    """Every path under /api/v1/ that names an object (has a parameter)."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    routes = []
    for template, entry in _walk(patterns):
        if not template.lstrip("^").startswith(API_PREFIX):
            continue
        parameters = tuple(
            getattr(entry.pattern, "converters", None) or entry.pattern.regex.groupindex
        )
        if not parameters:
            continue
        assert entry.name, f"the API path {template!r} has no name, so it cannot be requested"
        routes.append(Route(entry.name, template, parameters, _view_class(entry.callback)))
    return routes


# The correction paths of the manager's day name their entry `entry_id`:
# which of B's objects that is depends on the path.
ENTRY_IDS = {
    "api-consultation-correct": "consultation_id",
    "api-consultation-cancel": "consultation_id",
    "api-referral-correct": "referral_id",
    "api-referral-cancel": "referral_id",
    "api-assessment-correct": "assessment_id",
    "api-assessment-cancel": "assessment_id",
    "api-goal-correct": "goal_id",
    "api-goal-cancel": "goal_id",
}


def url_for(route: Route, ids: dict[str, Any]) -> str:
    if route.name in ENTRY_IDS and ENTRY_IDS[route.name] in ids:
        ids = {**ids, "entry_id": ids[ENTRY_IDS[route.name]]}
    missing = [name for name in route.parameters if name not in ids]
    assert not missing, (
        f"{route.template} names {missing}: seed such an object of manager B in `world` "
        "and add its id to `b_ids`, so the access test covers the new path"
    )
    return reverse(route.name, kwargs={name: ids[name] for name in route.parameters})


def body_for(name: str) -> dict[str, Any]:
    today = timezone.localdate()
    values = {"today": today.isoformat(), "in_90_days": (today + timedelta(days=90)).isoformat()}
    text = json.dumps(BODIES.get(name, {}))
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


# --- the two managers and their surroundings ------------------------------------


@dataclass
class World:
    a: Any
    b: Any
    lead_b: Any  # supervisor of B's team
    auditor_b: Any  # auditor of B's Träger
    lead_other: Any  # supervisor of another team of the same Träger
    auditor_other: Any  # auditor of another Träger
    coordinator_b: Any  # coordinating office of B's Kreis (figures, never cases)
    a_cases: list[Case]
    b_case: Case
    b_ids: dict[str, Any]


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    now = timezone.now() - timedelta(days=30)
    team = TeamFactory()
    a, b = manager_in(team), manager_in(team)
    other_team = TeamFactory(traeger=team.traeger)
    a_cases = [journey_to(CaseStatus.ACTIVE, owner=a, now=now), journey_to("REGISTERED", owner=a)]
    services.extension_request_submit(
        case=a_cases[0], actor=a, now=now, reason="illiteracy", months=2, justification="A"
    )

    case = journey_to(CaseStatus.ACTIVE, owner=b, now=now)
    case.person.family_name, case.person.given_names = FAMILY_NAME, GIVEN_NAMES
    case.person.save(update_fields=["family_name", "given_names"])
    goal = services.goal_add(
        case=case,
        actor=b,
        now=now,
        field_of_action="work",
        title=GOAL_TITLE,
        success_criterion="Fahrerlaubnis liegt vor",
        target_date=timezone.localdate(now) + timedelta(days=200),
    )
    referral = services.referral_record(
        case=case,
        actor=b,
        now=now,
        referred_on=timezone.localdate(now),
        target_service="mbe",
        mode="APPOINTMENT_ARRANGED",
        organisation=ORGANISATION,
    )
    consent = services.consent_record(
        case=case,
        actor=b,
        now=now,
        scope=Consent.Scope.HANDOVER_OUT,
        form=Consent.Form.SIGNED_PAPER,
        language="ar",
        recipient=RECIPIENT,
    )
    consultation = services.consultation_record(
        case=case,
        actor=b,
        now=now,
        held_on=timezone.localdate(now),
        duration_minutes=30,
        form="office",
        topics=["housing"],
        notes=NOTES,
    )
    assessment = services.assessment_record(
        case=case,
        actor=b,
        now=now,
        assessed_on=timezone.localdate(now),
        items=[{"field_of_action": "language", "need_level": "HIGH"}],
    )
    measure = services.measure_add(
        goal=goal, actor=b, now=now, description=GOAL_TITLE, responsible="CLIENT"
    )
    contact = services.network_contact_record(
        actor=b,
        now=now,
        contact_date=timezone.localdate(now),
        category="internal_authorities",
        organisation=ORGANISATION,
        format="MEETING",
    )
    extension = services.extension_request_submit(
        case=case, actor=b, now=now, reason="illiteracy", months=6, justification=JUSTIFICATION
    )
    with transaction.atomic():
        (notification,) = notification_enqueue(
            recipients=[b], kind="DEPUTY_TASK", key="b-only", case=case, now=now
        )
    handover = _handover_accepted_by(b, now)
    document = services.document_upload(
        case=case, actor=b, now=now, content=b"%PDF-1.4 B", kind="CERTIFICATE", title=NOTES
    )
    cv_entry = services.cv_entry_add(
        case=case, actor=b, now=now, kind="WORK", title="Tischler", organisation=ORGANISATION
    )
    from appointments.services import appointment_plan

    appointment = appointment_plan(
        case=case,
        actor=b,
        now=now,
        starts_at=now + timedelta(days=1),
        duration_minutes=30,
        form="office",
        topic="work",
        place=ORGANISATION,
    )
    household_case = Case.objects.get(pk=handover.case_id)
    import_job = ImportJob.objects.create(
        id=uuid.uuid4(), submitted_by=b, filename="uebergaben.csv", created_at=now
    )
    lead_b = supervisor_of(team)
    caseload_run = CaseloadImport.objects.create(
        traeger=team.traeger,
        team=team,
        created_by=lead_b,
        created_at=now,
        filename="bestand.csv",
        dry_run=True,
    )
    return World(
        a=a,
        b=b,
        lead_b=lead_b,
        auditor_b=UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
        lead_other=supervisor_of(other_team),
        auditor_other=UserFactory(role=Role.AUDITOR, team=None, traeger=TeamFactory().traeger),
        coordinator_b=UserFactory(role=Role.COORDINATOR, kreis=team.traeger.kreis),
        a_cases=a_cases,
        b_case=Case.objects.get(pk=case.pk),
        b_ids={
            "case_id": case.pk,
            "goal_id": goal.pk,
            "referral_id": referral.pk,
            "consent_id": consent.pk,
            "request_id": extension.pk,
            "notification_id": notification.pk,
            "handover_id": handover.pk,
            "document_id": document.pk,
            "entry_id": cv_entry.pk,
            "appointment_id": appointment.pk,
            "consultation_id": consultation.pk,
            "assessment_id": assessment.pk,
            "measure_id": measure.pk,
            "contact_id": contact.pk,
            "person_id": household_case.person_id,
            "household_id": household_case.household_id,
            "job_id": import_job.pk,
            "run_id": caseload_run.pk,
            "name": "pause",  # B may fire it now: only access control stops A
        },
    )


def _handover_accepted_by(manager: Any, now: Any) -> Any:
    """A handover from the GU that `manager` accepted (a case of their own)."""
    from handover.services import handover_accept, handover_create
    from tests.accounts.factories import GemeindeFactory

    gemeinde = GemeindeFactory()
    manager.traeger.gemeinden.add(gemeinde)
    sender = UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=None)
    handover, _created = handover_create(
        actor=sender,
        now=now,
        data={
            "gemeinde_ags": gemeinde.ags,
            "au_allocation_date": timezone.localdate(now),
            "consent_given": True,
            "consent_form": "SIGNED_PAPER",
            "consent_language": "ar",
            "consent_given_on": timezone.localdate(now),
            "notes": NOTES,
            "gu_contact_name": "GU",
        },
        # two: a household, with its own path
        members=[
            {
                "family_name": FAMILY_NAME,
                "given_names": "Qzx-Mutter",
                "date_of_birth": "1990-01-02",
            },
            {"family_name": FAMILY_NAME, "given_names": "Qzx-Kind", "date_of_birth": "2020-03-04"},
        ],
    )
    return handover_accept(handover=handover, actor=manager, now=now, persons={})


def api(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def send(client: APIClient, method: str, url: str, body: dict[str, Any]) -> Any:
    if method in ("get", "head", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def assert_no_secrets(response: Any, label: str) -> None:
    content = response.content.decode()
    leaked = [secret for secret in SECRETS if secret in content]
    assert not leaked, f"{label}: B's data {leaked} in the answer"


def assert_api_error(response: Any, status: int, code: str, world: World, label: str) -> None:
    """The API's error body, nothing of B in it: no secret, none of the ids
    of B's objects (the ids in the path are not echoed either)."""
    assert response.status_code == status, f"{label}: {response.status_code} {response.content!r}"
    assert_no_secrets(response, label)
    if label.split()[1] == "HEAD":
        return
    body = response.json()
    assert set(body) <= {"code", "detail", "fields"}, f"{label}: not the API error body: {body}"
    assert body["code"] == code, f"{label}: {body}"
    assert isinstance(body["detail"], str), f"{label}: {body}"
    assert body["detail"], f"{label}: {body}"
    b_ids = {str(value) for key, value in world.b_ids.items() if key != "name"}
    echoed = set(re.findall(r"\d+", response.content.decode())) & b_ids
    assert not echoed, f"{label}: ids of B's objects {echoed} in the answer"


def reads_of(case: Case) -> int:
    return ReadAccess.objects.filter(case_id=case.pk).count()


# --- the enumeration itself -------------------------------------------------------


def test_the_enumeration_finds_every_api_path_that_names_an_object() -> None:
    from cases import api_urls

    routes = {route.name for route in api_routes()}
    named = {
        entry.name
        for entry in api_urls.urlpatterns
        if getattr(entry.pattern, "converters", None) or entry.pattern.regex.groupindex
    }
    assert named <= routes
    assert {"api-case", "api-case-history", "api-goal", "api-extension-approve"} <= routes
    assert all(route.methods for route in api_routes()), "a case-scoped view without methods"


def test_a_new_case_scoped_path_is_covered_or_fails_the_access_test(world: World) -> None:
    """Adding a path to the URLconf puts it under test: with known
    parameters it is requested like every other, with an unknown one the
    access test fails until B's object for it is seeded."""
    from cases import api_urls

    view = api_urls.urlpatterns[0].callback  # any view will do for the shape
    letters = "api/v1/cases/<str:case_id>/letters/"
    letter = "api/v1/cases/<str:case_id>/letters/<int:letter_id>/"
    added = [
        path(letters, view, name="api-case-letters"),
        path(letter, view, name="api-case-letter"),
    ]
    routes = api_routes([*get_resolver().url_patterns, *added])

    assert {letters, letter} <= {route.template for route in routes}
    unknown = next(route for route in routes if "letter_id" in route.parameters)
    with pytest.raises(AssertionError, match="letter_id"):
        url_for(unknown, world.b_ids)


def test_every_parameter_of_every_case_scoped_path_has_an_object_of_b(world: World) -> None:
    for route in api_routes():
        url_for(route, world.b_ids)


# --- P2: manager A, another team's supervisor, another Träger's auditor --------


@pytest.mark.parametrize("intruder", ["a", "lead_other", "auditor_other", "coordinator_b"])
def test_every_case_scoped_path_of_b_answers_404_and_shows_nothing(
    world: World, intruder: str
) -> None:
    client = api(getattr(world, intruder))
    reads_before = reads_of(world.b_case)
    requests = 0

    for route in api_routes():
        url = url_for(route, world.b_ids)
        for method in route.methods:
            label = f"{intruder} {method.upper()} {url}"
            response = send(client, method, url, body_for(route.name))
            if route.name in DECISION_ROUTES and intruder in ("a", "lead_other"):
                assert_api_error(response, 409, "handover_not_open", world, label)
            else:
                assert_api_error(response, 404, "not_found", world, label)
            requests += 1

    assert requests >= 25  # the enumeration found the API, not nothing
    assert reads_of(world.b_case) == reads_before, "a refused request was logged as a read"
    case = Case.objects.get(pk=world.b_case.pk)
    assert (case.status, case.effective_end) == (world.b_case.status, world.b_case.effective_end)


def test_a_foreign_object_is_404_before_the_body_is_read(world: World) -> None:
    """A body that is no object at all, or misses the version an edit needs,
    must not tell A anything either: the 404 comes before the body is read."""
    client = api(world.a)
    requests = 0

    for route in api_routes():
        if route.name in DECISION_ROUTES:
            continue
        url = url_for(route, world.b_ids)
        for method in ("post", "put", "patch"):
            if method not in route.methods:
                continue
            for body in ([], {}):
                label = f"a {method.upper()} {url} {body!r}"
                response = getattr(client, method)(url, body, format="json")
                assert_api_error(response, 404, "not_found", world, label)
                requests += 1

    assert requests >= 40


def test_options_answers_the_same_for_bs_ids_as_for_ids_that_name_nothing(
    world: World,
) -> None:
    """OPTIONS describes the endpoint, not the object (so it is no 404): it
    must not tell A whether B's objects exist."""
    client = api(world.a)
    nothing = {
        key: uuid.uuid4() if isinstance(value, uuid.UUID) else value + 10**6
        for key, value in world.b_ids.items()
        if key != "name"
    }
    nothing["name"] = world.b_ids["name"]

    for route in api_routes():
        real = client.options(url_for(route, world.b_ids))
        fake = client.options(url_for(route, nothing))
        assert (real.status_code, real.content) == (fake.status_code, fake.content), route.name
        assert_no_secrets(real, f"a OPTIONS {route.template}")


@pytest.mark.parametrize("intruder", ["a", "lead_other", "auditor_other", "coordinator_b"])
def test_b_appears_in_none_of_the_intruders_lists(world: World, intruder: str) -> None:
    client = api(getattr(world, intruder))
    own = {case.pk for case in world.a_cases} if intruder == "a" else set()
    b_case = world.b_case.pk
    # (list, the field of a row that names a case)
    lists = [
        ("/api/v1/cases/", "id"),
        (f"/api/v1/cases/?assignee={world.b.pk}", "id"),
        ("/api/v1/cases/?status=active", "id"),
        ("/api/v1/cases/?page_size=200", "id"),
        ("/api/v1/extension-requests/", "case"),
        ("/api/v1/extension-requests/?status=submitted", "case"),
        ("/api/v1/network-contacts/", None),
        ("/api/v1/tasks/", "case"),
        ("/api/v1/handovers/", "case"),
    ]
    for url, field in lists:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        assert_no_secrets(response, f"{intruder} GET {url}")
        page = response.json()
        if field is not None:
            assert b_case not in {row[field] for row in page["results"]}, url
        if field == "id":
            shown = {row["id"] for row in page["results"]}
            assert shown <= own, url
            assert page["count"] == len(shown), url
    everything = client.get("/api/v1/cases/?page_size=200").json()
    assert {row["id"] for row in everything["results"]} == own
    assert everything["count"] == len(own)


def test_a_cannot_attach_bs_client_to_a_consultation_of_its_own(world: World) -> None:
    """A body that names B's person must not link it to A's case (and the
    answer must not tell A whether that person exists)."""
    own = world.a_cases[0]
    body = body_for("api-consultations")
    client = api(world.a)
    url = f"/api/v1/cases/{own.pk}/consultations/"

    foreign = client.post(url, {**body, "participants": [world.b_case.person_id]}, format="json")
    unknown = client.post(
        url, {**body, "participants": [world.b_case.person_id + 10**6]}, format="json"
    )

    assert (foreign.status_code, unknown.status_code) == (400, 400), (
        foreign.content,
        unknown.content,
    )
    assert "participants" in foreign.json()["fields"]
    assert "participants" in unknown.json()["fields"]
    assert_no_secrets(foreign, "a POST participants")
    linked = Consultation.objects.filter(case=own, participants=world.b_case.person_id)
    assert not linked.exists()


# --- B's own supervisor and auditor ----------------------------------------------


def _content_urls(world: World) -> dict[str, str]:
    routes = {route.name: route for route in api_routes()}
    return {name: url_for(routes[name], world.b_ids) for name in CONTENT_ROUTES}


def test_the_supervisor_of_bs_team_sees_the_case_but_not_its_content(world: World) -> None:
    client = api(world.lead_b)

    detail = client.get(f"/api/v1/cases/{world.b_case.pk}/")
    assert detail.status_code == 200, detail.content
    assert detail.json()["id"] == world.b_case.pk
    assert detail.json()["person"] is None
    assert detail.json()["household"] is None
    assert_no_secrets(detail, "lead_b GET detail")
    for url in _content_urls(world).values():
        assert_api_error(client.get(url), 403, "forbidden", world, f"lead_b GET {url}")
    history = f"/api/v1/cases/{world.b_case.pk}/history/"  # API.md: managers and auditors
    assert_api_error(client.get(history), 403, "forbidden", world, f"lead_b GET {history}")


def test_the_auditor_of_bs_traeger_reads_the_history_but_not_the_content(world: World) -> None:
    client = api(world.auditor_b)

    history = client.get(f"/api/v1/cases/{world.b_case.pk}/history/")
    assert history.status_code == 200, history.content
    assert history.json()
    assert all(event["event_type"] for event in history.json())
    assert_no_secrets(history, "auditor_b GET history")
    for url in _content_urls(world).values():
        assert_api_error(client.get(url), 403, "forbidden", world, f"auditor_b GET {url}")


# --- every successful read is logged, once -----------------------------------------


@pytest.mark.parametrize(
    ("reader", "suffix", "view"),
    [
        ("b", "", "api:case-detail"),
        ("b", "history/", "api:case-history"),
        ("b", "consultations/", "api:consultations"),
        ("b", "plan/", "api:plan"),
        ("lead_b", "", "api:case-detail"),
        ("auditor_b", "", "api:case-detail"),
        ("auditor_b", "history/", "api:case-history"),
    ],
)
def test_every_successful_read_writes_exactly_one_read_access(
    world: World, reader: str, suffix: str, view: str
) -> None:
    user = getattr(world, reader)
    client = api(user)
    before = set(ReadAccess.objects.values_list("pk", flat=True))

    response = client.get(f"/api/v1/cases/{world.b_case.pk}/{suffix}")

    assert response.status_code == 200, response.content
    new = ReadAccess.objects.exclude(pk__in=before)
    assert [(r.user_id, r.user_role, r.case_id, r.view) for r in new] == [
        (user.pk, user.role, world.b_case.pk, view)
    ]
