"""Who may open what under /aufgaben/ (RELIABILITY.md P2 for the task screens).

The URL patterns under `aufgaben/` are enumerated from the URLconf and each
one is classified: a route of a human task (process and task ids), a page of
one case (case or process id) or a list page that names no case. A pattern
this module cannot classify fails the enumeration test, so a new route is put
under test (or this module is extended) before it ships.

The owner's team A has a case with an open task of every human node. For
everyone who may not see those cases (a manager or supervisor of another
team, a colleague in the same team, an auditor of another Träger, a GU social
worker, an administrator, the coordinating office of the cases' Kreis) every
task and case URL is a 404 for GET and POST that changes nothing, logs no
read and shows none of the clients' names; anonymous users are sent to the
login page.

The world takes ~1 s to build, so the tests share it: `TestTaskAccess` is a
Django TestCase that builds it once (`setUpTestData`) and runs each test in
a savepoint that is rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import Role, User
from audit.models import AuditEvent, ReadAccess
from cases import services
from cases.models import Case, CaseStatus, ExtensionRequest, ExtensionStatus, Person
from tests.accounts.factories import DeputyGrantFactory, TeamFactory, UserFactory
from tests.cases.factories import T0, journey_to, manager_in, new_case, supervisor_of
from workflows.flows import CaseFlow, extension_check_due
from workflows.nodes import CaseTask
from workflows.selectors import HUMAN_OPEN
from workflows.tasks import fire_due_timers_task

PREFIX = "aufgaben/"
LOGIN = "/accounts/login/"
TASK_ROUTES = ("execute", "detail", "assign", "unassign")
TASK_NAME = re.compile(r"^workflows:case:(?P<node>\w+):(?P<route>\w+)$")
# Pages of one case: URL name -> the parameters it takes.
CASE_PAGES: dict[str, tuple[str, ...]] = {
    "workflows:case": ("case_pk",),
    "workflows:case_action": ("case_pk", "name"),
    "workflows:process_chart": ("process_pk",),
}


def _flow_chart_status(user: Any) -> int:
    """The diagram shows no case data, but only to roles with guided work."""
    allowed = user.has_perm("workflows.work_case") or user.has_perm("workflows.decide_extension")
    return 200 if allowed else 404


# Pages that name no case: URL name -> expected status of a GET by a signed-in
# user (each list only ever shows the user's own rows, checked below).
LIST_PAGES: dict[str, Callable[[Any], int]] = {
    "workflows:inbox": lambda user: 200,
    "workflows:approvals": lambda user: 200,
    "workflows:flow_chart": _flow_chart_status,
}
HUMAN_NODES = sorted(node.name for node in CaseFlow.instance.nodes() if isinstance(node, CaseTask))


# --- enumerating the routes ------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # with its namespaces
    template: str
    parameters: tuple[str, ...]
    kind: str  # "task", "case" or "list"
    node: str = ""  # task routes: the node
    route: str = ""  # task routes: execute, detail, assign or unassign


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), namespace + (entry.name or "")))
    return found


def classify(template: str, name: str) -> Route:
    """Return what the route is, or fail for a route this module does not know."""
    parameters = tuple(re.findall(r"<(?:\w+:)?(\w+)>", template))
    if name in LIST_PAGES and not parameters:
        return Route(name, template, parameters, "list")
    if CASE_PAGES.get(name) == parameters:
        return Route(name, template, parameters, "case")
    match = TASK_NAME.match(name)
    if (
        match
        and match["node"] in HUMAN_NODES
        and match["route"] in TASK_ROUTES
        and parameters == ("process_pk", "task_pk")
    ):
        return Route(name, template, parameters, "task", match["node"], match["route"])
    raise AssertionError(
        f"unclassified route under /{PREFIX}: {template!r} (name {name!r}); classify it in "
        "tests/workflows/test_access.py (LIST_PAGES, CASE_PAGES or a task route) so that "
        "its access rules are tested"
    )


def workflow_routes(patterns: list[Any] | None = None) -> list[Route]:
    if patterns is None:
        patterns = get_resolver().url_patterns
    return [
        classify(template, name)
        for template, name in _walk(patterns)
        if template.startswith(PREFIX)
    ]


# --- the world: team A's cases with an open task of every human node ------------

USERS = (
    "owner",  # integration manager of team A, owns every case
    "colleague",  # another manager of team A
    "lead",  # supervisor of team A
    "lead_other",  # supervisor of another team of the same Träger
    "manager_other",  # manager of that other team
    "auditor",  # auditor of team A's Träger
    "dpo",  # data-protection officer of team A's Träger
    "auditor_other",  # auditor of another Träger
    "gu",  # refugee social worker
    "admin",  # administrator (a superuser, as accounts.demo creates them)
    "coordinator",  # koordinierende Stelle of team A's Kreis (figures only)
)


@dataclass
class World:
    users: dict[str, Any]
    cases: dict[str, Case]  # node -> case with an open task of it
    tasks: dict[str, Task]  # node -> that open task

    def __getattr__(self, name: str) -> Any:
        if name in USERS:
            return self.users[name]
        raise AttributeError(name)

    def case_ids(self) -> list[int]:
        return sorted({case.pk for case in self.cases.values()})

    def ids(self) -> dict[str, dict[str, int]]:
        return {
            "users": {name: user.pk for name, user in self.users.items()},
            "cases": {node: case.pk for node, case in self.cases.items()},
            "tasks": {node: task.pk for node, task in self.tasks.items()},
        }

    @classmethod
    def load(cls, ids: dict[str, dict[str, int]]) -> World:
        users = User.objects.in_bulk(ids["users"].values())
        cases = Case.objects.in_bulk(ids["cases"].values())
        tasks = Task.objects.in_bulk(ids["tasks"].values())
        return cls(
            users={name: users[pk] for name, pk in ids["users"].items()},
            cases={node: cases[pk] for node, pk in ids["cases"].items()},
            tasks={node: tasks[pk] for node, pk in ids["tasks"].items()},
        )


def open_task(case: Case, node: str) -> Task:
    return Task.objects.get(
        process__caseprocess__case=case,
        flow_task=getattr(CaseFlow, node),
        status__in=HUMAN_OPEN,
    )


def secret_of(case: Case) -> str:
    return f"Qzxname{case.pk}"


def build_world() -> World:
    team = TeamFactory()
    owner = manager_in(team)
    other_team = TeamFactory(traeger=team.traeger)
    active = journey_to(CaseStatus.ACTIVE, owner=owner)
    # The timers of the active case fire: the review task, then the extension check.
    with time_machine.travel(extension_check_due(active) + timedelta(minutes=1), tick=False):
        fire_due_timers_task()
    cases: dict[str, Case] = {"review_plan": active, "extension_check": active}
    cases["accept_handover"] = new_case(owner=owner)
    first = new_case(owner=owner)
    services.case_handover_accept(case=first, actor=owner, now=T0)
    cases["first_consultation"] = first
    cases["needs_assessment"] = journey_to(CaseStatus.INITIAL_COUNSELLING, owner=owner)
    cases["integration_plan"] = journey_to(CaseStatus.PLANNING, owner=owner)
    asked = journey_to(CaseStatus.ACTIVE, owner=owner)
    services.extension_request_submit(
        case=asked, actor=owner, now=T0, reason="illiteracy", months=6, justification="Kurs"
    )
    cases["approve_extension"] = asked
    cases["resume"] = journey_to(CaseStatus.DORMANT, owner=owner)
    cases["final_referral"] = journey_to(CaseStatus.CLOSING, owner=owner)
    for case in cases.values():
        Person.objects.filter(pk=case.person_id).update(family_name=secret_of(case))
    cases = {node: Case.objects.get(pk=case.pk) for node, case in cases.items()}
    users = {
        "owner": owner,
        "colleague": manager_in(team),
        "lead": supervisor_of(team),
        "lead_other": supervisor_of(other_team),
        "manager_other": manager_in(other_team),
        "auditor": UserFactory(role=Role.AUDITOR, team=None, traeger=team.traeger),
        "dpo": UserFactory(role=Role.DATA_PROTECTION_OFFICER, team=None, traeger=team.traeger),
        "auditor_other": UserFactory(role=Role.AUDITOR, team=None, traeger=TeamFactory().traeger),
        "gu": UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=team.traeger),
        "admin": UserFactory(
            role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
        ),
        "coordinator": UserFactory(role=Role.COORDINATOR, kreis=team.traeger.kreis),
    }
    return World(
        users=users,
        cases=cases,
        tasks={node: open_task(case, node) for node, case in cases.items()},
    )


class WorldTestCase(TestCase):
    """One world per class (built once; every test runs in a savepoint that
    is rolled back)."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.world_ids = build_world().ids()

    def setUp(self) -> None:
        self.world = World.load(self.world_ids)


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def task_url(task: Task, route: str = "execute", *, process_pk: int | None = None) -> str:
    name = f"workflows:case:{task.flow_task.name}:{route}"
    pk = task.process_id if process_pk is None else process_pk
    return reverse(name, kwargs={"process_pk": pk, "task_pk": task.pk})


