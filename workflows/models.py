"""The viewflow process of a case.

A case can have several processes over time (one per phase the flow was
(re)started for), at most one of them open. The case row is the truth of
where the case is; the process holds only the open work.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class CaseProcess(Process):
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="processes",
        verbose_name=_("case"),
    )

    class Meta:
        verbose_name = _("case process")
        verbose_name_plural = _("case processes")
        # Work on tasks needs this permission in addition to the relation
        # to the case (see accounts.backends.RolePermissionBackend).
        permissions = [
            ("work_case", _("Can work on guided tasks of own cases")),
            ("decide_extension", _("Can decide extension requests of the team")),
        ]
        # A case's processes, read by the restart for every case change
        # (`workflows.facts.case_processes`), from the index alone.
        indexes = [models.Index(fields=["case", "process_ptr"], name="caseprocess_case_process")]


# Task rows name their node as `<app label>/<module>.<flow>.<node>` (viewflow's
# TaskReferenceField). Reads that filter on one node use these stored names,
# so the modules below the flow need not import it; a system check
# (workflows.E005) keeps them equal to the flow's own references.
APPROVE_EXTENSION_REF = "workflows/flows.CaseFlow.approve_extension"
EXTENSION_CHECK_REF = "workflows/flows.CaseFlow.extension_check"
