"""Finding 1 of issue 22: the administrator cannot act as anyone else.

No API token and no second-factor secret of another user is visible or
creatable in the admin; tokens are stored hashed, expire, and end with a
password change, a deactivation or a role change; a token issued before
two-factor sign-in was required reads no case; the admin itself needs the
second factor; every admin change is an event of Lotse's audit chain; and
no case model is registered in the admin.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import ApiToken, Kreis, Role
from audit.models import AuditEvent
from tests.accounts.factories import TeamFactory, UserFactory, api_key
from tests.cases.factories import manager_in, new_case

pytestmark = pytest.mark.django_db

PASSWORD = "pw-test-123"


def _verified_admin(settings) -> Client:
    """An administrator (superuser) whose session passed the second factor."""
    settings.LOTSE_REQUIRE_MFA = True
    user = UserFactory(
        role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
    )
    device = TOTPDevice.objects.create(user=user, name="App", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _victim_with_secrets():
    manager = manager_in(TeamFactory())
    key = api_key(manager)
    totp = TOTPDevice.objects.create(user=manager, name="App", confirmed=True)
    static = StaticDevice.objects.create(user=manager, name="Backup", confirmed=True)
    StaticToken.objects.create(device=static, token="backupcode1")
    return manager, key, totp


def test_admin_shows_and_creates_no_token_or_otp_secret_of_another_user(settings) -> None:
    client = _verified_admin(settings)
    manager, key, totp = _victim_with_secrets()

    assert client.get("/admin/").status_code == 200
    for url in (
        "/admin/authtoken/tokenproxy/",
        "/admin/authtoken/tokenproxy/add/",
        "/admin/authtoken/token/",
        "/admin/accounts/apitoken/",
        "/admin/accounts/apitoken/add/",
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_totp/totpdevice/add/",
        f"/admin/otp_totp/totpdevice/{totp.pk}/change/",
        f"/admin/otp_totp/totpdevice/{totp.pk}/config/",
        "/admin/otp_static/staticdevice/",
        "/admin/otp_static/staticdevice/add/",
    ):
        response = client.get(url, follow=True)
        assert response.status_code == 404, url

    pages = [
        client.get(url).content.decode()
        for url in (
            "/admin/",
            f"/admin/accounts/user/{manager.pk}/change/",
            "/admin/accounts/user/",
        )
    ]
    for page in pages:
        assert key not in page
        assert totp.key not in page
        assert "backupcode1" not in page
    # The key is stored only as its digest.
    assert ApiToken.objects.filter(key_digest=key).count() == 0
    assert not any(key in str(value) for value in ApiToken.objects.values_list())


def test_admin_resets_a_second_factor_without_seeing_it_and_the_reset_is_audited(settings) -> None:
    client = _verified_admin(settings)
    manager, _key, _totp = _victim_with_secrets()

    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [manager.pk]},
    )

    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=manager).count() == 0
    assert StaticDevice.objects.filter(user=manager).count() == 0
    assert ApiToken.objects.filter(user=manager).count() == 0
    types = list(
        AuditEvent.objects.filter(event_type__in=["accounts.second_factor.reset", "admin.action"])
        .order_by("seq")
        .values_list("event_type", "object_id")
    )
    assert types == [
        ("accounts.second_factor.reset", str(manager.pk)),
        ("admin.action", str(manager.pk)),
    ]


def _token_reads_case(key: str, case_id: int) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(f"/api/v1/cases/{case_id}/").status_code


def test_a_token_issued_before_mfa_was_required_reads_no_case(settings) -> None:
    settings.LOTSE_REQUIRE_MFA = False
    manager = manager_in(TeamFactory())
    case = new_case(owner=manager)
    issued = Client().post(
        "/api/v1/auth/token/",
        {"username": manager.username, "password": PASSWORD},
        content_type="application/json",
    )
    key = issued.json()["token"]
    assert _token_reads_case(key, case.pk) == 200

    settings.LOTSE_REQUIRE_MFA = True

    assert _token_reads_case(key, case.pk) == 401


@pytest.mark.parametrize("change", ["password", "deactivation", "role", "team"])
def test_a_token_ends_with_a_change_of_the_account(change) -> None:
    manager = manager_in(TeamFactory())
    case = new_case(owner=manager)
    key = api_key(manager)
    assert _token_reads_case(key, case.pk) == 200

    if change == "password":
        manager.set_password("another-long-password-1")
    elif change == "deactivation":
        manager.is_active = False
    elif change == "role":
        manager.role = Role.SUPERVISOR
    else:
        manager.team = TeamFactory(traeger=manager.traeger)
    manager.save()

    assert _token_reads_case(key, case.pk) == 401
    assert ApiToken.objects.filter(user=manager).count() == 0


def test_a_token_expires(settings) -> None:
    manager = manager_in(TeamFactory())
    case = new_case(owner=manager)
    key = api_key(manager)

    later = timezone.now() + timedelta(hours=settings.LOTSE_API_TOKEN_HOURS, seconds=1)
    with time_machine.travel(later, tick=False):
        assert _token_reads_case(key, case.pk) == 401


def test_the_admin_needs_the_second_factor(settings) -> None:
    settings.LOTSE_REQUIRE_MFA = True
    user = UserFactory(
        role=Role.ADMINISTRATOR, team=None, traeger=None, is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(user)

    response = client.get("/admin/accounts/kreis/")

    assert response.status_code == 302
    assert not admin.site.has_permission(response.wsgi_request)


def test_every_admin_change_is_an_audit_event(settings) -> None:
    client = _verified_admin(settings)
    before = AuditEvent.objects.count()

    added = client.post("/admin/accounts/kreis/add/", {"name": "Prüfkreis", "ags": "08999000"})
    kreis = Kreis.objects.get(ags="08999000")
    changed = client.post(
        f"/admin/accounts/kreis/{kreis.pk}/change/", {"name": "Prüfkreis Neu", "ags": "08999000"}
    )

    assert (added.status_code, changed.status_code) == (302, 302)
    events = list(
        AuditEvent.objects.order_by("id")[before:].values_list(
            "event_type", "object_type", "object_id", "chain_key", "data"
        )
    )
    assert events == [
        ("admin.addition", "accounts.kreis", str(kreis.pk), "global", {"ids": [kreis.pk]}),
        (
            "admin.change",
            "accounts.kreis",
            str(kreis.pk),
            "global",
            {"ids": [kreis.pk], "fields": ["name"]},
        ),
    ]


def test_the_admin_registers_no_case_content() -> None:
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert registered <= {
        "accounts.user",
        "accounts.kreis",
        "accounts.gemeinde",
        "accounts.traeger",
        "accounts.team",
        "accounts.deputygrant",
        # Which directory group grants which role (prod: directory sign-in).
        "accounts.directorygroup",
        "auth.group",
        "cases.catalogueentry",
        # The goal catalogue per field of action (K4 counts by it).
        "cases.goalcatalogueentry",
        "notifications.incident",
        "notifications.notification",
        "notifications.heartbeat",
        "axes.accessattempt",
        "axes.accesslog",
        "axes.accessfailurelog",
    }, registered
