from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def security(request: HttpRequest) -> dict[str, bool]:
    """Tell every page whether two-factor sign-in is switched off (demo), and
    whether sign-in through the organisation's OIDC provider is offered."""
    return {
        "lotse_mfa_off": not settings.LOTSE_REQUIRE_MFA,
        "lotse_oidc_enabled": settings.LOTSE_OIDC_ENABLED,
    }
