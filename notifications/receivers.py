"""Connects the case domain's change signal to the outbox.

`case_changed` is sent inside the transaction of the change, under the case
row lock: the notifications written here commit or roll back with it.
"""

from typing import Any

from django.dispatch import receiver

from cases.signals import case_changed
from notifications.services import notifications_for_case_change


@receiver(case_changed, dispatch_uid="notifications.case_change")
def _case_changed(
    sender: Any, *, case: Any, change: str, actor: Any, now: Any, **kwargs: Any
) -> None:
    notifications_for_case_change(case=case, change=change, actor=actor, now=now)
