"""Optional error reporting to Sentry (or a compatible service).

Only initialised when SENTRY_DSN is set. Nothing personal leaves Lotse: no
user, address, cookies or headers (`send_default_pii=False`), no request
body or query string (a search is a client's name), no local variables of
the failing frames (they hold case data), no breadcrumbs of log messages.
"""

from __future__ import annotations

from typing import Any

_KEEP_REQUEST_KEYS = ("method", "url")


def scrub_event(event: Any, hint: Any = None) -> Any:
    # `event` is sentry_sdk's Event, a TypedDict that is edited as a dict here.
    """Drop what could name a client from an event before it is sent."""
    request = event.get("request")
    if isinstance(request, dict):
        kept = {key: request[key] for key in _KEEP_REQUEST_KEYS if key in request}
        if "url" in kept:
            # Path only: case ids stay, the query (search terms) goes.
            kept["url"] = str(kept["url"]).split("?", 1)[0]
        event["request"] = kept
    event.pop("user", None)
    event.pop("breadcrumbs", None)
    for key in ("extra", "contexts"):
        section = event.get(key)
        if isinstance(section, dict):
            section.pop("client", None)
    return event


def init_error_reporting(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        max_breadcrumbs=0,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,
    )
