"""The case timeline speaks German: task titles and code labels, never
node names or raw codes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import translation

from audit.lines import event_line
from cases.models import Consent


def _event(event_type: str, reason: str, **fields: object) -> SimpleNamespace:
    values = {"transition": "", "from_state": "", "to_state": "", "data": {}, **fields}
    return SimpleNamespace(event_type=event_type, reason=reason, **values)


def test_task_events_name_the_tasks_german_title() -> None:
    with translation.override("de"):
        line = event_line(_event("workflows.task.completed", "integration_plan"))
        title = translation.gettext("Draft and agree the Integrationsplan")

    assert title != "Draft and agree the Integrationsplan"  # there is a German title
    assert line == f"Aufgabe „{title}“ erledigt."


def test_codes_are_shown_by_their_label() -> None:
    with translation.override("de"):
        consent = event_line(_event("cases.consent.recorded", "CASE_PROCESSING"))
        scope = str(Consent.Scope.CASE_PROCESSING.label)
        created = event_line(_event("cases.case.created", "HANDOVER_FSA"))
        agreed = event_line(
            _event(
                "cases.case.transition",
                "SIGNATURE",
                transition="agree_plan",
                from_state="PLANNING",
                to_state="ACTIVE",
            )
        )

    assert consent == f"Hat eine Einwilligung erfasst ({scope})."
    assert scope != "case processing"
    assert "HANDOVER_FSA" not in created
    assert "SIGNATURE" not in agreed


@pytest.mark.django_db  # an unknown code is looked up among the catalogue labels first
def test_an_unknown_code_is_shown_as_it_is() -> None:
    line = event_line(_event("cases.consultation.recorded", "SOMETHING_NEW"))

    assert "SOMETHING_NEW" in line