def today() -> str:
    return timezone.localdate().isoformat()


def body_for(node: str) -> dict[str, Any]:
    """A POST that would do something if it got past the access checks."""
    return {
        "accept_handover": {"action": "accept"},
        "first_consultation": {
            "action": "reject",
            "rejection_reason": "NOT_TARGET_GROUP",
            "confirmed": "1",
        },
        "needs_assessment": {"action": "assess", "assessed_on": today(), "need_language": "HIGH"},
        "integration_plan": {"action": "decline", "decline_reason": "Qzx keine Zeit"},
        "review_plan": {"action": "review", "reviewed_on": today(), "notes": "Qzx"},
        "extension_check": {"action": "none"},
        "approve_extension": {"action": "decide", "decision": "approve", "note": ""},
        "resume": {
            "action": "resume",
            "held_on": today(),
            "duration_minutes": "30",
            "consultation_form": "office",
            "topics": ["language"],
        },
        "final_referral": {
            "action": "close",
            "closure_reason": "goals_achieved",
            "confirmed": "1",
        },
    }.get(node, {})


@dataclass(frozen=True)
class Request:
    label: str
    url: str
    body: dict[str, Any]
    kind: str
    route: str = ""


def case_requests(world: World) -> list[Request]:
    """Every task and case URL of the world's cases, filled with real ids."""
    requests = []
    for route in workflow_routes():
        if route.kind == "task":
            task = world.tasks[route.node]  # KeyError: seed a task of the new node
            url = task_url(task, route.route)
            requests.append(Request(route.name, url, body_for(route.node), "task", route.route))
        elif route.kind == "case":
            for case in {case.pk: case for case in world.cases.values()}.values():
                if route.name == "workflows:process_chart":
                    processes = list(case.processes.order_by("pk").values_list("pk", flat=True))
                    for process_pk in {processes[0], processes[-1]}:  # the first, the open one
                        url = reverse(route.name, kwargs={"process_pk": process_pk})
                        requests.append(Request(route.name, url, {}, "case"))
                    continue
                kwargs: dict[str, Any] = {"case_pk": case.pk}
                if "name" in route.parameters:
                    kwargs["name"] = "pause"
                url = reverse(route.name, kwargs=kwargs)
                requests.append(Request(route.name, url, {"reason": "CLIENT_REQUEST"}, "case"))
    return requests


