"""A case accepted from a handover replays to its data: household, members
and the handover consent are written by the case services, in its chain."""

from __future__ import annotations

from datetime import date

import pytest

from audit.models import AuditEvent
from audit.selectors import case_replay
from cases import services as case_services
from cases.history import case_data_current
from cases.models import Case, Consent
from handover import services
from tests.cases.factories import T0
from tests.handover.factories import member, submitted, world

pytestmark = pytest.mark.django_db


def _assert_replays(case: Case) -> dict:
    replay = case_replay(case_id=case.pk)
    assert replay.conflicts == []
    assert replay.outside == {}
    current = case_data_current(case_id=case.pk)
    assert replay.rows == current
    return current


def test_a_case_accepted_from_a_handover_replays_to_its_data() -> None:
    w = world()
    handover = submitted(
        w,
        members=[
            member(),
            member(given_names="Sami", relation="CHILD", date_of_birth=date(2015, 6, 10)),
            member(given_names="Lina", relation="CHILD", date_of_birth=date(2017, 2, 1)),
        ],
    )

    result = services.handover_accept(handover=handover, actor=w.manager, now=T0)

    case = Case.objects.get(pk=result.case_id)
    current = _assert_replays(case)
    # The replay holds what the handover brought, not an empty shell.
    assert list(current["cases.household"]) == [str(case.household_id)]
    assert len(current["cases.householdmembership"]) == 3
    consent = Consent.objects.get(case=case, scope=Consent.Scope.HANDOVER_IN)
    assert list(current["cases.consent"]) == [str(consent.pk)]
    assert list(
        AuditEvent.objects.filter(case_id=case.pk, event_type__startswith="cases.")
        .order_by("seq")
        .values_list("event_type", flat=True)
    ) == ["cases.case.created", "cases.consent.recorded"]


def test_a_handover_accepted_for_a_colleague_replays_after_the_work_goes_on() -> None:
    w = world()
    handover = submitted(
        w,
        members=[
            member(),
            member(given_names="Sami", relation="CHILD", date_of_birth=date(2015, 6, 10)),
        ],
    )

    result = services.handover_accept(
        handover=handover, actor=w.supervisor, now=T0, assignee=w.colleague
    )
    case = Case.objects.get(pk=result.case_id)
    case_services.case_handover_accept(case=case.pk, actor=w.colleague, now=T0)
    case_services.consent_record(
        case=case.pk,
        actor=w.colleague,
        now=T0,
        scope=Consent.Scope.CASE_PROCESSING,
        form="SIGNED_PAPER",
        language="ar",
    )

    _assert_replays(case)


def test_a_single_person_handover_without_consent_has_no_household() -> None:
    w = world()
    handover = submitted(w, consent_given=False)

    result = services.handover_accept(handover=handover, actor=w.manager, now=T0)

    case = Case.objects.get(pk=result.case_id)
    current = _assert_replays(case)
    assert case.household_id is None
    assert "cases.household" not in current
    assert "cases.consent" not in current
