"""The extension request: submit, four-eyes decision, withdraw."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from audit.models import AuditEvent
from audit.services import field_digest
from cases import services
from cases.models import CaseStatus, Consent, ExtensionRequest
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, give_consent, journey_to, manager_in, supervisor_of
from tests.cases.test_services import assert_refused

pytestmark = pytest.mark.django_db

S = CaseStatus


def submit(case: Any, *, actor: Any = None, now: Any = T0, **overrides: Any) -> ExtensionRequest:
    args = {"reason": "illiteracy", "months": 12, "justification": "Alphabetisierungskurs läuft"}
    args.update(overrides)
    return services.extension_request_submit(case=case, actor=actor or case.owner, now=now, **args)


def test_submit_creates_submitted_request_with_event() -> None:
    case = journey_to(S.ACTIVE)

    request = submit(case)

    assert (request.status, request.submitted_at, request.requested_by) == (
        "SUBMITTED",
        T0,
        case.owner,
    )
    event = (
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("-seq")
        .first()
    )
    assert (event.event_type, event.transition, event.from_state, event.to_state) == (
        "cases.extension_request.submitted",
        "submit",
        "DRAFT",
        "SUBMITTED",
    )


def test_approve_extends_effective_end_by_the_months() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case, months=6)
    lead = supervisor_of(case.owner.team)

    request = services.extension_request_approve(
        request=request, actor=lead, now=T0 + timedelta(days=1), note="ok"
    )

    case.refresh_from_db()
    assert request.status == "APPROVED"
    assert case.regular_end == date(2029, 1, 4)
    assert case.effective_end == date(2029, 7, 4)
    assert request.resulting_effective_end == date(2029, 7, 4)
    event = (
        AuditEvent.objects.filter(case_id=case.pk)
        .exclude(event_type__startswith="workflows.")
        .order_by("-seq")
        .first()
    )
    note_digest = field_digest(
        label="cases.extensionrequest", pk=request.pk, name="decision_note", value="ok"
    )
    assert (event.event_type, event.actor_id, event.data) == (
        "cases.extension_request.approved",
        lead.pk,
        {
            "months": 6,
            "effective_end": "2029-07-04",
            "changes": [
                {
                    "model": "cases.extensionrequest",
                    "id": request.pk,
                    "op": "update",
                    "fields": {
                        "status": {"old": "SUBMITTED", "new": "APPROVED"},
                        "decided_by_id": {"old": None, "new": lead.pk},
                        "decided_at": {"old": None, "new": "2026-01-06T08:00:00+00:00"},
                        "decision_note": {"changed": True, "digest": note_digest},
                        "resulting_effective_end": {"old": None, "new": "2029-07-04"},
                    },
                },
                {
                    "model": "cases.case",
                    "id": case.pk,
                    "op": "update",
                    "fields": {"effective_end": {"old": "2029-01-04", "new": "2029-07-04"}},
                },
            ],
        },
    )


def test_extension_never_reaches_beyond_four_years() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case, months=12)
    lead = supervisor_of(case.owner.team)

    services.extension_request_approve(request=request, actor=lead, now=T0)

    case.refresh_from_db()
    assert case.effective_end == services.latest_end_for(case.consultation_start)
    assert case.effective_end == date(2030, 1, 4)


def test_requester_cannot_approve_own_request() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case)

    error = assert_refused(
        lambda: services.extension_request_approve(request=request, actor=case.owner, now=T0),
        case,
        "self_approval",
        409,
    )
    assert isinstance(error, services.SelfApproval)


def test_supervisor_of_another_team_does_not_see_the_request() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case)
    foreign_lead = supervisor_of(TeamFactory())

    assert_refused(
        lambda: services.extension_request_approve(request=request, actor=foreign_lead, now=T0),
        case,
        "not_found",
        404,
    )


def test_deputy_manager_cannot_approve() -> None:
    from tests.accounts.factories import DeputyGrantFactory

    case = journey_to(S.ACTIVE)
    request = submit(case)
    deputy = manager_in(case.owner.team)
    DeputyGrantFactory(
        principal=case.owner,
        deputy=deputy,
        valid_from=T0 - timedelta(days=1),
        valid_until=T0 + timedelta(days=1),
    )

    assert_refused(
        lambda: services.extension_request_approve(request=request, actor=deputy, now=T0),
        case,
        "forbidden",
        403,
    )


def test_second_decision_is_already_decided() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case)
    lead = supervisor_of(case.owner.team)
    services.extension_request_reject(request=request, actor=lead, now=T0, note="Nachweis fehlt")

    assert_refused(
        lambda: services.extension_request_approve(request=request, actor=lead, now=T0),
        case,
        "already_decided",
        409,
    )


def test_reject_needs_a_note_and_keeps_the_period() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case)
    lead = supervisor_of(case.owner.team)

    assert_refused(
        lambda: services.extension_request_reject(request=request, actor=lead, now=T0, note=" "),
        case,
        "invalid",
        400,
    )
    request = services.extension_request_reject(
        request=request, actor=lead, now=T0, note="Nachweis fehlt"
    )

    case.refresh_from_db()
    assert (request.status, request.decided_by) == ("REJECTED", lead)
    assert case.effective_end == case.regular_end


def test_withdraw_by_requester() -> None:
    case = journey_to(S.ACTIVE)
    request = submit(case)

    request = services.extension_request_withdraw(request=request, actor=case.owner, now=T0)

    assert request.status == "WITHDRAWN"
    assert_refused(
        lambda: services.extension_request_withdraw(request=request, actor=case.owner, now=T0),
        case,
        "already_decided",
        409,
    )


def test_second_extension_after_approval_is_refused() -> None:
    case = journey_to(S.ACTIVE)
    lead = supervisor_of(case.owner.team)
    services.extension_request_approve(request=submit(case, months=3), actor=lead, now=T0)

    error = assert_refused(lambda: submit(case), case, "period_already_extended", 409)
    assert isinstance(error, services.PeriodAlreadyExtended)


def test_only_one_open_request_at_a_time() -> None:
    case = journey_to(S.ACTIVE)
    submit(case)

    assert_refused(lambda: submit(case), case, "request_open", 409)


@pytest.mark.parametrize("reason", ["mental_illness", "chronic_illness", "disability"])
def test_health_reasons_need_art9_consent(reason: str) -> None:
    case = journey_to(S.ACTIVE)

    assert_refused(lambda: submit(case, reason=reason), case, "art9_consent_missing", 409)

    give_consent(case, scope=Consent.Scope.SPECIAL_CATEGORIES_ART9)
    assert submit(case, reason=reason).status == "SUBMITTED"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"months": 13}, "months"),
        ({"months": 0}, "months"),
        ({"months": "viele"}, "months"),
        ({"justification": ""}, "justification"),
        ({"reason": "other_justified"}, "reason"),
        ({"reason": "boredom"}, "reason"),
    ],
    ids=[
        "13-months",
        "0-months",
        "not-a-number",
        "no-justification",
        "disabled-reason",
        "unknown-reason",
    ],
)
def test_submit_with_bad_input_is_invalid(overrides: dict[str, Any], field: str) -> None:
    case = journey_to(S.ACTIVE)

    error = assert_refused(lambda: submit(case, **overrides), case, "invalid", 400)
    assert list(error.fields) == [field]


def test_submit_after_regular_end_is_refused() -> None:
    case = journey_to(S.ACTIVE)
    end = case.regular_end + timedelta(days=1)

    assert_refused(
        lambda: submit(case, now=T0.replace(year=end.year, month=end.month, day=end.day)),
        case,
        "period_ended",
        409,
    )


def test_submit_before_the_clock_runs_is_refused() -> None:
    case = journey_to(S.REGISTERED)

    assert_refused(lambda: submit(case), case, "case_not_open", 409)
