"""System checks for the flows (ARCHITECTURE.md, viewflow traps).

A flow without a real lock, a human task without a permission floor or an
assignee rule, or a node that offers undo, revive or cancel routes stops
`manage.py check` (and with it the test suite and the start of the app).
"""

from typing import Any

from django.core.checks import Error, register


def _lotse_flows() -> list[Any]:
    from viewflow.workflow.base import Flow
    from viewflow.workflow.checks import _all_flow_subclasses

    return [
        flow_class
        for flow_class in _all_flow_subclasses(Flow)
        if not flow_class.__module__.startswith("viewflow.")
    ]


@register()
def check_flows(app_configs: Any, **kwargs: Any) -> list[Error]:
    from viewflow.workflow.flow.nodes import View

    from workflows.lock import CaseLock
    from workflows.nodes import SUPERVISOR

    errors = []
    for flow_class in _lotse_flows():
        name = flow_class.__name__
        if not isinstance(flow_class.lock_impl, CaseLock):
            errors.append(
                Error(
                    f"{name} has no real lock (lock_impl={flow_class.lock_impl!r}).",
                    hint="Set lock_impl = workflows.lock.case_lock.",
                    id="workflows.E001",
                )
            )
        for node in flow_class.instance.nodes():
            for route in ("undo_path", "revive_path", "cancel_path"):
                if getattr(node, route, None) is not None:
                    errors.append(
                        Error(
                            f"{name}.{node.name} offers the route {route}.",
                            hint="Corrections are case services; set the route to None.",
                            id="workflows.E002",
                        )
                    )
            if isinstance(node, View):
                if not node._owner_permission:
                    errors.append(
                        Error(
                            f"{name}.{node.name} has no permission floor.",
                            hint="Add .Permission(...).",
                            id="workflows.E003",
                        )
                    )
                if node._owner is None and getattr(node, "who", None) != SUPERVISOR:
                    errors.append(
                        Error(
                            f"{name}.{node.name} has no assignee.",
                            hint="Add .Assign(...).",
                            id="workflows.E004",
                        )
                    )
    errors.extend(_stored_refs_match())
    return errors


def _stored_refs_match() -> list[Error]:
    """The node names the reads below the flow filter on are the flow's own."""
    from viewflow.workflow.fields import get_task_ref

    from workflows.flows import CaseFlow
    from workflows.models import APPROVE_EXTENSION_REF, EXTENSION_CHECK_REF

    return [
        Error(
            f"{ref!r} is not the stored name of CaseFlow.{node.name} ({get_task_ref(node)!r}).",
            hint="Update the reference in workflows/models.py (and migrate stored rows).",
            id="workflows.E005",
        )
        for ref, node in (
            (APPROVE_EXTENSION_REF, CaseFlow.approve_extension),
            (EXTENSION_CHECK_REF, CaseFlow.extension_check),
        )
        if get_task_ref(node) != ref
    ]
