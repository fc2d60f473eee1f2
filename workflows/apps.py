from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Guided work")

    def ready(self) -> None:
        from workflows import checks, receivers  # noqa: F401 - registers
