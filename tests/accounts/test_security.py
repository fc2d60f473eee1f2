"""Sign-in hardening: second factor, lockout, session timeouts, hashing.

The test settings switch LOTSE_REQUIRE_MFA off for the rest of the suite;
the tests here switch it on where they are about it.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import ApiToken, Role
from accounts.tokens import key_digest
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-test-123"
BANNER = "Demo ohne Zwei-Faktor-Anmeldung"


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def _enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = services.totp_setup_device(user=user)
    return services.totp_confirm(user=user, code=_code(device))


def _password_session(user, addr: str = "10.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=addr)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def mfa(settings):
    settings.LOTSE_REQUIRE_MFA = True


# --- the second factor in the browser ----------------------------------------


@pytest.mark.parametrize("role", [r for r in Role.values])
def test_password_only_session_of_every_role_is_sent_to_set_up_the_second_factor(mfa, role) -> None:
    user = UserFactory(role=role)
    client = _password_session(user)

    response = client.get("/aufgaben/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/zwei-faktor/einrichten/?next=%2Faufgaben%2F"
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 0


def test_password_only_session_with_a_device_is_sent_to_the_code_step(mfa) -> None:
    user = UserFactory()
    _enrolled(user)
    client = _password_session(user)

    for url in ("/", "/aufgaben/", "/admin/", "/accounts/zwei-faktor/einrichten/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/zwei-faktor/?next="), url


def test_password_only_session_gets_403_from_the_api(mfa) -> None:
    client = _password_session(UserFactory())

    response = client.get("/api/v1/cases/")

    assert response.status_code == 403
    assert response.json() == {
        "code": "otp_required",
        "detail": "Die Zwei-Faktor-Anmeldung ist erforderlich; schließen Sie sie im Browser ab.",
    }


def test_setting_up_the_authenticator_shows_ten_single_use_backup_codes(mfa) -> None:
    user = UserFactory()
    client = _password_session(user)

    page = client.get("/accounts/zwei-faktor/einrichten/?next=/aufgaben/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zwei-Faktor-Anmeldung einrichten" in html
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert services.totp_secret_for_display(device) in html

    done = client.post(
        "/accounts/zwei-faktor/einrichten/", {"otp": _code(device), "next": "/aufgaben/"}
    )

    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/aufgaben/").status_code == 200


def test_set_up_page_shows_the_qr_code_of_the_devices_address_and_the_key(mfa) -> None:
    import qrcode
    import qrcode.image.svg
    from qrcode.util import QRData

    from accounts.views import setup_qr_svg

    user = UserFactory()
    client = _password_session(user)

    html = client.get("/accounts/zwei-faktor/einrichten/").content.decode()

    device = TOTPDevice.objects.get(user=user)
    assert device.config_url.startswith("otpauth://totp/Lotse")
    assert html.count("<svg") == 1
    assert str(setup_qr_svg(device.config_url)) in html
    # The QR code holds exactly the set-up address (same modules as a code
    # made from it; one made from another address differs).
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(QRData(device.config_url.encode()))
    code.make(fit=True)
    other = setup_qr_svg(device.config_url.replace("secret=", "secret=A"))
    assert str(other) not in html
    assert code.modules_count >= 29
    # The manual key stays as the fallback; nothing is fetched from elsewhere.
    assert "Wenn die App nicht scannen kann" in html
    assert services.totp_secret_for_display(device) in html
    assert "<img" not in html
    assert "no-store" in client.get("/accounts/zwei-faktor/einrichten/")["Cache-Control"]


def test_wrong_first_code_confirms_nothing(mfa) -> None:
    user = UserFactory()
    client = _password_session(user)
    client.get("/accounts/zwei-faktor/einrichten/")

    response = client.post("/accounts/zwei-faktor/einrichten/", {"otp": "000000"})

    assert response.status_code == 200
    assert "Der Code ist falsch oder abgelaufen." in response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 0
    assert StaticDevice.objects.filter(user=user).count() == 0
    assert client.get("/").status_code == 302


def test_a_second_authenticator_cannot_be_enrolled_with_the_password_alone(mfa) -> None:
    user = UserFactory()
    _enrolled(user)

    with pytest.raises(services.SecondFactorAlreadySetUp):
        services.totp_setup_device(user=user)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_current_code_completes_the_sign_in_and_is_refused_when_replayed(mfa) -> None:
    user = UserFactory()
    device, _codes = _enrolled(user)
    # The enrolment used this time step's code; the next step brings a new one.
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(seconds=31), tick=False):
        code = _code(device)
        first = _password_session(user, "10.0.0.1")
        ok = first.post("/accounts/zwei-faktor/", {"otp": code, "next": "/aufgaben/"})
        second = _password_session(user, "10.0.0.2")
        replay = second.post("/accounts/zwei-faktor/", {"otp": code, "next": "/aufgaben/"})

        assert ok.status_code == 302
        assert ok["Location"] == "/aufgaben/"
        assert first.get("/aufgaben/").status_code == 200
        assert replay.status_code == 200
        assert "Der Code ist falsch oder abgelaufen." in replay.content.decode()
        assert second.get("/aufgaben/").status_code == 302


def test_backup_code_works_exactly_once(mfa) -> None:
    user = UserFactory()
    _device, codes = _enrolled(user)

    first = _password_session(user, "10.0.0.1")
    ok = first.post("/accounts/zwei-faktor/", {"otp": codes[0]})
    second = _password_session(user, "10.0.0.2")
    again = second.post("/accounts/zwei-faktor/", {"otp": codes[0]})

    assert ok.status_code == 302
    assert first.get("/").status_code == 200
    assert again.status_code == 200
    assert second.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_next_pointing_elsewhere_is_not_followed(mfa) -> None:
    user = UserFactory()
    _device, codes = _enrolled(user)
    client = _password_session(user)

    response = client.post(
        "/accounts/zwei-faktor/", {"otp": codes[1], "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_verified_session_is_never_cached(mfa) -> None:
    user = UserFactory()
    _device, codes = _enrolled(user)
    client = _password_session(user)
    client.post("/accounts/zwei-faktor/", {"otp": codes[0]})

    response = client.get("/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_banner_shows_while_two_factor_is_off_only(settings) -> None:
    client = Client()
    settings.LOTSE_REQUIRE_MFA = False
    assert BANNER in client.get("/accounts/login/").content.decode()
    settings.LOTSE_REQUIRE_MFA = True
    assert BANNER not in client.get("/accounts/login/").content.decode()


# --- the second factor for API tokens ----------------------------------------


def test_api_token_needs_the_otp_field(mfa) -> None:
    user = UserFactory()
    device, _codes = _enrolled(user)
    api = Client(REMOTE_ADDR="10.0.1.1")
    creds = {"username": user.username, "password": PASSWORD}

    missing = api.post("/api/v1/auth/token/", creds, content_type="application/json")
    wrong = api.post(
        "/api/v1/auth/token/", {**creds, "otp": "000000"}, content_type="application/json"
    )

    assert missing.status_code == 400
    assert missing.json()["code"] == "otp_invalid"
    assert wrong.status_code == 400
    assert wrong.json() == {
        "code": "otp_invalid",
        "detail": "Der Code ist falsch oder abgelaufen. Geben Sie den aktuellen Code aus der "
        "App ein.",
        "fields": {"otp": ["Der Code ist falsch oder abgelaufen."]},
    }
    assert ApiToken.objects.filter(user=user).count() == 0

    with time_machine.travel(datetime.now(tz=UTC) + timedelta(seconds=61), tick=False):
        code = _code(device)
        ok = api.post(
            "/api/v1/auth/token/", {**creds, "otp": code}, content_type="application/json"
        )
        replay = api.post(
            "/api/v1/auth/token/", {**creds, "otp": code}, content_type="application/json"
        )

    assert ok.status_code == 200
    assert list(ok.json()) == ["token"]
    # Stored only as its digest: the key itself is nowhere in the database.
    assert ApiToken.objects.get(user=user).key_digest == key_digest(ok.json()["token"])
    assert replay.status_code == 400
    assert replay.json()["code"] == "otp_invalid"


def test_api_token_without_a_set_up_second_factor_is_refused(mfa) -> None:
    user = UserFactory()

    response = Client().post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": PASSWORD, "otp": "123456"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "otp_not_set_up"
    assert ApiToken.objects.filter(user=user).count() == 0


def test_api_token_without_otp_while_two_factor_is_off(settings) -> None:
    settings.LOTSE_REQUIRE_MFA = False
    user = UserFactory()

    response = Client().post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200


# --- brute-force lockout -------------------------------------------------------


def _fail(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        response = client.post("/accounts/login/", {"username": username, "password": "nope"})
        assert response.status_code == 200


def test_lockout_answers_the_same_for_known_and_unknown_user_names(settings) -> None:
    known = UserFactory(username="imke")
    known_client = Client(REMOTE_ADDR="10.0.2.1")
    unknown_client = Client(REMOTE_ADDR="10.0.2.2")
    _fail(known_client, "imke", settings.AXES_FAILURE_LIMIT - 1)
    _fail(unknown_client, "niemand", settings.AXES_FAILURE_LIMIT - 1)

    known_answer = known_client.post("/accounts/login/", {"username": "imke", "password": "x"})
    unknown_answer = unknown_client.post(
        "/accounts/login/", {"username": "niemand", "password": "x"}
    )
    # Even the right password is refused while locked, with the same answer.
    right_password = Client(REMOTE_ADDR="10.0.2.3").post(
        "/accounts/login/", {"username": "imke", "password": PASSWORD}
    )

    assert known_answer.status_code == unknown_answer.status_code == 429
    assert known_answer.content == unknown_answer.content == right_password.content
    assert right_password.status_code == 429
    body = known_answer.content.decode()
    assert "Anmeldung vorübergehend gesperrt" in body
    assert "imke" not in body
    assert "_auth_user_id" not in known_client.session
    known.refresh_from_db()
    assert known.last_login is None


def test_api_token_lockout_answers_the_same_for_known_and_unknown_user_names(settings) -> None:
    UserFactory(username="imke")
    answers = []
    for username, addr in (("imke", "10.0.3.1"), ("niemand", "10.0.3.2")):
        api = Client(REMOTE_ADDR=addr)
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            last = api.post(
                "/api/v1/auth/token/",
                {"username": username, "password": "nope"},
                content_type="application/json",
            )
        answers.append((last.status_code, last.content))

    assert answers[0] == answers[1]
    assert answers[0][0] in {400, 429}
    locked = Client(REMOTE_ADDR="10.0.3.3").post(
        "/api/v1/auth/token/",
        {"username": "imke", "password": PASSWORD},
        content_type="application/json",
    )
    assert locked.status_code in {400, 429}
    assert ApiToken.objects.count() == 0


def test_failed_and_successful_sign_ins_log_no_user_name_and_no_address(caplog) -> None:
    import logging

    UserFactory(username="imke.beispiel")
    caplog.set_level(logging.DEBUG)
    client = Client(REMOTE_ADDR="203.0.113.77", HTTP_X_FORWARDED_FOR="198.51.100.9")

    for _ in range(6):  # into the lockout
        client.post("/accounts/login/", {"username": "imke.beispiel", "password": "nope"})
    Client(REMOTE_ADDR="203.0.113.78").post(
        "/accounts/login/", {"username": "niemand.unbekannt", "password": "nope"}
    )
    Client(REMOTE_ADDR="203.0.113.79").post(
        "/accounts/login/", {"username": "imke.beispiel", "password": "nope"}
    )

    axes = [r for r in caplog.records if r.name.startswith("axes")]
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert {r.levelname for r in axes} >= {"WARNING"}  # failures and the lockout are logged
    assert any("Locking out {client: " in r.getMessage() for r in axes)
    for personal in ("imke", "niemand", "203.0.113", "198.51.100"):
        assert personal not in text, personal
    assert not [r for r in axes if r.levelno < logging.INFO]


def test_log_digest_tells_clients_apart_without_naming_them(settings) -> None:
    from accounts.backends import client_str

    one = client_str("imke", "10.0.0.1", "ua", "/accounts/login/", None)

    assert one == client_str("imke", "10.0.0.1", "other ua", "/x", None)
    assert one != client_str("imke", "10.0.0.2", "ua", "/accounts/login/", None)
    assert one != client_str("imka", "10.0.0.1", "ua", "/accounts/login/", None)
    assert re.fullmatch(r"\{client: [0-9a-f]{12}\}", one)
    settings.SECRET_KEY = "another-key-" * 5
    assert client_str("imke", "10.0.0.1", "ua", "/accounts/login/", None) != one


# --- the client's address behind a reverse proxy --------------------------------


def _fail_as(client: Client, usernames: list[str]) -> None:
    for name in usernames:
        client.post("/accounts/login/", {"username": name, "password": "nope"})


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def test_without_trusted_proxies_a_forwarding_header_cannot_dodge_the_lockout(settings) -> None:
    assert settings.LOTSE_TRUSTED_PROXY_COUNT == 0
    limit = settings.AXES_FAILURE_LIMIT
    for number, name in enumerate(_names("spoof", limit)):
        Client(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}").post(
            "/accounts/login/", {"username": name, "password": "nope"}
        )

    response = Client(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.200").post(
        "/accounts/login/", {"username": "fresh", "password": "nope"}
    )

    assert response.status_code == 429


@pytest.mark.parametrize(
    ("count", "header", "expected"),
    [
        (0, "198.51.100.1", "192.0.2.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left entry is the client's claim
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.5", "198.51.100.1"),
        (2, "198.51.100.1", "192.0.2.1"),  # not through both proxies: the nearest one
        (1, "not-an-address", "192.0.2.1"),
        (1, "", "192.0.2.1"),
    ],
)
def test_client_address_comes_from_the_trusted_proxies_entry(
    settings, count: int, header: str, expected: str
) -> None:
    from django.test import RequestFactory

    from accounts.backends import client_ip_address

    settings.LOTSE_TRUSTED_PROXY_COUNT = count
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=header
    )

    assert client_ip_address(request) == expected


def test_behind_one_proxy_each_client_is_locked_out_on_its_own(settings) -> None:
    settings.LOTSE_TRUSTED_PROXY_COUNT = 1
    UserFactory(username="imke")
    limit = settings.AXES_FAILURE_LIMIT

    def via_proxy(client_address: str) -> Client:
        return Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=client_address)

    _fail_as(via_proxy("198.51.100.1"), _names("a", limit))

    locked = via_proxy("198.51.100.1").post(
        "/accounts/login/", {"username": "imke", "password": PASSWORD}
    )
    other_client = via_proxy("198.51.100.2").post(
        "/accounts/login/", {"username": "imke", "password": PASSWORD}
    )
    locked_unknown = via_proxy("198.51.100.1").post(
        "/accounts/login/", {"username": "niemand", "password": "x"}
    )

    assert locked.status_code == locked_unknown.status_code == 429
    assert locked.content == locked_unknown.content  # known and unknown alike
    assert other_client.status_code == 302  # the proxy's address is not locked


# --- session timeouts ----------------------------------------------------------


def test_idle_session_ends_after_thirty_minutes() -> None:
    user = UserFactory()
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = _password_session(user)
        clock.move_to(start + timedelta(minutes=29))
        assert client.get("/").status_code == 200
        clock.move_to(start + timedelta(minutes=58))  # 29 minutes after the last request
        assert client.get("/").status_code == 200
        clock.move_to(start + timedelta(minutes=88))  # 30 minutes idle
        response = client.get("/", follow=True)

    assert response.redirect_chain == [("/accounts/login/?next=/", 302)]
    assert "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_active_session_ends_ten_hours_after_sign_in() -> None:
    user = UserFactory()
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = _password_session(user)
        for minutes in range(20, 600, 20):
            clock.move_to(start + timedelta(minutes=minutes))
            assert client.get("/").status_code == 200, minutes
        clock.move_to(start + timedelta(hours=10))
        response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_expired_session_is_refused_by_the_api_too() -> None:
    user = UserFactory()
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = _password_session(user)
        assert client.get("/api/v1/cases/").status_code == 200
        clock.move_to(start + timedelta(minutes=31))
        response = client.get("/api/v1/cases/")

    assert response.status_code in {401, 403}
    assert response.json()["code"] == "not_authenticated"


# --- password hashing ----------------------------------------------------------


def test_production_settings_hash_passwords_with_argon2() -> None:
    from config import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        user = UserFactory()
        assert user.password.startswith("argon2$argon2id$")
        assert user.check_password(PASSWORD)
