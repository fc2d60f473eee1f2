"""Finding 5 of issue 22: hostile bodies get the contract's JSON errors.

Deep nesting, over-long texts and oversized bodies are refused before the
JSON is parsed; an over-long user name never reaches django-axes; 413, 404
and 500 under /api/ are JSON, not HTML.
"""

from __future__ import annotations

from unittest import mock

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.factories import TeamFactory, api_key
from tests.cases.factories import manager_in

pytestmark = pytest.mark.django_db


def _manager_client() -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(manager_in(TeamFactory()))}")
    return client


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/network-contacts/"])
def test_json_nested_100000_deep_is_a_400(url) -> None:
    body = "[" * 100_000 + "]" * 100_000
    client = _manager_client() if url != "/api/v1/auth/token/" else Client()

    response = client.generic("POST", url, body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "parse_error",
        "detail": "Das JSON ist mehr als 20 Ebenen tief verschachtelt.",
    }


def test_an_over_long_text_is_refused_before_validation() -> None:
    body = '{"organisation": "' + "x" * 20_001 + '"}'

    response = _manager_client().generic(
        "POST", "/api/v1/network-contacts/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_an_oversized_body_is_a_413_in_json() -> None:
    body = '{"notes": "' + "x" * (1024 * 1024) + '"}'

    response = _manager_client().generic(
        "POST", "/api/v1/network-contacts/", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {
        "code": "request_too_large",
        "detail": "Die Anfrage ist größer als 1024 KB.",
    }


@pytest.mark.parametrize("length", [151, 100_000])
def test_an_over_long_user_name_is_refused_before_django_axes(length) -> None:
    api = Client(raise_request_exception=False).post(
        "/api/v1/auth/token/",
        {"username": "u" * length, "password": "whatever-long-enough"},
        content_type="application/json",
    )
    browser = Client(raise_request_exception=False).post(
        "/accounts/login/", {"username": "u" * length, "password": "whatever-long-enough"}
    )
    admin = Client(raise_request_exception=False).post(
        "/admin/login/", {"username": "u" * length, "password": "whatever-long-enough"}
    )

    assert api.status_code == 400
    if length == 151:
        assert api.json()["code"] == "invalid"
        assert list(api.json()["fields"]) == ["username"]
    else:
        assert api.json()["code"] == "parse_error"
    assert (browser.status_code, admin.status_code) == (200, 200)
    assert AccessAttempt.objects.count() == 0
    assert AccessFailureLog.objects.count() == 0


def test_an_unexpected_error_is_a_500_in_json() -> None:
    client = _manager_client()
    with mock.patch("cases.api.CatalogueListView.get", side_effect=RuntimeError("boom")):
        response = client.get("/api/v1/catalogues/")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_an_unknown_api_path_is_a_404_in_json() -> None:
    response = Client().get("/api/v1/does-not-exist/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
