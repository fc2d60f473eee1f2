"""Deployment files: the compose file against the Compose Specification
schema (bundled: deploy/compose-spec.json; no container runtime runs in CI),
the Dockerfile, the systemd units and gunicorn's configuration."""

from __future__ import annotations

import configparser
import json
import re
import runpy
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
THIRD_PARTY_IMAGE = re.compile(
    r"^[a-z0-9./-]+:\d+(\.\d+){1,2}(-[a-z0-9]+)?(@sha256:[0-9a-f]{64})?$"
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_specification(compose) -> None:
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    validator_class = jsonschema.Draft201909Validator  # the file says draft 2019-09
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: e.path)
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_the_schema_check_catches_a_mistake(compose) -> None:
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["healthcheck"]["intervall"] = "30s"
    validator = jsonschema.Draft201909Validator(schema)
    assert not validator.is_valid(broken)


def test_compose_runs_the_whole_stack_with_health_checks_and_volumes(compose) -> None:
    services = compose["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
        assert "media:/app/var/media" in services[name]["volumes"]
        assert services[name]["environment"]["DEBUG"] == "false"
    assert services["web"]["command"][0] == "gunicorn"
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    for name in ("db", "redis"):
        assert THIRD_PARTY_IMAGE.match(services[name]["image"]), services[name]["image"]


def test_every_variable_compose_and_the_units_need_is_in_the_env_example(compose) -> None:
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    used |= set(
        re.findall(r'os\.environ\.get\("([A-Z0-9_]+)"', (ROOT / "gunicorn.conf.py").read_text())
    )
    assert used - listed == set()


def test_dockerfile_is_slim_pinned_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases, "no FROM"
    for base in bases:
        assert re.match(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$", base), base
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users
    assert users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in dockerfile
    assert "collectstatic" in dockerfile


@pytest.mark.parametrize("unit", ["lotse-web", "lotse-worker", "lotse-beat"])
def test_systemd_units_run_lotse_unprivileged_with_its_environment(unit) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(ROOT / "deploy" / "systemd" / f"{unit}.service")
    service = parser["Service"]
    assert service["User"] == "lotse"
    assert service["EnvironmentFile"] == "/etc/lotse/lotse.env"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "true"
    command = service["ExecStart"].split()
    assert command[0].startswith("/opt/lotse/.venv/bin/")
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_gunicorn_configuration_has_no_access_log(monkeypatch) -> None:
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["accesslog"] is None
    assert config["workers"] == 5
    assert config["preload_app"] is True
