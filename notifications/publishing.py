"""Publishing to the broker with a hard bound on the caller's wait.

Socket timeouts bound each broker round trip, but one publish may need
several (a new connection's handshake, the routing lookup, the push), so a
hung broker could still hold a request for seconds. `call_bounded` runs the
publish in a helper thread and waits at most LOTSE_BROKER_TIMEOUT_SECONDS;
past that the caller goes on (the outbox keeps the rows, the relay sends
them) and the thread ends with its own socket timeouts. A publish that
still lands later only delivers early: delivery is idempotent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings


class PublishTimeout(Exception):
    """The broker did not take the message in time."""


def call_bounded(publish: Callable[[], None], *, app: Any) -> None:
    """Run `publish`; raise PublishTimeout after the bound, or its error.

    With eager tasks (tests, a bare `make run` shell) nothing goes over
    the network and the task itself runs: call it here, in this thread and
    its database connection.
    """
    if app.conf.task_always_eager:
        publish()
        return
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            app.set_current()  # Celery's current app is per thread
            publish()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="lotse-publish", daemon=True).start()
    if not done.wait(settings.LOTSE_BROKER_TIMEOUT_SECONDS):
        raise PublishTimeout("the broker did not answer in time")
    if errors:
        raise errors[0]
