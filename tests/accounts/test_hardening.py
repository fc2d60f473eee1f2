"""Finding 8 of issue 22: CSP without inline code, 12-character passwords
checked against common ones, a page to change one's own password, and
deputy grants limited to the team and to LOTSE_DEPUTY_MAX_DAYS."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.demo import DEMO_PASSWORD
from accounts.models import DeputyGrant, Role
from tests.accounts.factories import TeamFactory, UserFactory, api_key
from tests.cases.factories import manager_in, supervisor_of

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def test_every_page_has_a_csp_without_inline_script_or_style() -> None:
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_no_template_of_lotse_has_inline_script_style_or_handler() -> None:
    templates = [
        path
        for path in ROOT.rglob("*.html")
        if ".venv" not in path.parts
        and "node_modules" not in path.parts
        and "staticfiles" not in path.parts
    ]
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style|\son[a-z]+=", re.I)
    offenders = [str(p.relative_to(ROOT)) for p in templates if inline.search(p.read_text())]

    assert templates
    assert offenders == []


@pytest.mark.parametrize("password", ["lotse-demo", "short-pw-1", "password1234", "123456789012"])
def test_short_or_common_passwords_are_refused(password) -> None:
    with pytest.raises(ValidationError):
        validate_password(password)


def test_the_demo_password_meets_the_rules() -> None:
    validate_password(DEMO_PASSWORD)
    assert len(DEMO_PASSWORD) >= 12


def test_a_user_changes_their_own_password_in_german_and_their_tokens_end() -> None:
    manager = manager_in(TeamFactory())
    key = api_key(manager)
    client = Client()
    client.force_login(manager)

    page = client.get("/accounts/passwort/")
    short = client.post(
        "/accounts/passwort/",
        {"old_password": "pw-test-123", "new_password1": "kurz-1", "new_password2": "kurz-1"},
    )
    done = client.post(
        "/accounts/passwort/",
        {
            "old_password": "pw-test-123",
            "new_password1": "ein-langes-Passwort-7",
            "new_password2": "ein-langes-Passwort-7",
        },
    )

    assert page.status_code == 200
    assert "Passwort ändern" in page.content.decode()
    assert short.status_code == 200
    assert "mindestens 12 Zeichen" in short.content.decode()
    assert done.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("ein-langes-Passwort-7")
    assert client.get("/").status_code == 200  # still signed in
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/tasks/").status_code == 401


def _grant(*, principal, deputy, actor, until: datetime) -> None:
    now = timezone.now()
    services.deputy_grant_create(
        principal=principal,
        deputy=deputy,
        valid_from=now,
        valid_until=until,
        reason="Urlaub",
        actor=actor,
        now=now,
    )


def test_a_deputy_of_another_team_is_refused() -> None:
    team = TeamFactory()
    principal = manager_in(team)
    stranger = manager_in(TeamFactory(traeger=team.traeger))
    admin = UserFactory(role=Role.ADMINISTRATOR, team=None, traeger=None)

    with pytest.raises(services.DeputyGrantInvalid):
        _grant(
            principal=principal,
            deputy=stranger,
            actor=admin,
            until=timezone.now() + timedelta(days=7),
        )
    with pytest.raises(services.DeputyGrantInvalid):
        services.deputy_grant(
            actor=supervisor_of(team),
            now=timezone.now(),
            principal_id=principal.pk,
            deputy_id=stranger.pk,
            valid_until=timezone.now() + timedelta(days=7),
            reason="Urlaub",
        )
    assert DeputyGrant.objects.count() == 0


def test_a_grant_longer_than_the_maximum_is_refused(settings) -> None:
    team = TeamFactory()
    principal, deputy, lead = manager_in(team), manager_in(team), supervisor_of(team)
    far = timezone.make_aware(datetime(9999, 12, 30))

    with pytest.raises(services.DeputyGrantInvalid) as refused:
        _grant(principal=principal, deputy=deputy, actor=lead, until=far)
    _grant(
        principal=principal,
        deputy=deputy,
        actor=lead,
        until=timezone.now() + timedelta(days=settings.LOTSE_DEPUTY_MAX_DAYS - 1),
    )

    assert str(refused.value.message) == "Eine Vertretung dauert höchstens 90 Tage."
    assert DeputyGrant.objects.count() == 1
