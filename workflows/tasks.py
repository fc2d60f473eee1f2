"""Celery tasks of the workflow layer."""

import logging

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

logger = logging.getLogger(__name__)


@shared_task(name="workflows.tasks.fire_due_timers_task", ignore_result=True)
def fire_due_timers_task() -> int:
    """Fire every due flow timer (plan review, extension check).

    Run by beat every minute. Each timer is re-read under the flow lock and
    fires once: a second run, or a run on another worker at the same time,
    finds it done or locked and skips it. While beat is down the timers
    wait in the database and fire on the first run after.
    """
    fired = fire_due_timers()
    if fired:
        logger.info("fired %s workflow timers", fired)
    return fired
