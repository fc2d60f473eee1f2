from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Guided work")

    def ready(self) -> None:
        from workflows import checks  # noqa: F401 - registers
        from workflows.flows import CaseFlow

        # Building the flow's URL patterns links each node to the flow, which
        # `node.reverse()` needs before the URLconf is first loaded.
        CaseFlow.instance.urls  # noqa: B018

        # The case timeline names tasks by their German titles, not node names.
        from audit import lines

        lines.TASK_TITLES.update(
            {node.name: node.task_title for node in CaseFlow.instance.nodes() if node.task_title}
        )
