"""The handover at the erasure of a case it led to (`cases.case_data`).

A handover names the whole household. At the erasure of one member's case
the member's own row loses its personal content once no other live case of
that person needs it; the handover's content (needs, notes, address, phone,
and every member row) goes once no member of it has a live case any more.
Ids, dates, codes and the GU contact (staff, not the client) stay.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from cases.models import Case, CaseStatus
from handover.models import Handover, HandoverMember

MEMBER_BLANK = {
    "family_name": "—",
    "given_names": "",
    "date_of_birth": None,
    "nationality": "",
    "languages": "",
    "authority_reference": "",
}
HANDOVER_BLANK = {
    "known_needs": "",
    "open_matters": "",
    "notes": "",
    "phone": "",
    "address": "",
    "consent_interpreter": "",
    "return_note": "",
}


def handover_anonymise(case: Case, now: datetime) -> None:
    live = Case.objects.exclude(status=CaseStatus.DELETED).exclude(pk=case.pk)
    if not live.filter(person_id=case.person_id).exists():
        HandoverMember.objects.filter(person_id=case.person_id).update(**MEMBER_BLANK)
    ids = list(
        Handover.objects.filter(Q(case_id=case.pk) | Q(members__person_id=case.person_id))
        .exclude(members__person__cases__in=live)
        .values_list("pk", flat=True)
        .distinct()
    )
    if ids:
        Handover.objects.filter(pk__in=ids).update(**HANDOVER_BLANK)
        HandoverMember.objects.filter(handover_id__in=ids).update(**MEMBER_BLANK)


def handovers_of_case(case: Case) -> list[Handover]:
    """For Art. 15: the handover the case came from."""
    return list(Handover.objects.filter(case_id=case.pk).order_by("pk"))


def handover_members_of_case(case: Case) -> list[HandoverMember]:
    """For Art. 15: the rows of that handover naming the case's person
    (the other members' rows are their data, not this person's)."""
    return list(
        HandoverMember.objects.filter(person_id=case.person_id, handover__case_id=case.pk).order_by(
            "pk"
        )
    )
