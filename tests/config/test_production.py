"""Production behaviour: JSON request logs without personal data, API
throttling with the contract's error body, error reporting without
personal data, and the storage and cache choices by environment."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core.cache import cache
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from config.error_reporting import scrub_event
from tests.accounts.factories import TeamFactory
from tests.cases.factories import manager_in, new_case
from tests.config.test_settings import PRODUCTION, _manage

pytestmark = pytest.mark.django_db


class _Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_request_log(settings):
    options = {
        k: v for k, v in settings.LOGGING["formatters"]["json"].items() if not k.startswith("(")
    }
    options["fmt"] = options.pop("format")  # dictConfig's name for it
    handler = _Lines(JsonFormatter(**options))
    logger = logging.getLogger("lotse.request")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_request_log_line_is_json_and_names_no_client(client, json_request_log) -> None:
    owner = manager_in(TeamFactory())
    case = new_case(owner=owner)
    person = case.person
    person.family_name, person.given_names = "Zylberstajn", "Mirela"
    person.save(update_fields=["family_name", "given_names"])
    client.force_login(owner)

    assert client.get(f"/faelle/{case.pk}/").status_code == 200
    assert client.get("/arbeitsplatz/faelle/", {"q": "Zylberstajn"}).status_code == 200

    assert len(json_request_log) == 2
    lines = [json.loads(line) for line in json_request_log]
    assert lines[0]["message"] == "request"
    assert lines[0]["method"] == "GET"
    assert lines[0]["route"] == "/faelle/<str:case_pk>/"
    assert lines[0]["status"] == 200
    assert isinstance(lines[0]["duration_ms"], float)
    assert lines[1]["route"] == "/arbeitsplatz/faelle/"
    for raw in json_request_log:
        for secret in ("Zylberstajn", "Mirela", f"/{case.pk}/", owner.username):
            assert secret not in raw, secret
        fields = json.loads(raw)
        assert "user" not in fields
        # No value carries the case's or the person's id.
        assert {str(case.pk), str(person.pk)}.isdisjoint(str(v) for v in fields.values())


def test_the_production_settings_log_json_by_default() -> None:
    result = _manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('lotse.check').warning('hallo', extra={'n': 1})",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert (line["message"], line["level"], line["logger"], line["n"]) == (
        "hallo",
        "WARNING",
        "lotse.check",
        1,
    )


@pytest.fixture
def production_rates(settings) -> Any:
    settings.LOTSE_API_THROTTLE_RATES = {"user": "3/min", "anon": "60/min", "token": "2/min"}
    cache.clear()
    yield
    cache.clear()


def test_the_token_endpoint_is_throttled_with_the_contracts_error(production_rates) -> None:
    api = APIClient()
    body = {"username": "nobody", "password": "wrong"}
    answers = [api.post("/api/v1/auth/token/", body, format="json") for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[2].json()["code"] == "throttled"
    assert answers[2].json()["detail"]
    assert int(answers[2]["Retry-After"]) > 0


def test_api_calls_of_a_user_are_throttled(production_rates) -> None:
    owner = manager_in(TeamFactory())
    api = APIClient()
    api.force_authenticate(owner)
    statuses = [api.get("/api/v1/cases/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Another user has its own allowance.
    other = APIClient()
    other.force_authenticate(manager_in(TeamFactory()))
    assert other.get("/api/v1/cases/").status_code == 200


def test_error_reports_carry_no_personal_data() -> None:
    event = {
        "request": {
            "method": "GET",
            "url": "https://lotse.example.org/arbeitsplatz/faelle/?q=Zylberstajn",
            "query_string": "q=Zylberstajn",
            "data": {"family_name": "Zylberstajn"},
            "cookies": {"sessionid": "abc"},
            "headers": {"X-Forwarded-For": "203.0.113.9"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": 7, "username": "manager"},
        "breadcrumbs": {"values": [{"message": "Zylberstajn"}]},
        "exception": {"values": [{"type": "ValueError"}]},
    }
    scrubbed = scrub_event(event)
    assert scrubbed["request"] == {
        "method": "GET",
        "url": "https://lotse.example.org/arbeitsplatz/faelle/",
    }
    assert "Zylberstajn" not in json.dumps(scrubbed)
    assert "user" not in scrubbed
    assert scrubbed["exception"] == {"values": [{"type": "ValueError"}]}


def test_error_reporting_is_initialised_only_with_a_dsn() -> None:
    code = (
        "import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.options['send_default_pii'], c.options['include_local_variables'])"
    )
    off = _manage("shell", "-v", "0", "-c", code, **PRODUCTION)
    assert off.returncode == 0, off.stderr
    assert off.stdout.split()[0] == "False"
    on = _manage(
        "shell", "-v", "0", "-c", code, **PRODUCTION, SENTRY_DSN="https://key@errors.example.org/1"
    )
    assert on.returncode == 0, on.stderr
    assert on.stdout.split() == ["True", "False", "False"]


def test_s3_storage_and_the_redis_cache_are_chosen_by_environment() -> None:
    code = (
        "from django.core.files.storage import storages; s = storages['default']; "
        "from django.conf import settings as c; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.default_acl, "
        "c.CACHES['default']['BACKEND'].rsplit('.', 1)[1], c.SESSION_ENGINE)"
    )
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        **PRODUCTION,
        LOTSE_S3_BUCKET="lotse-media",
        LOTSE_S3_ENDPOINT_URL="https://s3.kreis.example",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "S3Storage",
        "lotse-media",
        "https://s3.kreis.example",
        "private",
        "RedisCache",
        "django.contrib.sessions.backends.db",
    ]
