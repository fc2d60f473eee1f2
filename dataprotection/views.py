"""Pages of the data protection officer (German first)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.types import AuthenticatedHttpRequest
from audit.services import read_accesses_record
from cases.selectors import parse_pk
from dataprotection import selectors, services


def _dpo_only(request: AuthenticatedHttpRequest) -> None:
    if request.user.role != Role.DATA_PROTECTION_OFFICER or not request.user.traeger_id:
        raise Http404


@login_required
@require_GET
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The archive of restricted cases, the erasure log and the Art. 15
    export by person number."""
    _dpo_only(request)
    now = timezone.now()
    query = request.GET.get("person", "").strip()[:200]
    persons = selectors.persons_lookup(traeger_id=request.user.traeger_id, query=query)
    shown = persons[: selectors.LOOKUP_LIMIT]
    # Names and dates of birth are case data: the lookup is logged as a read
    # of every case of the persons it shows.
    case_ids = sorted({case.pk for person in shown for case in person.cases.all()})
    if case_ids:
        read_accesses_record(
            user=request.user, case_ids=case_ids, view="dataprotection.lookup", now=now
        )
    return render(
        request,
        "dataprotection/overview.html",
        {
            "archive": selectors.archived_cases(
                traeger_id=request.user.traeger_id, now=now, limit=200
            ),
            "erasures": services.erasure_log(traeger_id=request.user.traeger_id, limit=200),
            "query": query,
            "persons": shown,
            "more_persons": len(persons) > selectors.LOOKUP_LIMIT,
        },
    )


def _export(request: AuthenticatedHttpRequest, person_pk: str) -> dict:
    _dpo_only(request)
    pk = parse_pk(person_pk)
    if pk is None:
        raise Http404
    try:
        return services.person_export(person_id=pk, actor=request.user, now=timezone.now())
    except services.PersonNotFound:
        raise Http404 from None


@login_required
@require_GET
def export_json(request: AuthenticatedHttpRequest, person_pk: str) -> HttpResponse:
    data = _export(request, person_pk)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="auskunft-person-{person_pk}.json"'
    return response


@login_required
@require_GET
def export_pdf(request: AuthenticatedHttpRequest, person_pk: str) -> HttpResponse:
    data = _export(request, person_pk)
    response = HttpResponse(services.person_export_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="auskunft-person-{person_pk}.pdf"'
    return response
