"""Reads of caseload imports: the supervisors of the uploading team see a
run; everyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from caseload.models import CaseloadImport
from cases.selectors import parse_pk
from config.errors import NotFound


class ImportNotFound(NotFound):
    default_code = "not_found"


def caseload_imports_visible_to(*, user: Any) -> QuerySet[CaseloadImport]:
    if (
        user is None
        or not user.is_authenticated
        or not user.is_active
        or user.role != Role.SUPERVISOR
        or not user.team_id
    ):
        return CaseloadImport.objects.none()
    return CaseloadImport.objects.filter(team_id=user.team_id).defer("content")


def caseload_import_get_for_user(*, user: Any, run_id: Any) -> CaseloadImport:
    number = parse_pk(run_id)
    run = (
        None
        if number is None
        else caseload_imports_visible_to(user=user)
        .select_related("created_by")
        .filter(pk=number)
        .first()
    )
    if run is None:
        raise ImportNotFound(_("This import does not exist."))
    return run
