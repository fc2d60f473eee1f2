"""The shared date rules (cases.dates) and their messages at the field."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from cases.dates import CaseDates, event_date_problem, past_date_problem, target_date_problem
from cases.forms import CaseDateChecks
from workflows.forms import GoalForm, ReviewDateForm

DATES = CaseDates(
    today=date(2026, 6, 1),
    handed_over=date(2025, 3, 10),
    arrived=date(2025, 3, 20),
    period_start=date(2025, 4, 1),
    period_end=date(2028, 3, 31),
)


@pytest.fixture(autouse=True)
def _german():
    with translation.override("de"):
        yield


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 6, 1), None),
        (date(2025, 3, 20), None),
        (date(2026, 6, 2), "Das Datum liegt in der Zukunft."),
        (date(2025, 3, 9), "Das Datum liegt vor der Übergabe (10.03.2025)."),
        (
            date(2025, 3, 15),
            "Das Datum liegt vor dem Einzug in die Anschlussunterbringung (20.03.2025).",
        ),
    ],
)
def test_a_past_event_lies_between_handover_arrival_and_today(day, message) -> None:
    assert event_date_problem(day, DATES) == message


def test_a_past_event_after_the_period_end_is_refused() -> None:
    ended = CaseDates(today=date(2028, 6, 1), period_end=date(2028, 3, 31))

    assert event_date_problem(date(2028, 4, 1), ended) == (
        "Das Datum liegt nach dem Ende des Beratungszeitraums (31.03.2028)."
    )


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 6, 1), None),
        (date(2028, 3, 31), None),
        (date(2026, 5, 31), "Das Datum liegt in der Vergangenheit."),
        (date(2028, 4, 1), "Das Datum liegt nach dem Ende des Beratungszeitraums (31.03.2028)."),
    ],
)
def test_a_target_date_lies_within_the_period_and_ahead(day, message) -> None:
    assert target_date_problem(day, DATES) == message


def test_a_target_before_the_period_start_is_refused() -> None:
    early = CaseDates(today=date(2025, 1, 1), period_start=date(2025, 4, 1))

    assert target_date_problem(date(2025, 3, 1), early) == (
        "Das Datum liegt vor dem Beginn des Beratungszeitraums (01.04.2025)."
    )


def test_a_handover_date_in_the_future_is_refused() -> None:
    assert past_date_problem(date(2026, 6, 2), today=date(2026, 6, 1)) == (
        "Das Datum liegt in der Zukunft."
    )
    assert past_date_problem(date(2026, 6, 1), today=date(2026, 6, 1)) is None


def test_forms_show_the_rule_at_the_field() -> None:
    form = ReviewDateForm({"next_review_at": "2028-04-01"})
    form.dates = DATES

    assert not form.is_valid()
    assert form.errors == {
        "next_review_at": ["Das Datum liegt nach dem Ende des Beratungszeitraums (31.03.2028)."]
    }


@pytest.mark.django_db
def test_the_goal_form_checks_its_target_date() -> None:
    from tests.cases.factories import ensure_catalogues

    ensure_catalogues()
    form = GoalForm(
        {
            "field_of_action": "language",
            "title": "B1",
            "success_criterion": "Zertifikat",
            "target_date": "2026-05-01",
            "measure": "VHS",
            "responsible": "CLIENT",
        },
        day=DATES.today,
    )
    form.dates = DATES

    assert not form.is_valid()
    assert form.errors["target_date"] == ["Das Datum liegt in der Vergangenheit."]
    assert isinstance(form, CaseDateChecks)
