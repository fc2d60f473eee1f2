"""Deputyships: granted and revoked by the supervisor, in force at once, logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import DeputyGrant, Role
from audit.models import AuditEvent
from tests.accounts.factories import TeamFactory, UserFactory
from tests.cases.factories import manager_in, new_case, supervisor_of

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def team_world():
    team = TeamFactory()
    principal = manager_in(team)
    deputy = manager_in(team)
    lead = supervisor_of(team)
    case = new_case(owner=principal, now=timezone.now() - timedelta(hours=1))
    return team, principal, deputy, lead, case


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_grant_is_in_force_at_once_and_revocation_ends_it_at_once(team_world) -> None:
    _team, principal, deputy, lead, case = team_world
    boss, helper = _client(lead), _client(deputy)
    case_url = f"/api/v1/cases/{case.pk}/"
    assert helper.get(case_url).status_code == 404

    response = boss.post(
        "/accounts/vertretungen/",
        {
            "principal": principal.pk,
            "deputy": deputy.pk,
            "valid_until": _local(timezone.now() + timedelta(days=14)),
            "reason": "Urlaub",
        },
    )

    assert response.status_code == 302
    grant = DeputyGrant.objects.get()
    assert (grant.principal, grant.deputy, grant.granted_by) == (principal, deputy, lead)
    assert helper.get(case_url).status_code == 200
    granted = AuditEvent.objects.get(event_type="accounts.deputy_grant.granted")
    assert (granted.actor_id, granted.object_id) == (lead.pk, str(grant.pk))
    assert granted.data["changes"][0]["fields"]["principal_id"] == {"new": principal.pk}
    assert granted.data["changes"][0]["fields"]["deputy_id"] == {"new": deputy.pk}
    assert "Urlaub" not in str(granted.data)
    page = boss.get("/accounts/vertretungen/").content.decode()
    assert "in Kraft" in page

    revoked = boss.post(f"/accounts/vertretungen/{grant.pk}/widerrufen/")

    assert revoked.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert helper.get(case_url).status_code == 404
    assert AuditEvent.objects.filter(event_type="accounts.deputy_grant.revoked").count() == 1
    boss.post(f"/accounts/vertretungen/{grant.pk}/widerrufen/")
    assert AuditEvent.objects.filter(event_type="accounts.deputy_grant.revoked").count() == 1


def test_grant_ends_at_valid_until_without_grace(team_world) -> None:
    _team, principal, deputy, lead, case = team_world
    start = timezone.now()
    services.deputy_grant(
        actor=lead,
        now=start,
        principal_id=principal.pk,
        deputy_id=deputy.pk,
        valid_until=start + timedelta(hours=2),
        reason="Krankheit",
    )
    url = f"/api/v1/cases/{case.pk}/"

    with time_machine.travel(start + timedelta(hours=1, minutes=59), tick=False):
        assert _client(deputy).get(url).status_code == 200
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert _client(deputy).get(url).status_code == 404


def test_planned_grant_starts_at_valid_from(team_world) -> None:
    _team, principal, deputy, lead, case = team_world
    start = timezone.now()
    services.deputy_grant(
        actor=lead,
        now=start,
        principal_id=principal.pk,
        deputy_id=deputy.pk,
        valid_from=start + timedelta(days=1),
        valid_until=start + timedelta(days=3),
        reason="Fortbildung",
    )
    url = f"/api/v1/cases/{case.pk}/"

    assert _client(deputy).get(url).status_code == 404
    with time_machine.travel(start + timedelta(days=1), tick=False):
        assert _client(deputy).get(url).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_until": "past"}, "valid_until"),
        ({"deputy": "self"}, "deputy"),
        ({"reason": ""}, "reason"),
        ({"principal": "foreign"}, "principal"),
    ],
)
def test_invalid_grants_are_refused_in_german_and_write_nothing(team_world, change, field) -> None:
    _team, principal, deputy, lead, _case = team_world
    foreign = manager_in(TeamFactory())
    data = {
        "principal": principal.pk,
        "deputy": deputy.pk,
        "valid_until": _local(timezone.now() + timedelta(days=1)),
        "reason": "Urlaub",
    }
    if change.get("valid_until") == "past":
        data["valid_until"] = _local(timezone.now() - timedelta(days=1))
    if change.get("deputy") == "self":
        data["deputy"] = principal.pk
    if "reason" in change:
        data["reason"] = ""
    if change.get("principal") == "foreign":
        data["principal"] = foreign.pk
    before = AuditEvent.objects.count()

    response = _client(lead).post("/accounts/vertretungen/", data)

    assert response.status_code == 400
    html = response.content.decode()
    assert any(
        sentence in html
        for sentence in (
            "Bitte prüfen Sie die markierten Felder.",
            "Das Ende der Vertretung muss nach ihrem Beginn und in der Zukunft liegen.",
            "Niemand kann sich selbst vertreten.",
        )
    ), field
    assert DeputyGrant.objects.count() == 0
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", ["manager", "other_supervisor", "auditor", "admin"])
def test_only_the_teams_supervisor_may_grant_or_revoke(team_world, role) -> None:
    _team, principal, deputy, lead, _case = team_world
    grant = services.deputy_grant(
        actor=lead,
        now=timezone.now(),
        principal_id=principal.pk,
        deputy_id=deputy.pk,
        valid_until=timezone.now() + timedelta(days=1),
        reason="Urlaub",
    )
    users = {
        "manager": deputy,
        "other_supervisor": supervisor_of(TeamFactory()),
        "auditor": UserFactory(role=Role.AUDITOR, team=None, traeger=principal.traeger),
        "admin": UserFactory(role=Role.ADMINISTRATOR, team=None, traeger=None),
    }
    client = _client(users[role])
    before = AuditEvent.objects.count()

    page = client.get("/accounts/vertretungen/")
    if role == "other_supervisor":  # their own team's page, without this grant
        assert page.status_code == 200
        assert principal.get_full_name() not in page.content.decode()
    else:
        assert page.status_code == 404
    assert client.post(f"/accounts/vertretungen/{grant.pk}/widerrufen/").status_code == 404
    assert client.post(
        "/accounts/vertretungen/",
        {
            "principal": principal.pk,
            "deputy": deputy.pk,
            "valid_until": _local(timezone.now() + timedelta(days=1)),
            "reason": "x",
        },
    ).status_code == (400 if role == "other_supervisor" else 404)
    grant.refresh_from_db()
    assert grant.revoked_at is None
    assert DeputyGrant.objects.count() == 1
    assert AuditEvent.objects.count() == before
