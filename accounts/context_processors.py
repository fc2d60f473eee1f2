from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def security(request: HttpRequest) -> dict[str, bool]:
    """Tell every page whether two-factor sign-in is switched off (demo)."""
    return {"lotse_mfa_off": not settings.LOTSE_REQUIRE_MFA}