def snapshot(world: World) -> dict[str, Any]:
    ids = world.case_ids()
    return {
        "cases": list(
            Case.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "status", "handover_accepted_at", "effective_end", "next_review_at")
        ),
        "tasks": list(
            Task.objects.filter(process__caseprocess__case_id__in=ids)
            .order_by("pk")
            .values_list("pk", "status", "owner_id", "finished")
        ),
        "requests": list(
            ExtensionRequest.objects.filter(case_id__in=ids)
            .order_by("pk")
            .values_list("pk", "status", "decided_by_id")
        ),
        "events": AuditEvent.objects.filter(case_id__in=ids).count(),
    }


def reads(world: World) -> int:
    return ReadAccess.objects.filter(case_id__in=world.case_ids()).count()


def send(client: Client, method: str, request: Request) -> Any:
    if method == "post":
        return client.post(request.url, request.body)
    return getattr(client, method)(request.url)


def assert_no_names(response: Any, world: World, label: str) -> None:
    content = response.content.decode(errors="replace")
    shown = [secret_of(case) for case in world.cases.values() if secret_of(case) in content]
    assert not shown, f"{label}: client names {shown} in the answer"


# --- the enumeration (no database) ----------------------------------------------


def test_every_route_under_aufgaben_is_classified() -> None:
    routes = workflow_routes()
    by_kind: dict[str, set[str]] = {}
    for route in routes:
        by_kind.setdefault(route.kind, set()).add(route.name)
    assert by_kind["list"] == set(LIST_PAGES)
    assert by_kind["case"] == set(CASE_PAGES)
    task_routes = {(route.node, route.route) for route in routes if route.kind == "task"}
    assert task_routes == {(node, route) for node in HUMAN_NODES for route in TASK_ROUTES}
    assert len(routes) == len(LIST_PAGES) + len(CASE_PAGES) + len(HUMAN_NODES) * len(TASK_ROUTES)


def test_a_new_route_under_aufgaben_fails_until_it_is_classified() -> None:
    from workflows import views

    added = [
        path("aufgaben/fall/<str:case_pk>/export/", views.case_flow, name="case_export"),
        path("aufgaben/ablauf/<int:process_pk>/x/<int:task_pk>/undo/", views.inbox, name="undo"),
        path("aufgaben/statistik/", views.inbox, name="statistics"),
        path("aufgaben/fall/<str:case_pk>/", views.inbox, name="inbox"),  # known name, new shape
    ]
    for entry in added:
        with pytest.raises(AssertionError, match="unclassified route"):
            workflow_routes([*get_resolver().url_patterns, entry])


