from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseloadConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "caseload"
    verbose_name = _("Caseload migration")

    def ready(self) -> None:
        from caseload.models import ImportedPerson
        from cases import case_data

        # Art. 15 lists the previous tool's references of the case; they
        # hold no content and stay (a second import of them creates nothing).
        case_data.register(
            "previous_tool_references",
            ImportedPerson,
            _("References in the previous tool"),
            rows=lambda case: ImportedPerson.objects.filter(case_id=case.pk).order_by("pk"),
            anonymise=None,
        )
