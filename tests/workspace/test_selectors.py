"""The workspace selectors: name folding, deadlines, caseload, scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.models import Case, CaseStatus
from tests.workspace.factories import NOW, TODAY, build_day, case_row
from workspace import selectors
from workspace.selectors import CaseFilters, fold_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Müller", "muller"),
        ("Mueller", "muller"),
        ("MÜLLER", "muller"),
        ("Muller", "muller"),
        ("Ördek", "ordek"),
        ("Şahin Émile", "sahin emile"),
        ("Groß", "gross"),
        ("Łukasz", "lukasz"),
        ("Ærø", "aro"),
        ("İlkay Çelik", "ilkay celik"),
        ("Nguyễn", "nguyen"),
        ("Straße", "strasse"),
    ],
)
def test_fold_text_gives_one_spelling_of_a_name(text: str, folded: str) -> None:
    assert fold_text(text) == folded


@pytest.fixture
def day_zero():
    return build_day()


def test_the_next_deadline_is_the_earlier_of_review_and_period_end(day_zero) -> None:
    manager = day_zero.manager
    review_first = case_row(manager, review=TODAY + timedelta(days=5), end=TODAY + timedelta(9))
    end_first = case_row(manager, review=TODAY + timedelta(days=9), end=TODAY + timedelta(5))
    dormant = case_row(
        manager, status=CaseStatus.DORMANT, review=TODAY + timedelta(1), end=TODAY + timedelta(7)
    )
    closing = case_row(manager, status=CaseStatus.CLOSING, end=TODAY + timedelta(3))
    nothing = case_row(manager, status=CaseStatus.REGISTERED)

    deadlines = dict(
        Case.objects.filter(pk__in=[c.pk for c in (review_first, end_first, dormant, closing)])
        .annotate(deadline=selectors.next_deadline())
        .values_list("pk", "deadline")
    ) | dict(
        Case.objects.filter(pk=nothing.pk)
        .annotate(deadline=selectors.next_deadline())
        .values_list("pk", "deadline")
    )

    assert deadlines == {
        review_first.pk: TODAY + timedelta(5),
        end_first.pk: TODAY + timedelta(5),
        dormant.pk: TODAY + timedelta(7),  # no review while paused
        closing.pk: None,  # the period no longer runs
        nothing.pk: None,
    }


def test_a_deputy_loses_the_cases_when_the_grant_ends(day_zero) -> None:
    day = day_zero
    during = selectors.manager_case_page(
        user=day.manager, now=NOW, filters=CaseFilters(q="Sami"), page=1
    )
    after = selectors.manager_case_page(
        user=day.manager, now=NOW + timedelta(days=14), filters=CaseFilters(q="Sami"), page=1
    )

    assert [c.pk for c in during.rows] == [day.deputised.pk]
    assert during.content_ids == {day.deputised.pk}
    assert (after.rows, after.total) == ([], 0)


def test_no_list_or_count_of_a_manager_shows_another_managers_case(day_zero) -> None:
    day = day_zero
    everything = selectors.manager_case_page(
        user=day.manager, now=NOW, filters=CaseFilters(status=selectors.STATUS_ALL), page=1
    )
    by_number = selectors.manager_case_page(
        user=day.manager, now=NOW, filters=CaseFilters(q=str(day.hidden.pk)), page=1
    )
    today = selectors.manager_day(user=day.manager, now=NOW)

    assert {day.hidden.pk, day.foreign.pk} & {c.pk for c in everything.rows} == set()
    assert everything.total == 6
    assert by_number.total == 0
    assert today.counts == {
        "open": 5,
        "reviews_due": 2,
        "reviews_overdue": 1,
        "ending_30": 1,
        "ending_90": 1,
    }


def test_the_caseload_counts_only_the_supervisors_own_team(day_zero) -> None:
    day = day_zero
    case_row(day.foreign_manager, review=TODAY - timedelta(days=3), end=TODAY + timedelta(40))

    caseload = selectors.team_caseload(user=day.supervisor, now=NOW)

    assert [(m.username, m.open_cases, m.reviews_overdue) for m in caseload] == [
        (day.other_colleague.username, 1, 0),
        (day.colleague.username, 1, 0),
        (day.manager.username, 4, 1),
    ]
    assert selectors.team_caseload(user=day.manager, now=NOW) == []


def test_a_supervisors_own_request_is_not_waiting_for_them(day_zero) -> None:
    from tests.workspace.factories import waiting_extension

    day = day_zero
    waiting_extension(day.due, by=day.supervisor)

    caseload = {
        m.pk: m.approvals_waiting for m in selectors.team_caseload(user=day.supervisor, now=NOW)
    }
    view = selectors.team_view(user=day.supervisor, now=NOW)

    assert caseload[day.manager.pk] == 1  # the manager's own request on `later`
    assert [r.case_id for r in view.approvals] == [day.later.pk]
