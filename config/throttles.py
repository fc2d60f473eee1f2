"""API throttling (DRF): rates from settings.LOTSE_API_THROTTLE_RATES.

DRF's own classes copy the rates when they are imported; these read them
at each request, so a changed setting (or a test's override) applies at
once. Counters live in the default cache: with several web nodes that is
the shared Redis cache (CACHE_URL), or each node would count alone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import throttling


class _SettingsRate:
    scope: str | None

    def get_rate(self) -> str | None:
        return settings.LOTSE_API_THROTTLE_RATES.get(self.scope) if self.scope else None


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Per signed-in user (per client address without a sign-in)."""


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Per client address, for requests without a sign-in."""


class TokenRateThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """The token endpoint: per client address, whoever asks."""

    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
