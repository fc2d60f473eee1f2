"""The extension branch reads the person's clock: a person who already used
their one extension elsewhere (a caseload migration, a transfer package, an
earlier case) gets no "check whether to request an extension" task near the
end of their period, since a second extension is impossible (issue 19)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from cases import services
from cases.clock import add_months
from cases.demo import case_drive_to
from cases.models import (
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    ExtensionRequest,
    ExtensionStatus,
    PersonClockFact,
)
from cases.person_clock import person_clock, person_extension
from cases.services.migration import (
    MigratedCase,
    MigratedGoal,
    MigratedHousehold,
    MigratedPerson,
    caseload_import_write,
)
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    T0,
    ensure_catalogues,
    journey_to,
    manager_in,
    new_case,
    supervisor_of,
)
from workflows.facts import _fact_rows, all_facts
from workflows.invariants import cases_with_problems, open_work
from workflows.tasks import fire_due_timers_task

pytestmark = pytest.mark.django_db
TODAY = T0.date()
# The regular end is a month away: the extension check would be long due.
START = add_months(TODAY, -36) + timedelta(days=30)


def _migrated(extension_months: int | None) -> Case:
    ensure_catalogues()
    team = TeamFactory()
    lead, manager = supervisor_of(team), manager_in(team)
    field = CatalogueEntry.objects.filter(catalogue=Catalogue.FIELD_OF_ACTION).first()
    assert field is not None
    result = caseload_import_write(
        actor=lead,
        now=T0,
        source="bestand.csv",
        households=[
            MigratedHousehold(
                people=[
                    MigratedPerson(
                        facts={"family_name": "Haddad", "given_names": "Samira"},
                        case=MigratedCase(
                            owner=manager,
                            status=CaseStatus.ACTIVE,
                            intake_channel=Case.IntakeChannel.SELF_REFERRAL,
                            first_consultation_on=START,
                            extension_months=extension_months,
                            next_review_on=TODAY + timedelta(days=60),
                            goals=[MigratedGoal(field_of_action=field, title="Deutschkurs")],
                        ),
                        evidence="Zeile 2",
                    )
                ]
            )
        ],
    )
    case = result.cases[0][0]
    assert case is not None
    case.refresh_from_db()
    return case


def _fire_timers() -> None:
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        fire_due_timers_task()


def _fact_agrees_with_the_clock(case: Case) -> bool:
    """The gateway's fact, read both ways, is the person's clock's answer."""
    used = person_extension(case.person_id) is not None
    by_orm = _fact_rows(case.pk)["person_extension_used"].exists()
    return all_facts(case.pk)["person_extension_used"] == by_orm == used


def test_a_migrated_case_without_extension_still_gets_the_check() -> None:
    case = _migrated(None)
    assert _fact_agrees_with_the_clock(case)
    assert "extension_timer" in open_work(case)
    _fire_timers()
    assert "extension_check" in open_work(case)
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}


def test_a_migrated_case_with_the_extension_used_gets_no_extension_check() -> None:
    case = _migrated(6)
    assert _fact_agrees_with_the_clock(case)
    clock = person_clock(person=case.person_id, today=TODAY)
    assert clock.extension_used
    assert case.effective_end == clock.effective_end
    assert case.effective_end is not None
    assert case.regular_end is not None
    assert case.effective_end > case.regular_end
    assert open_work(case) == ["review_timer"]
    _fire_timers()
    assert "extension_check" not in open_work(case)
    assert "extension_timer" not in open_work(case)
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}


def test_an_extension_known_from_a_transfer_stops_the_check_of_a_new_case() -> None:
    """A package brought the start and the extension used: the new case
    starts with the person's clock at its first consultation and is offered
    no extension check."""
    case = new_case()
    services.person_clock_fact_record(
        person=case.person_id,
        actor=None,
        now=T0,
        source=PersonClockFact.Source.TRANSFER,
        evidence="Übergabepaket",
        first_consultation_on=START,
        extension_months=6,
    )
    case = case_drive_to(case=case, state=CaseStatus.PLANNING, now=T0)
    case.refresh_from_db()
    assert case.consultation_start == START
    assert case.effective_end == person_clock(person=case.person_id, today=TODAY).effective_end
    assert open_work(case) == ["integration_plan"]
    assert _fact_agrees_with_the_clock(case)
    _fire_timers()
    assert open_work(case) == ["integration_plan"]
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}


def test_an_extension_recorded_after_the_start_drops_the_extension_branch() -> None:
    case = new_case()
    services.person_clock_fact_record(
        person=case.person_id,
        actor=None,
        now=T0,
        source=PersonClockFact.Source.MIGRATION,
        evidence="Akte",
        first_consultation_on=START,
    )
    case = case_drive_to(case=case, state=CaseStatus.PLANNING, now=T0)
    assert "extension_timer" in open_work(case)
    # The extension is recorded later (proof of another Träger): the flow
    # follows the clock and drops the branch.
    services.person_clock_fact_record(
        person=case.person_id,
        actor=None,
        now=T0,
        source=PersonClockFact.Source.MIGRATION,
        evidence="Bescheid",
        extension_months=3,
    )
    assert open_work(case) == ["integration_plan"]
    _fire_timers()
    assert open_work(case) == ["integration_plan"]
    assert cases_with_problems(Case.objects.filter(pk=case.pk)) == {}


def test_verify_workflows_finds_and_repairs_a_check_left_from_before() -> None:
    """A flow started before the branch read the person's clock may still
    wait for the check: `verify_workflows` names it and `--repair` drops it."""
    case = new_case()
    services.person_clock_fact_record(
        person=case.person_id,
        actor=None,
        now=T0,
        source=PersonClockFact.Source.MIGRATION,
        evidence="Akte",
        first_consultation_on=START,
    )
    case = case_drive_to(case=case, state=CaseStatus.PLANNING, now=T0)
    assert "extension_timer" in open_work(case)
    # The fact written behind the flow's back (as old data would have it).
    PersonClockFact.objects.create(
        person_id=case.person_id,
        source=PersonClockFact.Source.MIGRATION,
        evidence="Altbestand",
        extension_months=6,
        recorded_at=T0,
    )
    problems = cases_with_problems(Case.objects.filter(pk=case.pk))
    assert "extension is used" in problems[case.pk][0]
    with pytest.raises(CommandError):
        call_command("verify_workflows", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("verify_workflows", "--repair", stdout=io.StringIO(), stderr=io.StringIO())
    assert open_work(case) == ["integration_plan"]


def test_an_extension_approved_in_an_earlier_case_of_the_person_counts() -> None:
    """The fact looks at every case of the person, not only this one."""
    earlier = journey_to(CaseStatus.REJECTED)
    later = new_case()
    Case.objects.filter(pk=later.pk).update(person_id=earlier.person_id)
    later.refresh_from_db()
    assert _fact_agrees_with_the_clock(later)
    assert all_facts(later.pk)["person_extension_used"] is False
    ExtensionRequest.objects.create(
        case=earlier,
        months=6,
        reason=CatalogueEntry.objects.filter(catalogue=Catalogue.EXTENSION_REASON).first(),
        justification="x",
        status=ExtensionStatus.APPROVED,
        requested_by=earlier.owner,
        decided_by=supervisor_of(earlier.owner.team),
        created_at=T0,
        submitted_at=T0,
        decided_at=T0,
    )
    assert all_facts(later.pk)["person_extension_used"] is True
    assert _fact_agrees_with_the_clock(later)
