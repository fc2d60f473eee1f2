from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # The documents' entries of the case chronology (when it is there).
        from cases.document_chronology import register_chronology
        from cases.documents import checks  # noqa: F401 - registers the font check

        register_chronology()
