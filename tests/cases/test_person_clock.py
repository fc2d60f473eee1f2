"""The person's clock (issue 18, rules 1, 2, 3 and 8): one period per
person across all their cases, facts known from elsewhere, the first
consultation, extension requests and the period end, consultations after
the end. Through the services and through the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit.models import AuditEvent
from cases import services
from cases.models import CaseStatus, Person, PersonClockFact
from cases.person_clock import person_clock
from config.errors import ApplicationError
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    T0,
    manager_in,
    new_case,
    to_initial_counselling,
)

pytestmark = pytest.mark.django_db

S = CaseStatus


def events(event_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


# --- clock facts from elsewhere -------------------------------------------


def test_clock_fact_moves_the_start_earlier_and_the_open_case_follows() -> None:
    case = new_case()
    to_initial_counselling(case, now=T0)
    case.refresh_from_db()
    assert case.consultation_start == date(2026, 1, 5)

    fact = services.person_clock_fact_record(
        person=case.person,
        actor=case.owner,
        now=T0,
        source=PersonClockFact.Source.TRANSFER,
        evidence="Übergabepaket Kreis X, Az. 12/34",
        first_consultation_on=date(2024, 3, 1),
    )

    case.refresh_from_db()
    assert case.consultation_start == date(2024, 3, 1)
    assert case.regular_end == date(2027, 2, 28)
    assert case.effective_end == date(2027, 2, 28)
    assert Person.objects.get(pk=case.person_id).prior_consultation_start == date(2024, 3, 1)
    clock = person_clock(person=case.person, today=date(2026, 1, 5))
    assert (clock.start, clock.effective_end) == (date(2024, 3, 1), date(2027, 2, 28))
    assert clock.days_left == (date(2027, 2, 28) - date(2026, 1, 5)).days
    [event] = events("cases.person.clock_fact_recorded")
    assert event.case_id == case.pk
    assert event.object_id == str(fact.pk)
    assert event.data["source"] == "TRANSFER"
    assert event.data["first_consultation_on"] == "2024-03-01"
    assert "Az." not in str(event.data)


def test_clock_fact_may_not_move_the_start_later() -> None:
    case = new_case()
    to_initial_counselling(case, now=T0)
    before = AuditEvent.objects.count()

    with pytest.raises(ApplicationError) as error:
        services.person_clock_fact_record(
            person=case.person,
            actor=case.owner,
            now=T0 + timedelta(days=30),
            source="MIGRATION",
            evidence="Altakte",
            first_consultation_on=date(2026, 1, 6),
        )

    assert error.value.code == "clock_start_not_earlier"
    assert error.value.http_status == 409
    assert not PersonClockFact.objects.exists()
    assert AuditEvent.objects.count() == before


def test_clock_fact_for_a_person_without_case_goes_to_the_global_chain() -> None:
    owner = manager_in(TeamFactory())
    case = new_case(owner=owner)
    person = case.person
    fact = services.person_clock_fact_record(
        person=person,
        actor=None,
        now=T0,
        source="MIGRATION",
        evidence="Import Excel Zeile 4",
        first_consultation_on="2025-02-01",
        extension_months=6,
        extension_reason="illiteracy",
    )
    clock = person_clock(person=person, today=date(2026, 1, 5))
    assert clock.extension_months == 6
    assert clock.effective_end == date(2028, 7, 31)
    assert fact.extension_reason.key == "illiteracy"
