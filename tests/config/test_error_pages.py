"""German error pages in the site's layout, and the demo served as
production is (`make run`: DEBUG off, whitenoise, scripts/demo_env.sh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import loader
from django.test import RequestFactory
from django.views import defaults

from tests.accounts.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.mark.django_db
def test_a_missing_page_answers_the_german_404_in_the_layout(production, client) -> None:
    client.force_login(UserFactory())

    response = client.get("/gibt-es-nicht/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Seite nicht gefunden</h1>" in html
    assert '<header class="topbar">' in html
    assert 'href="/">Zur Startseite</a>' in html
    assert "Hauptnavigation" in html  # the navigation of a signed-in user
    assert "urlpatterns" not in html
    assert "Page not found" not in html


@pytest.mark.django_db
def test_a_foreign_case_answers_the_same_german_404(production, client) -> None:
    from tests.cases.factories import new_case

    case = new_case()
    client.force_login(UserFactory())

    response = client.get(f"/faelle/{case.pk}/")

    assert response.status_code == 404
    assert "<h1>Seite nicht gefunden</h1>" in response.content.decode()


def test_the_500_page_renders_without_context_and_database() -> None:
    # No django_db mark: any database access here raises.
    request = RequestFactory().get("/")

    response = defaults.server_error(request)
    plain = loader.get_template("500.html").render()

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Serverfehler</h1>" in html
    assert '<header class="topbar">' in html
    assert "Abmelden" not in html  # no user without a context
    assert "<h1>Serverfehler</h1>" in plain


@pytest.mark.parametrize(
    ("view", "status", "heading"),
    [
        (defaults.bad_request, 400, "Ungültige Anfrage"),
        (defaults.permission_denied, 403, "Zugriff verweigert"),
    ],
)
@pytest.mark.django_db
def test_400_and_403_are_german_in_the_layout(view, status, heading) -> None:
    request = RequestFactory().get("/")
    request.user = UserFactory()

    response = view(request, exception=Exception("x"))

    html = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in html
    assert '<header class="topbar">' in html


@pytest.mark.django_db
def test_an_expired_form_answers_the_german_csrf_page(production) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    response = client.post("/accounts/logout/")

    assert response.status_code == 403
    assert "<h1>Das Formular ist abgelaufen</h1>" in response.content.decode()


def test_the_demo_environment_runs_as_production_over_plain_http(tmp_path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_", "SESSION_"))
        and not key.startswith(("CSRF_", "LOTSE_REQUIRE_MFA", "DJANGO_SETTINGS_MODULE"))
    }
    env |= {"LOTSE_VAR_DIR": str(tmp_path), "PY": sys.executable}
    probe = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        "print(json.dumps([s.DEBUG, bool(s.SECRET_KEY), s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.LOTSE_REQUIRE_MFA, s.STORAGES['staticfiles']['BACKEND']]))"
    )
    script = (
        f"source scripts/demo_env.sh && DJANGO_SETTINGS_MODULE=config.settings "
        f"{sys.executable} -c {json.dumps(probe)}"
    )

    out = (
        subprocess.run(  # noqa: S603
            ["/bin/bash", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    assert json.loads(out) == [
        False,
        True,
        ["127.0.0.1", "localhost"],
        False,
        False,
        False,
        0,
        False,
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]
    assert (tmp_path / "demo-secret-key").stat().st_mode & 0o077 == 0
