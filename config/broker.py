"""Broker connection options, shared by the settings and the tests."""

from __future__ import annotations


def transport_options(url: str, timeout: float) -> dict[str, object]:
    """Celery's broker_transport_options for `url`.

    A publish fails at once when the broker is down instead of retrying
    for seconds inside a request (celery#4296), and a hung broker (a
    stopped process, a black-holed network) gives up every connect and
    every socket read or write after `timeout` seconds: the outbox keeps
    the work and the relay sends it later.
    """
    options: dict[str, object] = {"max_retries": 0}
    if url.startswith(("redis://", "rediss://")):
        options |= {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    elif url.startswith(("amqp://", "amqps://", "pyamqp://")):
        options |= {"read_timeout": timeout, "write_timeout": timeout}
    return options
