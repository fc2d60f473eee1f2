"""Reads of case data, and the access chokepoint (DOMAIN.md §14.6).

Every view, export and service reaches cases through `cases_visible_to`:
what it does not return does not exist for the caller (404, never 403).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.selectors import deputy_principal_ids, deputy_principals
from audit.services import read_access_record
from cases.models import Case, CaseStatus
from config.errors import Forbidden, NotFound

# The relations a user can have to a case; transitions name which may act.
OWNER = "OWNER"
DEPUTY = "DEPUTY"
SUPERVISOR = "SUPERVISOR"
AUDITOR = "AUDITOR"
DPO = "DPO"
SYSTEM = "SYSTEM"


class CaseNotFound(NotFound):
    default_code = "not_found"


def case_not_found() -> CaseNotFound:
    return CaseNotFound(_("This case does not exist."))


def cases_visible_to(*, user: Any, now: datetime) -> QuerySet[Case]:
    """Return the cases `user` may see at `now`; deny by default.

    Integration managers: own cases and those of managers they deputise
    for right now. Supervisors: their team's cases (metadata views).
    Auditors and data-protection officers: their Träger's cases,
    read-only. Everyone else: none.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    cases = Case.objects.all()
    if user.role == Role.INTEGRATION_MANAGER:
        # One IN over the user and the managers they deputise for: with
        # `owner = user OR owner IN (grants)` PostgreSQL read every case
        # instead of the (owner, status) index (`make bench`, workspace).
        owners = deputy_principals(user=user, now=now).union(
            User.objects.filter(pk=user.pk).values("pk"), all=True
        )
        return cases.filter(owner_id__in=owners).exclude(status=CaseStatus.DELETED)
    if user.role == Role.SUPERVISOR and user.team_id is not None:
        return cases.filter(owner__team_id=user.team_id).exclude(status=CaseStatus.DELETED)
    if user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER) and user.traeger_id:
        return cases.filter(traeger_id=user.traeger_id)
    return Case.objects.none()


def case_is_visible_to(*, user: Any, case: Case, now: datetime) -> bool:
    """Return whether `case` is among `cases_visible_to(user)`.

    The owner's own live case is decided without a query (the hot path of
    every write); every other relation asks `cases_visible_to` itself, so
    the rules exist once.
    """
    if (
        user.role == Role.INTEGRATION_MANAGER
        and user.is_active
        and case.owner_id == user.pk
        and case.status != CaseStatus.DELETED
    ):
        return True
    return cases_visible_to(user=user, now=now).filter(pk=case.pk).exists()


def case_relations(*, user: User | None, case: Case, now: datetime) -> frozenset[str]:
    """Return how `user` stands to `case` (OWNER, DEPUTY, SUPERVISOR, ...).

    Call only with a case obtained through `cases_visible_to`.
    """
    if user is None:
        return frozenset({SYSTEM})
    relations: set[str] = set()
    if user.role == Role.INTEGRATION_MANAGER:
        if case.owner_id == user.pk:
            relations.add(OWNER)
        elif case.owner_id in deputy_principal_ids(user=user, now=now):
            relations.add(DEPUTY)
    elif user.role == Role.SUPERVISOR:
        relations.add(SUPERVISOR)
    elif user.role == Role.AUDITOR:
        relations.add(AUDITOR)
    elif user.role == Role.DATA_PROTECTION_OFFICER:
        relations.add(DPO)
    return frozenset(relations)


MAX_PK = 2**63 - 1


def parse_pk(value: Any) -> int | None:
    """Return `value` as a primary key, or None unless it is one.

    Only plain ASCII digits count: "+1", " 1", "0_1" or Arabic-Indic digits
    would otherwise all name object 1 through int().
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_PK else None


def case_get_for_user(
    *,
    user: Any,
    case_id: Any,
    now: datetime,
    view: str,
    readers: frozenset[str] | None = None,
) -> Case:
    """Return the case if `user` may see it, and log the read.

    Raises CaseNotFound when the case does not exist or is not visible: the
    caller cannot tell the two apart. With `readers`, raises Forbidden
    (before anything is logged) unless the user stands to the case in one
    of these relations.
    """
    case_pk = parse_pk(case_id)
    if case_pk is None:
        raise case_not_found()
    case = (
        cases_visible_to(user=user, now=now)
        .select_related("person", "owner", "closure_reason")
        .filter(pk=case_pk)
        .first()
    )
    if case is None:
        raise case_not_found()
    if readers is not None and not case_relations(user=user, case=case, now=now) & readers:
        raise Forbidden(_("Your role may not see the content of this case."))
    read_access_record(user=user, case_id=case.pk, view=view, now=now)
    return case


def case_list_for_user(*, user: Any, now: datetime) -> QuerySet[Case]:
    """Return the visible cases for list pages, most urgent end first."""
    return (
        cases_visible_to(user=user, now=now).select_related("owner").order_by("effective_end", "pk")
    )


def extension_requests_to_decide(*, user: Any, now: datetime) -> QuerySet[Any]:
    """Return submitted requests of the supervisor's team, oldest first,
    without the supervisor's own requests (four eyes)."""
    from cases.models import ExtensionRequest, ExtensionStatus

    if user.role != Role.SUPERVISOR:
        return ExtensionRequest.objects.none()
    return (
        ExtensionRequest.objects.filter(
            case__in=cases_visible_to(user=user, now=now), status=ExtensionStatus.SUBMITTED
        )
        .exclude(requested_by=user)
        .select_related("reason", "case")
        .order_by("submitted_at", "pk")
    )


def extension_requests_visible_to(*, user: Any, now: datetime) -> QuerySet[Any]:
    """Return the extension requests of the cases `user` may see."""
    from cases.models import ExtensionRequest

    return ExtensionRequest.objects.filter(case__in=cases_visible_to(user=user, now=now))


def network_contacts_of(*, user: Any) -> QuerySet[Any]:
    """Return the caller's own network contacts, newest first."""
    from cases.models import NetworkContact

    return NetworkContact.objects.filter(manager=user).order_by("-contact_date", "-pk")


def content_case_ids(
    *, user: Any, cases: list[Case], now: datetime, principals: list[int] | None = None
) -> set[int]:
    """Return the ids among `cases` whose content `user` may read (owner or
    current deputy), with at most one query for the whole list (none when
    the caller passes the `deputy_principal_ids` it already read)."""
    if user.role != Role.INTEGRATION_MANAGER or not user.is_active:
        return set()
    foreign_owners = {case.owner_id for case in cases if case.owner_id != user.pk}
    if principals is None:
        principals = deputy_principal_ids(user=user, now=now) if foreign_owners else []
    readable = {user.pk, *principals}
    return {
        case.pk for case in cases if case.status != CaseStatus.DELETED and case.owner_id in readable
    }