def test_no_undo_revive_or_cancel_route_exists() -> None:
    routes = workflow_routes()
    forbidden = ("undo", "revive", "cancel", "process_cancel", "reassign")
    assert not [r.name for r in routes if r.name.rsplit(":", 1)[-1].endswith(forbidden)]
    assert not [r.template for r in routes if re.search(r"undo|revive|cancel", r.template)]


# The manager of another team sends every request with GET and POST; the
# others send each task URL once (GET or POST in turn) and each case page once.
MAIN_INTRUDERS = ("manager_other",)
OTHER_INTRUDERS = ("colleague", "lead_other", "auditor_other", "gu", "admin", "coordinator")


class TestTaskAccess(WorldTestCase):
    def test_the_world_has_an_open_task_of_every_human_node(self) -> None:
        world = self.world
        assert sorted(world.tasks) == HUMAN_NODES
        for node, task in world.tasks.items():
            assert task.flow_task.name == node
            assert task.status in HUMAN_OPEN
        assert world.tasks["approve_extension"].owner_id is None  # the team's queue
        owners = {
            task.owner_id for node, task in world.tasks.items() if node != "approve_extension"
        }
        assert owners == {world.owner.pk}
        every_case_page = {r.label for r in case_requests(world)}
        assert every_case_page == {r.name for r in workflow_routes() if r.kind != "list"}

    def test_the_owner_opens_every_own_task(self) -> None:
        """The URLs the intruders get 404 on are the real ones."""
        world = self.world
        client = client_of(world.owner)
        for node, task in world.tasks.items():
            expected = 403 if node == "approve_extension" else 200  # the team lead decides
            response = client.get(task_url(task))
            assert response.status_code == expected, (node, response.status_code)
            assert client.get(task_url(task, "detail")).status_code == 200, node
        for request in case_requests(world):
            if request.kind == "case" and request.label != "workflows:case_action":
                assert client.get(request.url).status_code == 200, request.url

    # --- P2: who may not see the cases gets 404 on everything -----------------

    def _assert_404(self, client: Any, method: str, request: Request, label: str) -> None:
        response = send(client, method, request)
        if request.label == "workflows:case_action" and method != "post":
            # POST only: 405 before any case is looked up, for any id (see below).
            assert response.status_code == 405, label
            return
        assert response.status_code == 404, f"{label}: {response.status_code}"
        assert_no_names(response, self.world, label)

    def test_every_task_and_case_url_of_a_foreign_case_answers_404(self) -> None:
        world = self.world
        requests = case_requests(world)
        before, reads_before = snapshot(world), reads(world)

        for intruder in MAIN_INTRUDERS:
            client = client_of(getattr(world, intruder))
            for request in requests:
                for method in ("get", "post", "head"):
                    label = f"{intruder} {method.upper()} {request.url}"
                    self._assert_404(client, method, request, label)
        for number, intruder in enumerate(OTHER_INTRUDERS):
            client = client_of(getattr(world, intruder))
            case_pages_seen: set[str] = set()
            for index, request in enumerate(requests):
                if request.kind == "case":
                    if request.label in case_pages_seen:
                        continue  # one case is enough for these
                    case_pages_seen.add(request.label)
                method = ("get", "post")[(index + number) % 2]  # both, across intruders
                label = f"{intruder} {method.upper()} {request.url}"
                self._assert_404(client, method, request, label)

        assert snapshot(world) == before, "a refused request changed something"
        assert reads(world) == reads_before, "a refused request was logged as a read"

    def test_the_foreign_cases_are_in_none_of_the_intruders_lists(self) -> None:
        world = self.world
        for intruder in (*MAIN_INTRUDERS, *OTHER_INTRUDERS):
            user = getattr(world, intruder)
            client = client_of(user)
            for name, expected in LIST_PAGES.items():
                response = client.get(reverse(name))
                assert response.status_code == expected(user), (intruder, name)
                assert_no_names(response, world, f"{intruder} {name}")
                rows = response.context["rows"] if "rows" in (response.context or {}) else []
                assert not {row.case.pk for row in rows} & set(world.case_ids()), (intruder, name)

    def test_the_case_action_get_answer_does_not_depend_on_the_case(self) -> None:
        client = client_of(self.world.manager_other)
        real = client.get(
            reverse("workflows:case_action", args=[self.world.cases["resume"].pk, "pause"])
        )
        fake = client.get(reverse("workflows:case_action", args=[10**9, "pause"]))
        assert (real.status_code, real.content) == (fake.status_code, fake.content)

    def test_anonymous_users_are_sent_to_the_login_page_from_every_url(self) -> None:
        world = self.world
        client = Client()
        before = snapshot(world)
        lists = [Request(name, reverse(name), {}, "list") for name in LIST_PAGES]
        for request in case_requests(world) + lists:
            for method in ("get", "post"):
                response = send(client, method, request)
                label = f"anonymous {method.upper()} {request.url}"
                assert response.status_code == 302, f"{label}: {response.status_code}"
                assert response["Location"].startswith(f"{LOGIN}?next="), label
        assert snapshot(world) == before

    # --- roles without guided work --------------------------------------------

    # Auditors and DPOs see the cases of their Träger (read-only), GU social
    # workers and administrators see none (their 404s on every URL are tested
    # above): none of them ever gets a task form, a 500 or a change through a
    # task route. (Task details answer 200 to auditors and DPOs: metadata, no
    # names, like the case flow page they may open.)

    def test_auditors_and_dpos_never_get_a_task_form(self) -> None:
        world = self.world
        before = snapshot(world)
        for role in ("auditor", "dpo"):
            client = client_of(getattr(world, role))
            for index, request in enumerate(case_requests(world)):
                if request.kind != "task":
                    continue
                methods = ("get", "post") if role == "auditor" else (("get", "post")[index % 2],)
                for method in methods:
                    label = f"{role} {method.upper()} {request.url}"
                    response = send(client, method, request)
                    assert response.status_code < 500, f"{label}: {response.status_code}"
                    if request.route == "execute":
                        assert response.status_code == 403, f"{label}: {response.status_code}"
                    assert_no_names(response, world, label)
        assert snapshot(world) == before
        for role in ("gu", "admin"):
            assert_no_names(client_of(getattr(world, role)).get("/aufgaben/"), world, role)

    # --- the supervisor of the team -------------------------------------------

    def test_the_teams_supervisor_may_not_work_on_the_managers_tasks(self) -> None:
        world = self.world
        client = client_of(world.lead)
        before, reads_before = snapshot(world), reads(world)
        for node, task in world.tasks.items():
            if node == "approve_extension":
                continue
            request = Request(node, task_url(task), body_for(node), "task", "execute")
            for method in ("get", "post"):
                response = send(client, method, request)
                assert response.status_code == 403, (node, method, response.status_code)
                assert_no_names(response, world, f"lead {method} {node}")
            assert client.post(task_url(task, "assign")).status_code == 409, node
        assert snapshot(world) == before
        assert reads(world) == reads_before  # a refusal reads nothing

    def test_the_teams_supervisor_sees_the_approval_and_flows_without_names(self) -> None:
        world = self.world
        client = client_of(world.lead)
        response = client.get(task_url(world.tasks["approve_extension"]))
        assert response.status_code == 200
        assert_no_names(response, world, "lead approve_extension")
        for case in world.cases.values():
            page = client.get(reverse("workflows:case", args=[case.pk]))
            assert page.status_code == 200
            assert page.context["show_names"] is False
            assert_no_names(page, world, f"lead case {case.pk}")
        detail = client.get(task_url(world.tasks["review_plan"], "detail"))
        assert detail.status_code == 200
        assert_no_names(detail, world, "lead detail")
        # the owner does see the name on the same page (the check above is no vacuous pass)
        own = client_of(world.owner).get(reverse("workflows:case", args=[case.pk]))
        assert own.context["show_names"] is True
        assert secret_of(case) in own.content.decode()

    def test_a_supervisor_of_another_team_gets_404_on_the_approval(self) -> None:
        world = self.world
        client = client_of(world.lead_other)
        task = world.tasks["approve_extension"]
        for route in TASK_ROUTES:
            request = Request(route, task_url(task, route), body_for("approve_extension"), "task")
            for method in ("get", "post"):
                assert send(client, method, request).status_code == 404, (route, method)
        request = ExtensionRequest.objects.get(case=world.cases["approve_extension"])
        assert request.status == ExtensionStatus.SUBMITTED
        assert client.get(reverse("workflows:approvals")).context["rows"] == []

    # --- mismatched URLs ------------------------------------------------------

    def test_a_task_under_the_process_of_another_case_is_404(self) -> None:
        """Task of case B, process id of case A (both the owner's): viewflow
        would lock A's process and work on B's task."""
        world = self.world
        client = client_of(world.owner)
        task_b = world.tasks["accept_handover"]
        process_a = world.tasks["needs_assessment"].process_id
        assert process_a != task_b.process_id
        before = snapshot(world)
        for route in TASK_ROUTES:
            url = task_url(task_b, route, process_pk=process_a)
            assert client.get(url).status_code == 404, route
            assert client.post(url, body_for("accept_handover")).status_code == 404, route
        assert snapshot(world) == before
        assert client.get(task_url(task_b)).status_code == 200  # the right URL works

    def test_a_task_under_the_name_of_another_node_is_404(self) -> None:
        world = self.world
        client = client_of(world.owner)
        task = world.tasks["review_plan"]  # same process as the extension check
        assert task.process_id == world.tasks["extension_check"].process_id
        before = snapshot(world)
        for route in TASK_ROUTES:
            url = reverse(
                f"workflows:case:extension_check:{route}",
                kwargs={"process_pk": task.process_id, "task_pk": task.pk},
            )
            assert client.get(url).status_code == 404, route
            assert client.post(url, {"action": "none"}).status_code == 404, route
        assert snapshot(world) == before

    def test_ids_that_name_nothing_are_404(self) -> None:
        world = self.world
        client = client_of(world.owner)
        task = world.tasks["accept_handover"]
        case_pk = world.cases["accept_handover"].pk
        for url in (
            task_url(task, process_pk=10**9),
            reverse(
                "workflows:case:accept_handover:execute",
                kwargs={"process_pk": task.process_id, "task_pk": 10**9},
            ),
            f"/{PREFIX}fall/+{case_pk}/",
            f"/{PREFIX}fall/{case_pk}.0/",
            f"/{PREFIX}fall/0/",
            f"/{PREFIX}ablauf/{task.process_id}x.svg",
            f"/{PREFIX}ablauf/\u0660{task.process_id}.svg",  # Arabic-Indic zero
            f"/{PREFIX}ablauf/{2**63}.svg",
        ):
            assert client.get(url).status_code == 404, url

    def test_no_made_up_correction_route_answers(self) -> None:
        world = self.world
        client = client_of(world.owner)
        task = world.tasks["extension_check"]
        base = f"/{PREFIX}ablauf/{task.process_id}/extension_check/{task.pk}/"
        before = snapshot(world)
        for suffix in ("undo/", "revive/", "cancel/", "reassign/"):
            assert client.post(base + suffix).status_code == 404, suffix
        for url in (f"/{PREFIX}ablauf/{task.process_id}/cancel/", f"/{PREFIX}ablauf/"):
            assert client.post(url).status_code == 404, url
        assert snapshot(world) == before

    # --- deputies -------------------------------------------------------------

    def _grant(self, **window: Any) -> tuple[Any, Any]:
        deputy = manager_in(self.world.owner.team)
        now = timezone.now()
        grant = DeputyGrantFactory(
            principal=self.world.owner,
            deputy=deputy,
            granted_by=self.world.lead,
            valid_from=window.get("valid_from", now - timedelta(days=1)),
            valid_until=window.get("valid_until", now + timedelta(days=1)),
        )
        return deputy, grant

    def test_a_deputy_works_on_the_owners_task_while_the_grant_runs(self) -> None:
        world = self.world
        deputy, grant = self._grant()
        client = client_of(deputy)
        task, case = world.tasks["accept_handover"], world.cases["accept_handover"]

        inbox = client.get(reverse("workflows:inbox"))
        rows = {row.task.pk: row for row in inbox.context["rows"]}
        owners_tasks = Task.objects.filter(
            owner=world.owner, status__in=HUMAN_OPEN, flow_task_type="HUMAN"
        )
        assert set(rows) == set(owners_tasks.values_list("pk", flat=True))
        assert task.pk in rows
        assert all(row.deputised for row in rows.values())
        assert client.get(task_url(task)).status_code == 200
        response = client.post(task_url(task), {"action": "accept"})
        assert response.status_code == 302, response.content.decode()[:2000]

        task.refresh_from_db()
        assert task.status == STATUS.DONE
        completed = AuditEvent.objects.get(case_id=case.pk, event_type="workflows.task.completed")
        assert completed.actor_id == deputy.pk
        follow_up = open_task(case, "first_consultation")
        assert follow_up.owner_id == world.owner.pk  # the work stays the owner's
        assert client.get(task_url(follow_up)).status_code == 200

        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        before = snapshot(world)
        for route in TASK_ROUTES:
            url = task_url(follow_up, route)
            assert client.get(url).status_code == 404, route
            assert client.post(url, body_for("first_consultation")).status_code == 404, route
        assert client.get(reverse("workflows:case", args=[case.pk])).status_code == 404
        assert client.get(reverse("workflows:inbox")).context["rows"] == []
        assert snapshot(world) == before

    def test_a_deputy_grant_ends_at_valid_until_without_grace(self) -> None:
        world = self.world
        now = timezone.now()
        deputy, grant = self._grant(
            valid_from=now - timedelta(days=2), valid_until=now + timedelta(hours=1)
        )
        url = task_url(world.tasks["extension_check"])
        # A fresh sign-in at each moment: the session's own idle timeout
        # (accounts.middleware) is not what this test is about.
        with time_machine.travel(grant.valid_until - timedelta(seconds=1), tick=False):
            assert client_of(deputy).get(url).status_code == 200
        with time_machine.travel(grant.valid_until, tick=False):
            client = client_of(deputy)
            assert client.get(url).status_code == 404
            assert client.post(url, {"action": "none"}).status_code == 404
        with time_machine.travel(grant.valid_from - timedelta(seconds=1), tick=False):
            assert client_of(deputy).get(url).status_code == 404  # not yet
        still = open_task(world.cases["extension_check"], "extension_check")
        assert still.pk == world.tasks["extension_check"].pk

    def test_a_deputy_never_decides_the_extension_request(self) -> None:
        world = self.world
        deputy, _grant = self._grant()
        client = client_of(deputy)
        task = world.tasks["approve_extension"]
        assert client.get(task_url(task)).status_code == 403
        assert client.post(task_url(task), body_for("approve_extension")).status_code == 403
        assert client.post(task_url(task, "assign")).status_code == 409
        assert client.get(reverse("workflows:approvals")).context["rows"] == []
        task.refresh_from_db()
        assert (task.status, task.owner_id) == (STATUS.NEW, None)

    # --- four eyes and the approvals list -------------------------------------

    def test_the_teams_supervisor_decides_and_the_queue_is_the_teams_only(self) -> None:
        world = self.world
        # A request of the other team: its supervisor's, not ours.
        other_case = journey_to(CaseStatus.ACTIVE, owner=world.manager_other)
        services.extension_request_submit(
            case=other_case,
            actor=world.manager_other,
            now=T0,
            reason="illiteracy",
            months=3,
            justification="Kurs",
        )
        other_task = open_task(other_case, "approve_extension")
        ours = world.tasks["approve_extension"]

        lead, lead_other = client_of(world.lead), client_of(world.lead_other)
        rows = lead.get(reverse("workflows:approvals")).context["rows"]
        assert [row.task.pk for row in rows] == [ours.pk]
        rows = lead_other.get(reverse("workflows:approvals")).context["rows"]
        assert [row.task.pk for row in rows] == [other_task.pk]
        assert lead.get(task_url(other_task)).status_code == 404

        owner = client_of(world.owner)
        assert owner.get(reverse("workflows:approvals")).context["rows"] == []
        assert owner.get(task_url(ours)).status_code == 403
        assert owner.post(task_url(ours), body_for("approve_extension")).status_code == 403
        assert owner.post(task_url(ours, "assign")).status_code == 409
        request = ExtensionRequest.objects.get(case=world.cases["approve_extension"])
        assert request.status == ExtensionStatus.SUBMITTED

        response = lead.post(task_url(ours), body_for("approve_extension"))
        assert response.status_code == 302, response.content.decode()[:2000]
        request.refresh_from_db()
        assert (request.status, request.decided_by_id) == (ExtensionStatus.APPROVED, world.lead.pk)
        ours.refresh_from_db()
        assert (ours.status, ours.owner_id) == (STATUS.DONE, world.lead.pk)
        assert lead.get(reverse("workflows:approvals")).context["rows"] == []

    def test_a_supervisor_never_decides_a_request_of_their_own(self) -> None:
        """Roles are exclusive, but a role can change: the manager who asked
        and became the team's supervisor leaves the decision to someone else."""
        world = self.world
        ExtensionRequest.objects.filter(case=world.cases["approve_extension"]).update(
            requested_by=world.lead
        )
        client = client_of(world.lead)
        task = world.tasks["approve_extension"]
        before = snapshot(world)
        assert client.get(reverse("workflows:approvals")).context["rows"] == []
        assert client.get(task_url(task)).status_code == 403
        assert client.post(task_url(task), body_for("approve_extension")).status_code == 403
        assert client.post(task_url(task, "assign")).status_code == 409
        assert snapshot(world) == before
        other = client_of(supervisor_of(world.owner.team))
        assert other.get(task_url(task)).status_code == 200  # another supervisor may

    def test_an_earlier_request_of_the_supervisor_does_not_hide_a_new_one(self) -> None:
        """The manager who once asked became the team's supervisor (roles are
        exclusive, but a role can change); the case's next request is someone
        else's, so it is theirs to decide and belongs in their queue."""
        world = self.world
        case = world.cases["approve_extension"]
        first = ExtensionRequest.objects.get(case=case)
        services.extension_request_reject(
            request=first, actor=supervisor_of(world.owner.team), now=T0, note="Nein"
        )
        ExtensionRequest.objects.filter(pk=first.pk).update(requested_by=world.lead)
        services.extension_request_submit(
            case=case, actor=world.owner, now=T0, reason="illiteracy", months=3, justification="x"
        )
        task = open_task(case, "approve_extension")
        client = client_of(world.lead)
        assert client.get(task_url(task)).status_code == 200  # they may decide it
        rows = client.get(reverse("workflows:approvals")).context["rows"]
        assert [row.task.pk for row in rows] == [task.pk]

    def test_a_taken_approval_belongs_to_the_supervisor_who_took_it(self) -> None:
        world = self.world
        task = world.tasks["approve_extension"]
        lead, second = client_of(world.lead), client_of(supervisor_of(world.owner.team))
        assert lead.post(task_url(task, "assign")).status_code == 302
        task.refresh_from_db()
        assert task.owner_id == world.lead.pk
        assert second.get(reverse("workflows:approvals")).context["rows"] == []
        assert second.get(task_url(task)).status_code == 403
        assert second.post(task_url(task), body_for("approve_extension")).status_code == 403
        assert second.post(task_url(task, "unassign")).status_code == 409
        task.refresh_from_db()
        assert task.owner_id == world.lead.pk
        assert lead.post(task_url(task, "unassign")).status_code == 302
        task.refresh_from_db()
        assert (task.owner_id, task.status) == (None, STATUS.NEW)

    # --- caching and read logging ---------------------------------------------

    def test_task_and_list_pages_are_never_stored(self) -> None:
        world = self.world
        owner, lead = client_of(world.owner), client_of(world.lead)
        for client, url in (
            (owner, task_url(world.tasks["needs_assessment"])),
            (owner, task_url(world.tasks["needs_assessment"], "detail")),
            (owner, reverse("workflows:inbox")),
            (owner, reverse("workflows:case", args=[world.cases["resume"].pk])),
            (lead, reverse("workflows:approvals")),
            (lead, task_url(world.tasks["approve_extension"])),
            (client_of(world.manager_other), task_url(world.tasks["resume"])),  # a 404
        ):
            response = client.get(url)
            assert "no-store" in response.get("Cache-Control", ""), (url, response.status_code)

    def test_opening_a_task_logs_one_read_of_its_case(self) -> None:
        world = self.world
        for node in HUMAN_NODES:
            user = world.lead if node == "approve_extension" else world.owner
            before = set(ReadAccess.objects.values_list("pk", flat=True))
            response = client_of(user).get(task_url(world.tasks[node]))
            assert response.status_code == 200, node
            new = ReadAccess.objects.exclude(pk__in=before)
            assert [(r.user_id, r.user_role, r.case_id, r.view) for r in new] == [
                (user.pk, user.role, world.cases[node].pk, f"workflows.{node}")
            ], node

    def test_a_post_without_a_csrf_token_is_refused(self) -> None:
        world = self.world
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.owner)
        before = snapshot(world)
        task = world.tasks["accept_handover"]
        assert client.post(task_url(task), {"action": "accept"}).status_code == 403
        lead = Client(enforce_csrf_checks=True)
        lead.force_login(world.lead)
        assert lead.post(task_url(world.tasks["approve_extension"], "assign")).status_code == 403
        case_pk = world.cases["resume"].pk
        assert (
            client.post(
                reverse("workflows:case_action", args=[case_pk, "start_closing"]),
                {"ground": "CLIENT_REQUEST", "confirmed": "1"},
            ).status_code
            == 403
        )
        assert snapshot(world) == before

    def test_a_deactivated_user_is_signed_out_at_the_next_request(self) -> None:
        world = self.world
        client = client_of(world.owner)
        url = task_url(world.tasks["accept_handover"])
        assert client.get(url).status_code == 200
        User.objects.filter(pk=world.owner.pk).update(is_active=False)
        before = snapshot(world)
        for response in (client.get(url), client.post(url, {"action": "accept"})):
            assert response.status_code == 302
            assert response["Location"].startswith(f"{LOGIN}?next=")
        assert snapshot(world) == before

    def test_a_refused_task_logs_no_read(self) -> None:
        world = self.world
        before = ReadAccess.objects.count()
        url = task_url(world.tasks["resume"])
        assert client_of(world.manager_other).get(url).status_code == 404
        assert client_of(world.colleague).get(url).status_code == 404
        assert client_of(world.lead).get(url).status_code == 403
        assert client_of(world.auditor).get(url).status_code == 403
        assert ReadAccess.objects.count() == before

    def test_opening_a_task_detail_logs_one_read_of_its_case(self) -> None:
        world = self.world
        for user in (world.owner, world.lead, world.auditor):
            before = ReadAccess.objects.count()
            response = client_of(user).get(task_url(world.tasks["review_plan"], "detail"))
            assert response.status_code == 200
            new = ReadAccess.objects.order_by("pk")[before:]
            assert [(r.user_id, r.case_id, r.view) for r in new] == [
                (user.pk, world.cases["review_plan"].pk, "workflows.task_detail")
            ], user.role
