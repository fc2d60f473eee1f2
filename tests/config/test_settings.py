"""Start-up configuration: production checks and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "LOTSE_VAR_DIR": str(ROOT / "var")})
    for key in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"):
        clean.pop(key, None)
    clean.update(env)
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,  # collectstatic compresses ~110 MB of viewflow assets: minutes on a busy CI
        check=False,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Jq-production-like-secret-key-with-enough-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "lotse.example.org",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/lotse",
}


def test_deploy_check_with_production_values_has_no_findings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        (
            {**PRODUCTION, "DATABASE_URL": "not a url"},
            "Lotse cannot start: DATABASE_URL cannot be understood; use "
            "postgresql://USER:PASSWORD@HOST:5432/NAME or sqlite:////abs/path.\n",
        ),
        (
            {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"},
            "Lotse cannot start: SECRET_KEY is not set; production (DEBUG=false) needs a "
            "long random SECRET_KEY in the environment.\n",
        ),
        (
            {**PRODUCTION, "DEBUG": "maybe"},
            "Lotse cannot start: DEBUG='maybe' is not a truth value; use true or false.\n",
        ),
    ],
    ids=["unparsable-database-url", "missing-secret-key", "bad-debug-flag"],
)
def test_bad_configuration_stops_with_one_sentence(env: dict[str, str], sentence: str) -> None:
    result = _manage("check", **env)

    assert result.returncode == 2
    assert result.stderr == sentence
    assert "Traceback" not in result.stdout + result.stderr


def test_env_example_lists_every_variable_the_settings_read() -> None:
    import re

    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'(?:_bool|_int|env\.str|env\.list)\("([A-Z_]+)"', source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))

    assert read - listed == set()
    assert {"DATABASE_URL", "SECRET_KEY", "CELERY_BROKER_URL"} <= read


def test_collectstatic_with_debug_off_collects_and_pages_render(tmp_path: Path) -> None:
    """The production path: the manifest storage collects and pages find their files.

    django-viewflow ships CSS naming font files its wheel lacks; collecting them
    made ``collectstatic`` exit 1 and every page answer 500.
    """
    env = {**PRODUCTION, "STATIC_ROOT": str(tmp_path / "static")}
    collected = _manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stdout + collected.stderr

    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert '"lotse.css"' in manifest
    assert "node_modules" not in manifest

    rendered = _manage(
        "shell",
        "-c",
        "from django.template.loader import render_to_string as r;print(r('base.html', {}))",
        **env,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "/static/lotse." in rendered.stdout
    assert '/static/lotse.css"' not in rendered.stdout  # the hashed name is served
