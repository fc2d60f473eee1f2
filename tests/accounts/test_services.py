"""Deputy grants are audited: one event per grant and per revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import DeputyGrant, Role
from accounts.services import (
    DeputyGrantForbidden,
    DeputyGrantRevoked,
    deputy_grant_create,
    deputy_grant_revoke,
)
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import field_digest
from tests.accounts.factories import TeamFactory, UserFactory
from tests.cases.factories import T0, manager_in, supervisor_of

pytestmark = pytest.mark.django_db


def _grant_events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(event_type__startswith="accounts.deputy_grant.").order_by("pk")
    )


def test_a_supervisor_grants_and_revokes_with_one_event_each() -> None:
    team = TeamFactory()
    principal, deputy, lead = manager_in(team), manager_in(team), supervisor_of(team)

    grant = deputy_grant_create(
        principal=principal,
        deputy=deputy,
        valid_from=T0,
        valid_until=T0 + timedelta(days=14),
        reason="Urlaub",
        actor=lead,
        now=T0,
    )
    deputy_grant_revoke(grant=grant, actor=lead, now=T0 + timedelta(days=2))

    granted, revoked = _grant_events()
    assert (granted.chain_key, granted.event_type, granted.actor_id, granted.object_id) == (
        "global",
        "accounts.deputy_grant.granted",
        lead.pk,
        str(grant.pk),
    )
    fields = granted.data["changes"][0]["fields"]
    assert fields["principal_id"] == {"new": principal.pk}
    assert fields["deputy_id"] == {"new": deputy.pk}
    assert fields["reason"] == {
        "changed": True,
        "digest": field_digest(
            label="accounts.deputygrant", pk=grant.pk, name="reason", value="Urlaub"
        ),
    }
    assert "Urlaub" not in str(granted.data)
    assert revoked.data["changes"] == [
        {
            "model": "accounts.deputygrant",
            "id": grant.pk,
            "op": "update",
            "fields": {"revoked_at": {"old": None, "new": "2026-01-07T08:00:00+00:00"}},
        }
    ]
    assert audit_chain_verify(chain_key="global") == []


def test_a_manager_cannot_grant_and_nothing_is_written() -> None:
    team = TeamFactory()
    principal, deputy = manager_in(team), manager_in(team)

    with pytest.raises(DeputyGrantForbidden):
        deputy_grant_create(
            principal=principal,
            deputy=deputy,
            valid_from=T0,
            valid_until=T0 + timedelta(days=1),
            reason="Urlaub",
            actor=deputy,
            now=T0,
        )

    assert (DeputyGrant.objects.count(), _grant_events()) == (0, [])


def test_revoking_twice_is_a_conflict_without_a_second_event() -> None:
    team = TeamFactory()
    lead = supervisor_of(team)
    grant = deputy_grant_create(
        principal=manager_in(team),
        deputy=manager_in(team),
        valid_from=T0,
        valid_until=T0 + timedelta(days=1),
        reason="Krank",
        actor=lead,
        now=T0,
    )
    deputy_grant_revoke(grant=grant, actor=lead, now=T0)

    with pytest.raises(DeputyGrantRevoked):
        deputy_grant_revoke(grant=grant, actor=lead, now=T0 + timedelta(hours=1))

    assert [e.event_type for e in _grant_events()] == [
        "accounts.deputy_grant.granted",
        "accounts.deputy_grant.revoked",
    ]


def test_the_admin_creates_grants_through_the_audited_service() -> None:
    team = TeamFactory()
    principal, deputy = manager_in(team), manager_in(team)
    admin = UserFactory(
        role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/admin/accounts/deputygrant/add/",
        {
            "principal": principal.pk,
            "deputy": deputy.pk,
            "valid_from_0": "05.01.2026",
            "valid_from_1": "09:00:00",
            "valid_until_0": "19.01.2026",
            "valid_until_1": "09:00:00",
            "reason": "Elternzeit",
        },
    )
    refused = client.post(
        "/admin/accounts/deputygrant/add/",
        {
            "principal": principal.pk,
            "deputy": principal.pk,
            "valid_from_0": "05.01.2026",
            "valid_from_1": "09:00:00",
            "valid_until_0": "19.01.2026",
            "valid_until_1": "09:00:00",
            "reason": "Elternzeit",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    grant = DeputyGrant.objects.get()
    assert (grant.deputy, grant.granted_by) == (deputy, admin)
    assert [e.object_id for e in _grant_events()] == [str(grant.pk)]
    assert refused.status_code == 200
    assert DeputyGrant.objects.count() == 1
