"""The goal catalogue per field of action: its seed, goals taken from it or
worded freely (service, API, the plan task in the browser), the admin."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from cases import services
from cases.models import CaseStatus, Goal, GoalCatalogueEntry
from tests.accounts.factories import UserFactory
from tests.cases.factories import T0, journey_to
from tests.cases.test_services import assert_refused
from workflows import engine

pytestmark = pytest.mark.django_db

S = CaseStatus
# The five most frequent goals of the Land's sheet (seed 004, Biberach 2023).
LAND_SHEET = {
    "employment_full_time": ("work", "Erwerbstätigkeit Vollzeit"),
    "language_certificate_b1": ("language", "Sprachzertifikat B1"),
    "securing_finances": (
        "financial_independence",
        "Sicherung der finanziellen Situation, Antragstellungen, Weitergewährungsanträge",
    ),
    "language_certificate_a1": ("language", "Sprachzertifikat A1"),
    "own_flat": ("housing", "eigene Wohnung"),
}


def add(case: Any, **overrides: Any) -> Goal:
    args: dict[str, Any] = {
        "success_criterion": "Zertifikat liegt vor",
        "target_date": date(2026, 12, 1),
    }
    args.update(overrides)
    return services.goal_add(case=case, actor=case.owner, now=T0, **args)


def last_event(case: Any) -> AuditEvent:
    return (
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("-seq")
        .first()
    )


def test_the_catalogue_is_seeded_with_the_goals_of_the_lands_sheet() -> None:
    seeded = {
        goal.key: (goal.field_of_action.key, goal.label_de)
        for goal in GoalCatalogueEntry.objects.select_related("field_of_action").filter(
            key__in=LAND_SHEET
        )
    }
    assert seeded == LAND_SHEET
    first_five = GoalCatalogueEntry.objects.order_by("order")[:5]
    assert [goal.key for goal in first_five] == list(LAND_SHEET)


def test_a_goal_from_the_catalogue_takes_its_field_and_wording() -> None:
    case = journey_to(S.PLANNING)

    goal = add(case, catalogue_goal="language_certificate_b1")

    assert (goal.catalogue_goal.key, goal.field_of_action.key, goal.title) == (
        "language_certificate_b1",
        "language",
        "Sprachzertifikat B1",
    )
    event = last_event(case)
    assert (event.event_type, event.data["catalogue_goal"], event.data["field_of_action"]) == (
        "cases.goal.added",
        "language_certificate_b1",
        "language",
    )


def test_a_catalogue_goal_may_be_worded_concretely() -> None:
    case = journey_to(S.PLANNING)

    goal = add(
        case,
        catalogue_goal="employment_full_time",
        field_of_action="work",
        title="Vollzeitstelle als Elektriker",
    )

    assert (goal.catalogue_goal.key, goal.title) == (
        "employment_full_time",
        "Vollzeitstelle als Elektriker",
    )


def test_a_goal_worded_freely_has_no_catalogue_entry() -> None:
    case = journey_to(S.PLANNING)

    goal = add(case, field_of_action="health", title="Therapieplatz finden")

    assert (goal.catalogue_goal, goal.field_of_action.key, goal.title) == (
        None,
        "health",
        "Therapieplatz finden",
    )
    assert "catalogue_goal" not in last_event(case).data


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"catalogue_goal": "own_flat", "field_of_action": "language"}, "catalogue_goal"),
        ({"catalogue_goal": "no_such_goal"}, "catalogue_goal"),
        ({"field_of_action": "language", "title": ""}, "title"),
        ({"title": "Ohne Handlungsfeld"}, "field_of_action"),
    ],
)
def test_a_wrong_or_missing_choice_is_refused_at_its_field(overrides: Any, field: str) -> None:
    case = journey_to(S.PLANNING)
    goals = Goal.objects.count()

    error = assert_refused(lambda: add(case, **overrides), case, "invalid", 400)

    assert list(error.fields) == [field]
    assert Goal.objects.count() == goals


def test_a_retired_catalogue_goal_is_refused() -> None:
    case = journey_to(S.PLANNING)
    GoalCatalogueEntry.objects.filter(key="own_flat").update(is_active=False)

    error = assert_refused(lambda: add(case, catalogue_goal="own_flat"), case, "invalid", 400)

    assert list(error.fields) == ["catalogue_goal"]


def test_a_new_plan_version_keeps_the_catalogue_goal() -> None:
    case = journey_to(S.PLANNING)
    goal = add(case, catalogue_goal="own_flat")
    plan = goal.plan

    new_plan = services.plan_new_version(plan=plan, now=T0, next_review_at=date(2026, 7, 1))

    copy = new_plan.goals.get()
    assert (copy.origin_id, copy.catalogue_goal_id) == (goal.pk, goal.catalogue_goal_id)


# --- the API ----------------------------------------------------------------------------


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_offers_the_catalogue_and_takes_a_catalogue_goal() -> None:
    case = journey_to(S.PLANNING)
    api = api_for(case.owner)

    catalogues = api.get("/api/v1/catalogues/").json()
    posted = api.post(
        f"/api/v1/cases/{case.pk}/plan/goals/",
        {
            "catalogue_goal": "language_certificate_a1",
            "success_criterion": "Zertifikat A1",
            "target_date": "2026-09-01",
        },
        format="json",
    )
    listed = api.get(f"/api/v1/cases/{case.pk}/plan/goals/")

    own_flat = next(row for row in catalogues["goal"] if row["key"] == "own_flat")
    assert own_flat == {
        "key": "own_flat",
        "field_of_action": "housing",
        "label_de": "eigene Wohnung",
        "label_en": "Own flat",
        "order": 5,
        "is_active": True,
    }
    assert posted.status_code == 201, posted.json()
    body = posted.json()
    assert (body["catalogue_goal"], body["field_of_action"], body["title"]) == (
        "language_certificate_a1",
        "language",
        "Sprachzertifikat A1",
    )
    rows = listed.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert [row["catalogue_goal"] for row in rows] == ["language_certificate_a1"]


def test_the_api_refuses_a_goal_of_another_field_with_a_german_message() -> None:
    case = journey_to(S.PLANNING)

    response = api_for(case.owner).post(
        f"/api/v1/cases/{case.pk}/plan/goals/",
        {
            "catalogue_goal": "own_flat",
            "field_of_action": "work",
            "success_criterion": "Mietvertrag",
            "target_date": "2026-09-01",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["catalogue_goal"]
    assert "Handlungsfeld" in response.json()["detail"]
    assert not Goal.objects.filter(plan__case=case).exists()


# --- the plan task in the browser -------------------------------------------------------


def plan_task_url(case: Any) -> str:
    task = next(t for t in engine.open_tasks(case) if t.flow_task.name == "integration_plan")
    return task.flow_task.reverse("execute", args=[task.process_id, task.pk])


def test_the_plan_task_offers_the_catalogue_and_adds_a_catalogue_goal() -> None:
    case = journey_to(S.PLANNING)
    web = Client()
    web.force_login(case.owner)
    url = plan_task_url(case)

    with time_machine.travel(T0, tick=False):
        page = web.get(url)
        posted = web.post(
            url,
            {
                "action": "add_goal",
                "catalogue_goal": "own_flat",
                "field_of_action": "",
                "title": "",
                "success_criterion": "Mietvertrag unterschrieben",
                "target_date": "2026-12-01",
                "measure": "Wohnungsanzeigen durchsehen",
                "responsible": "CLIENT",
            },
        )
        free = web.post(
            url,
            {
                "action": "add_goal",
                "catalogue_goal": "",
                "field_of_action": "health",
                "title": "",
                "success_criterion": "Termin",
                "target_date": "2026-12-01",
                "measure": "Anrufen",
                "responsible": "CLIENT",
            },
        )

    html = page.content.decode()
    assert '<optgroup label="Wohnen">' in html
    assert '<option value="own_flat">eigene Wohnung</option>' in html
    assert posted.status_code == 302
    goal = Goal.objects.get(plan__case=case)
    assert (goal.catalogue_goal.key, goal.field_of_action.key, goal.title) == (
        "own_flat",
        "housing",
        "eigene Wohnung",
    )
    # free wording without a wording: refused at the field, nothing added
    assert free.status_code == 400
    assert "Pflichtangabe, wenn das Ziel nicht aus dem Katalog kommt." in free.content.decode()
    assert Goal.objects.filter(plan__case=case).count() == 1


# --- the admin --------------------------------------------------------------------------


def test_the_catalogue_is_edited_in_the_admin_and_every_change_is_audited(settings) -> None:
    settings.LOTSE_REQUIRE_MFA = True
    admin_user = UserFactory(
        role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
    )
    device = TOTPDevice.objects.create(user=admin_user, name="App", confirmed=True)
    client = Client()
    client.force_login(admin_user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    housing = GoalCatalogueEntry.objects.get(key="own_flat").field_of_action
    before = AuditEvent.objects.count()

    form = client.get("/admin/cases/goalcatalogueentry/add/")
    added = client.post(
        "/admin/cases/goalcatalogueentry/add/",
        {
            "field_of_action": housing.pk,
            "key": "wbs",
            "label_de": "Wohnberechtigungsschein",
            "label_en": "Housing entitlement certificate",
            "order": 20,
            "is_active": "on",
        },
    )
    entry = GoalCatalogueEntry.objects.get(key="wbs")
    changed = client.post(
        f"/admin/cases/goalcatalogueentry/{entry.pk}/change/",
        {"label_de": "WBS beantragt", "label_en": "WBS applied for", "order": 20},
    )

    assert form.status_code == 200
    assert f'<option value="{housing.pk}">Wohnen</option>' in form.content.decode()
    assert (added.status_code, changed.status_code) == (302, 302)
    entry.refresh_from_db()
    assert (entry.label_de, entry.is_active, entry.field_of_action_id) == (
        "WBS beantragt",
        False,
        housing.pk,
    )
    events = list(
        AuditEvent.objects.order_by("id")[before:].values_list("event_type", "object_type", "data")
    )
    assert events == [
        ("admin.addition", "cases.goalcatalogueentry", {"ids": [entry.pk]}),
        (
            "admin.change",
            "cases.goalcatalogueentry",
            {"ids": [entry.pk], "fields": ["label_de", "label_en", "is_active"]},
        ),
    ]
