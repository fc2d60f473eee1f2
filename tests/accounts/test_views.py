"""Sign-in in German, sign-out."""

from __future__ import annotations

import pytest

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_german(client) -> None:
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Bei Lotse anmelden" in html
    assert "Benutzername" in html
    assert "Passwort" in html


def test_login_with_right_password_leads_to_start_page(client) -> None:
    UserFactory(username="imke")

    response = client.post(
        "/accounts/login/", {"username": "imke", "password": "pw-test-123"}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert response.status_code == 200
    assert "Willkommen" in response.content.decode()


def test_login_with_wrong_password_says_so_in_german(client) -> None:
    UserFactory(username="imke")

    response = client.post("/accounts/login/", {"username": "imke", "password": "wrong"})

    assert response.status_code == 200
    assert "Benutzername oder Passwort ist falsch" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client) -> None:
    user = UserFactory()
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_start_page_of_a_signed_in_user_is_never_cached(client) -> None:
    client.force_login(UserFactory())

    response = client.get("/")

    assert "no-store" in response["Cache-Control"]
