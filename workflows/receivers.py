"""Connects the case domain's change signal to the flow (see workflows.services)."""

from typing import Any

from django.dispatch import receiver

from cases.signals import case_changed
from workflows.services import case_flow_sync


@receiver(case_changed, dispatch_uid="workflows.case_flow_sync")
def _case_changed(
    sender: Any, *, case: Any, change: str, actor: Any, now: Any, **kwargs: Any
) -> None:
    case_flow_sync(case=case, change=change, actor=actor, now=now)
