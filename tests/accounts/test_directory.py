"""Sign-in through the organisation's directory (accounts/directory.py).

LDAP: against Debian's slapd, started by the test itself on a free port.
OIDC: against a small provider served by the test (token, userinfo and JWKS
endpoints, an RSA-signed ID token), driving Lotse's real code flow.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import authenticate
from django.test import RequestFactory

from accounts.directory import (
    DirectoryAccessRefused,
    directory_assignment,
    directory_user_sync,
    provider_asserts_mfa,
)
from accounts.models import DirectoryGroup, Role, User
from accounts.services import PROVIDER_MFA_SESSION_KEY
from tests.accounts.factories import KreisFactory, TeamFactory, UserFactory
from tests.services import LDAP_ADMIN_DN, LDAP_ADMIN_PASSWORD, LDAP_SUFFIX, slapd_directory

pytestmark = pytest.mark.django_db

PEOPLE = f"ou=people,{LDAP_SUFFIX}"
GROUPS = f"ou=groups,{LDAP_SUFFIX}"
IM_NORD = f"cn=lotse-im-nord,{GROUPS}"
SUP_NORD = f"cn=lotse-tl-nord,{GROUPS}"
OTHER = f"cn=kantine,{GROUPS}"


@pytest.fixture
def teams() -> dict[str, Any]:
    nord = TeamFactory(name="Team Nord")
    sued = TeamFactory(name="Team Süd", traeger=nord.traeger)
    return {"nord": nord, "sued": sued}


@pytest.fixture
def mapping(teams) -> None:
    DirectoryGroup.objects.create(name=IM_NORD, role=Role.INTEGRATION_MANAGER, team=teams["nord"])
    DirectoryGroup.objects.create(name=SUP_NORD, role=Role.SUPERVISOR, team=teams["nord"])


# --- the mapping itself ---------------------------------------------------------


def test_groups_name_the_role_and_team_case_insensitively(mapping, teams) -> None:
    assignment = directory_assignment(groups=[IM_NORD.upper(), OTHER])
    assert assignment.role == Role.INTEGRATION_MANAGER
    assert assignment.team_id == teams["nord"].pk
    assert assignment.traeger_id == teams["nord"].traeger_id
    assert assignment.kreis_id is None


@pytest.mark.parametrize(
    ("groups", "reason"),
    [([], "no_group"), ([OTHER], "no_mapped_group"), ([IM_NORD, SUP_NORD], "conflicting_groups")],
)
def test_no_mapped_group_or_two_roles_is_refused(mapping, groups, reason) -> None:
    with pytest.raises(DirectoryAccessRefused) as caught:
        directory_assignment(groups=groups)
    assert caught.value.reason == reason


def test_coordinator_group_gives_the_kreis_only() -> None:
    kreis = KreisFactory()
    DirectoryGroup.objects.create(name="/lotse/kreis", role=Role.COORDINATOR, kreis=kreis)
    user = directory_user_sync(source="oidc", username="ks", groups=["/lotse/kreis"])
    user.refresh_from_db()
    assert (user.role, user.kreis_id, user.team_id, user.traeger_id) == (
        Role.COORDINATOR,
        kreis.pk,
        None,
        None,
    )
    assert not user.has_usable_password()


def test_a_local_account_of_the_same_name_is_never_taken_over(mapping, teams) -> None:
    local = UserFactory(username="anna", role=Role.SUPERVISOR, team=teams["sued"])
    assert directory_user_sync(source="oidc", username="Anna", groups=[IM_NORD]) is None
    local.refresh_from_db()
    assert (local.role, local.team_id) == (Role.SUPERVISOR, teams["sued"].pk)
    assert local.has_usable_password()


def test_an_inactive_directory_user_is_refused(mapping) -> None:
    user = directory_user_sync(source="oidc", username="bert", groups=[IM_NORD])
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert directory_user_sync(source="oidc", username="bert", groups=[IM_NORD]) is None


@pytest.mark.parametrize(
    ("claims", "asserted"),
    [
        ({"amr": ["pwd", "otp"]}, True),
        ({"amr": ["pwd", "mfa"]}, True),
        ({"amr": "hwk"}, True),
        ({"amr": ["pwd"]}, False),
        ({}, False),
        ({"acr": "urn:lotse:mfa"}, True),
        ({"acr": "1"}, False),
    ],
)
def test_provider_mfa_assertion(settings, claims, asserted) -> None:
    settings.LOTSE_OIDC_MFA_ACR = ["urn:lotse:mfa"]
    assert provider_asserts_mfa(claims) is asserted


# --- LDAP against a directory the test starts -----------------------------------


@pytest.fixture
def directory(tmp_path, settings):
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    with slapd_directory(tmp_path) as uri:
        conn = ldap.initialize(uri)
        conn.simple_bind_s(LDAP_ADMIN_DN, LDAP_ADMIN_PASSWORD)
        for uid, given, sn in (("anna", "Anna", "Test"), ("tom", "Tom", "Test")):
            conn.add_s(
                f"uid={uid},{PEOPLE}",
                [
                    ("objectClass", [b"inetOrgPerson"]),
                    ("uid", [uid.encode()]),
                    ("cn", [f"{given} {sn}".encode()]),
                    ("givenName", [given.encode()]),
                    ("sn", [sn.encode()]),
                    ("mail", [f"{uid}@kreis.test".encode()]),
                    ("userPassword", [b"directory-pw-1"]),
                ],
            )
        for dn, members in (
            (IM_NORD, [f"uid=anna,{PEOPLE}"]),
            (SUP_NORD, [f"uid=tom,{PEOPLE}"]),
            (OTHER, [f"uid=anna,{PEOPLE}", f"uid=tom,{PEOPLE}"]),
        ):
            conn.add_s(
                dn,
                [
                    ("objectClass", [b"groupOfNames"]),
                    ("cn", [dn.split(",")[0][3:].encode()]),
                    # groupOfNames needs a member even when the last person leaves.
                    ("member", [m.encode() for m in [LDAP_ADMIN_DN, *members]]),
                ],
            )
        settings.LOTSE_LDAP_ENABLED = True
        settings.AUTHENTICATION_BACKENDS = [
            "accounts.backends.LockoutBackend",
            "accounts.directory.DirectoryLDAPBackend",
            "django.contrib.auth.backends.ModelBackend",
            "accounts.backends.RolePermissionBackend",
        ]
        settings.AUTH_LDAP_SERVER_URI = uri
        settings.AUTH_LDAP_BIND_DN = LDAP_ADMIN_DN
        settings.AUTH_LDAP_BIND_PASSWORD = LDAP_ADMIN_PASSWORD
        settings.AUTH_LDAP_USER_SEARCH = LDAPSearch(PEOPLE, ldap.SCOPE_SUBTREE, "(uid=%(user)s)")
        settings.AUTH_LDAP_GROUP_SEARCH = LDAPSearch(
            GROUPS, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)"
        )
        settings.AUTH_LDAP_GROUP_TYPE = GroupOfNamesType()
        settings.AUTH_LDAP_USER_ATTR_MAP = {
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
        }
        settings.AUTH_LDAP_CACHE_TIMEOUT = 0
        yield conn
        conn.unbind_s()


def _sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_ldap_user_signs_in_lands_in_its_groups_role_and_team_and_is_refused_once_removed(
    directory, mapping, teams, client, settings
) -> None:
    import ldap

    settings.LOTSE_REQUIRE_MFA = True
    response = _sign_in(client, "anna", "directory-pw-1")
    # Signed in with the directory password; Lotse's second factor follows.
    assert response.status_code == 302
    assert client.get("/arbeitsplatz/").url.startswith("/accounts/zwei-faktor/einrichten/")
    anna = User.objects.get(username="anna")
    assert (anna.role, anna.team_id, anna.traeger_id) == (
        Role.INTEGRATION_MANAGER,
        teams["nord"].pk,
        teams["nord"].traeger_id,
    )
    assert (anna.first_name, anna.email) == ("Anna", "anna@kreis.test")
    assert not anna.has_usable_password()

    tom = authenticate(RequestFactory().post("/"), username="tom", password="directory-pw-1")
    assert (tom.role, tom.team_id) == (Role.SUPERVISOR, teams["nord"].pk)

    # A wrong password is refused by the directory.
    client.logout()
    assert _sign_in(client, "anna", "wrong").status_code == 200
    # Removed from the group in the directory: the next sign-in is refused,
    # and the local password path does not let her in either.
    directory.modify_s(IM_NORD, [(ldap.MOD_DELETE, "member", [f"uid=anna,{PEOPLE}".encode()])])
    response = _sign_in(client, "anna", "directory-pw-1")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert (
        authenticate(RequestFactory().post("/"), username="anna", password="directory-pw-1") is None
    )


def test_ldap_group_change_moves_the_user_to_the_new_role(directory, mapping, teams) -> None:
    import ldap

    request = RequestFactory().post("/")
    assert (
        authenticate(request, username="anna", password="directory-pw-1").role
        == Role.INTEGRATION_MANAGER
    )
    directory.modify_s(IM_NORD, [(ldap.MOD_DELETE, "member", [f"uid=anna,{PEOPLE}".encode()])])
    directory.modify_s(SUP_NORD, [(ldap.MOD_ADD, "member", [f"uid=anna,{PEOPLE}".encode()])])
    anna = authenticate(request, username="anna", password="directory-pw-1")
    assert (anna.role, anna.team_id) == (Role.SUPERVISOR, teams["nord"].pk)
    assert User.objects.filter(username="anna").count() == 1


def test_local_accounts_still_sign_in_beside_the_directory(
    directory, mapping, teams, client
) -> None:
    UserFactory(username="lokal", team=teams["sued"])
    assert _sign_in(client, "lokal", "pw-test-123").status_code == 302
    assert User.objects.get(username="lokal").role == Role.INTEGRATION_MANAGER


# --- OIDC against a provider served by the test ---------------------------------


class _Provider:
    """Token, userinfo and JWKS endpoints of an OpenID provider."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: dict[str, Any] = {}
        self.nonce = ""
        self.client_id = "lotse"
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # the token endpoint
                length = int(self.headers["Content-Length"])
                form = parse_qs(self.rfile.read(length).decode())
                assert form["grant_type"] == ["authorization_code"]
                assert form["code"] == ["code-1"]
                self._json(
                    {
                        "access_token": "access-1",
                        "token_type": "Bearer",
                        "id_token": provider.id_token(),
                    }
                )

            def do_GET(self) -> None:
                if self.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.server_key()))
                    self._json({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                else:  # userinfo
                    assert self.headers["Authorization"] == "Bearer access-1"
                    self._json({k: v for k, v in provider.claims.items() if k != "amr"})

            def server_key(self):  # type: ignore[no-untyped-def]
                return provider.key.public_key()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token(self) -> str:
        now = int(time.time())
        payload = {
            "iss": self.base,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
            **self.claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def provider(settings):
    provider = _Provider()
    settings.LOTSE_OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [
        "accounts.backends.LockoutBackend",
        "django.contrib.auth.backends.ModelBackend",
        "accounts.backends.RolePermissionBackend",
        "accounts.directory.DirectoryOIDCBackend",
    ]
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = "client-secret"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email profile"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = provider.base + "/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = provider.base + "/token"
    settings.OIDC_OP_USER_ENDPOINT = provider.base + "/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = provider.base + "/jwks"
    settings.LOTSE_REQUIRE_MFA = True
    yield provider
    provider.server.shutdown()


def _oidc_sign_in(client, provider: _Provider, claims: dict[str, Any]):
    provider.claims = claims
    start = client.get("/accounts/oidc/anmelden/")
    assert start.status_code == 302
    query = parse_qs(urlparse(start.url).query)
    assert start.url.startswith(provider.base + "/authorize")
    assert query["client_id"] == ["lotse"]
    provider.nonce = query["nonce"][0]
    return client.get("/accounts/oidc/rueckkehr/", {"code": "code-1", "state": query["state"][0]})


def test_oidc_sign_in_maps_the_groups_claim_and_trusts_the_providers_mfa(
    provider, mapping, teams, client
) -> None:
    login_page = client.get("/accounts/login/")
    assert "/accounts/oidc/anmelden/" in login_page.content.decode()
    assert "Mit dem Konto Ihrer Organisation anmelden" in login_page.content.decode()
    response = _oidc_sign_in(
        client,
        provider,
        {
            "sub": "1",
            "preferred_username": "clara",
            "email": "clara@kreis.test",
            "groups": [SUP_NORD, OTHER],
            "amr": ["pwd", "otp"],
        },
    )
    assert response.status_code == 302
    clara = User.objects.get(username="clara")
    assert (clara.role, clara.team_id) == (Role.SUPERVISOR, teams["nord"].pk)
    assert client.session[PROVIDER_MFA_SESSION_KEY] is True
    # The provider checked a second factor: Lotse asks for none.
    assert client.get("/arbeitsplatz/").status_code == 200


def test_oidc_sign_in_without_mfa_at_the_provider_needs_lotses_second_factor(
    provider, mapping, client
) -> None:
    response = _oidc_sign_in(
        client, provider, {"sub": "2", "preferred_username": "dora", "groups": [IM_NORD]}
    )
    assert response.status_code == 302
    assert PROVIDER_MFA_SESSION_KEY not in client.session
    assert client.get("/arbeitsplatz/").url.startswith("/accounts/zwei-faktor/einrichten/")


def test_oidc_user_in_no_mapped_group_is_refused(provider, mapping, client) -> None:
    response = _oidc_sign_in(
        client,
        provider,
        {"sub": "3", "preferred_username": "emil", "groups": [OTHER], "amr": ["otp"]},
    )
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="emil").exists()


def test_oidc_routes_are_404_while_oidc_is_off(client, settings) -> None:
    settings.LOTSE_OIDC_ENABLED = False
    assert client.get("/accounts/oidc/anmelden/").status_code == 404
    assert client.get("/accounts/oidc/rueckkehr/").status_code == 404
    assert "/accounts/oidc/" not in client.get("/accounts/login/").content.decode()
