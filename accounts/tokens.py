"""API tokens: hashed at rest, bounded in time, bound to the account.

`POST /api/v1/auth/token/` hands out a fresh random key once; the database
keeps only its SHA-256 (`ApiToken.key_digest`), so neither the admin nor a
database reader can use a stored token. A token answers 401 when

- it is older than LOTSE_API_TOKEN_HOURS,
- the account's password, activity, role, team, Träger or Kreis changed
  since it was issued (the token carries a keyed stamp of these),
- LOTSE_REQUIRE_MFA is on and the token was issued without the second
  factor (for example while a demo ran with two-factor sign-in off).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.models import ApiToken, User

KEYWORD = "Token"
# Longest key we look at; keys we issue are 43 characters.
_MAX_KEY_LENGTH = 100


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def account_stamp(user: User) -> str:
    """A keyed digest of what a token must outlive no change of."""
    message = "|".join(
        str(part)
        for part in (
            user.pk,
            user.password,
            user.is_active,
            user.role,
            user.team_id,
            user.traeger_id,
            user.kreis_id,
        )
    )
    key = hashlib.sha256(b"lotse-api-token-stamp:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def api_token_create(*, user: User, mfa_verified: bool, now: datetime) -> tuple[ApiToken, str]:
    """Issue a new token for `user`; return it and its key (shown once)."""
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_digest=key_digest(key),
        prefix=key[:8],
        created_at=now,
        expires_at=now + timedelta(hours=settings.LOTSE_API_TOKEN_HOURS),
        mfa_verified=mfa_verified,
        account_stamp=account_stamp(user),
    )
    return token, key


def api_tokens_revoke_stale(*, user: User) -> int:
    """Delete the user's tokens issued for another state of the account."""
    deleted, _rows = (
        ApiToken.objects.filter(user=user).exclude(account_stamp=account_stamp(user)).delete()
    )
    return deleted


def token_valid(token: ApiToken, *, now: datetime) -> bool:
    user = token.user
    return (
        token.expires_at > now
        and user.is_active
        and hmac.compare_digest(token.account_stamp, account_stamp(user))
        and (token.mfa_verified or not settings.LOTSE_REQUIRE_MFA)
    )


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>` against the hashed tokens."""

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2 or len(parts[1]) > _MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        token = ApiToken.objects.select_related("user").filter(key_digest=key_digest(key)).first()
        if token is None or not token_valid(token, now=timezone.now()):
            raise exceptions.AuthenticationFailed(
                _("The token is invalid or has expired. Request a new one.")
            )
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token from POST /api/v1/auth/token/, sent as "Token <key>".',
        }
