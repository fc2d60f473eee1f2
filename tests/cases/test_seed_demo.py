"""`manage.py seed_demo` and the role start pages it makes visible."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User
from audit.models import AuditEvent, ReadAccess
from audit.selectors import audit_chain_verify
from cases.models import Case, CaseStatus

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return User.objects.count(), Case.objects.count(), AuditEvent.objects.count()


def test_seed_demo_is_idempotent_and_covers_every_live_state() -> None:
    call_command("seed_demo")
    first = _counts()

    call_command("seed_demo")

    assert _counts() == first
    assert sorted(User.objects.values_list("username", flat=True)) == [
        "admin",
        "auditor",
        "coordinator",
        "dpo",
        "gu",
        "manager",
        "manager2",
        "supervisor",
    ]
    states = set(Case.objects.filter(owner__username="manager").values_list("status", flat=True))
    assert states == {s.value for s in CaseStatus} - {CaseStatus.DELETED}
    assert audit_chain_verify() == []


def test_demo_manager_logs_in_and_sees_own_cases(client) -> None:
    call_command("seed_demo")

    response = client.post(
        "/accounts/login/", {"username": "manager", "password": "lotse-demo-2026"}, follow=True
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Mein Tag" in html  # the start page is the manager's day
    assert "Haddad, Layla" in html
    manager = User.objects.get(username="manager")
    named = {
        case.pk
        for case in Case.objects.filter(owner=manager).select_related("person")
        if f"{case.person.family_name}, {case.person.given_names}" in html
    }
    logged = set(
        ReadAccess.objects.filter(user=manager, view="home").values_list("case_id", flat=True)
    )
    assert len(named) >= 3
    assert logged == named
    # The rejected demo case (Osei) is restricted, in the archive.
    rejected = Case.objects.get(owner=manager, status="REJECTED")
    assert not ReadAccess.objects.filter(user=manager, case_id=rejected.pk).exists()
    assert "Osei" not in html
    foreign = Case.objects.filter(owner__username="manager2").values_list("pk", flat=True)
    assert not ReadAccess.objects.filter(user=manager, case_id__in=foreign).exists()


def test_supervisor_start_page_shows_team_cases_without_names(client) -> None:
    call_command("seed_demo")
    client.login(username="supervisor", password="lotse-demo-2026")

    html = client.get("/").content.decode()
    team_list = client.get("/arbeitsplatz/team/").content.decode()

    waiting = Case.objects.get(owner__username="manager", person__family_name="Nouri")
    own_team_case = Case.objects.filter(owner__username="manager").order_by("pk").first()
    other_team_case = Case.objects.filter(owner__username="manager2").order_by("pk").first()
    for page in (html, team_list):
        assert "Haddad" not in page
        assert "Nouri" not in page
        assert f"#{other_team_case.pk}<" not in page
    assert f"#{waiting.pk}<" in html  # its extension request waits for approval
    assert f"#{own_team_case.pk}<" in team_list


def test_demo_coordinator_sees_the_kreis_figures_and_no_case(client) -> None:
    call_command("seed_demo")
    client.login(username="coordinator", password="lotse-demo-2026")
    case = Case.objects.filter(owner__username="manager").order_by("pk").first()

    home = client.get("/").content.decode()
    figures = client.get("/berichte/")
    overview = client.get("/berichte/uebersicht/")

    coordinator = User.objects.get(username="coordinator")
    assert (coordinator.kreis.name, coordinator.traeger, coordinator.team) == (
        "Landkreis Musterkreis",
        None,
        None,
    )
    assert "Haddad" not in home
    assert "Landkreis Musterkreis" in home
    assert figures.status_code == 200
    assert figures.context["unit"].label == "Landkreis Musterkreis"
    assert figures.context["figures"]["small_cells_suppressed"] is True
    assert overview.status_code == 200
    assert len(overview.context["rows"]) == 3  # Team Nord, Team Süd, Team Mitte
    assert client.get(f"/aufgaben/fall/{case.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert not ReadAccess.objects.filter(user=coordinator).exists()


def test_gu_start_page_shows_no_case_data(client) -> None:
    call_command("seed_demo")
    client.login(username="gu", password="lotse-demo-2026")

    html = client.get("/").content.decode()

    assert "Haddad" not in html
    assert "#1<" not in html


def test_the_demo_shows_guided_work_to_do() -> None:
    """After seeding (and the first timer run of beat) the demo manager has a
    plan review due and the demo supervisor an approval waiting."""
    from django.utils import timezone

    from workflows.selectors import approvals_for, inbox_for
    from workflows.tasks import fire_due_timers_task

    call_command("seed_demo")
    fire_due_timers_task()
    now = timezone.now()
    manager = User.objects.get(username="manager")
    supervisor = User.objects.get(username="supervisor")
    inbox = {row.task.flow_task.name for row in inbox_for(user=manager, now=now)}
    assert {"accept_handover", "needs_assessment", "integration_plan", "review_plan"} <= inbox
    assert [row.task.flow_task.name for row in approvals_for(user=supervisor, now=now)] == [
        "approve_extension"
    ]
