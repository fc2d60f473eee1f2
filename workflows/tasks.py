"""Celery tasks of the workflow layer."""

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

logger = logging.getLogger(__name__)


def fire_due_timers() -> int:
    """Fire every due flow timer once; return how many fired.

    Like viewflow's `fire_due_timers`, plus one check: a timer is re-read
    under the flow lock and fires only if it is still scheduled *and still
    due*. A review date moved while this run waited for the case's lock has
    moved its timer into the future, and it must not fire now.
    """
    fired = 0
    due = Task.objects.filter(
        flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lte=timezone.now()
    ).order_by("scheduled", "pk")
    for task in due:
        try:
            with task.activation() as activation:  # flow lock, then re-read
                if task.status != STATUS.SCHEDULED or task.scheduled > timezone.now():
                    continue
                start = getattr(activation, "start", None)
                if start is None:  # the node was renamed or removed
                    logger.warning("timer task %s names a missing node, skipped", task.pk)
                    continue
                if start.can_proceed():
                    activation.start()
                    activation.execute()
                    fired += 1
        except FlowLockFailed:
            logger.info("timer task %s is locked by another run, skipped", task.pk)
        except Exception:  # one broken case must not stop the others
            logger.exception("timer task %s failed to fire", task.pk)
    return fired


@shared_task(name="workflows.tasks.fire_due_timers_task", ignore_result=True)
def fire_due_timers_task(**_kwargs: Any) -> int:
    """Fire every due flow timer (plan review, extension check).

    Run by beat every minute. Each timer fires once: a second run, or a run
    on another worker at the same time, finds it done or locked and skips
    it. While beat is down the timers wait in the database and fire on the
    first run after. Arguments of other releases are ignored (C9).
    """
    fired = fire_due_timers()
    if fired:
        logger.info("fired %s workflow timers", fired)
    return fired
