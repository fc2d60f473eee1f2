"""Two managers' edits of one person's version race (RELIABILITY.md W4):
exactly one is written, the other is refused with StaleVersion, never a
silent overwrite. A real race on PostgreSQL (one connection per thread)."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from cases import services
from cases.models import Case, Person
from cases.services import NewPerson
from tests.cases.factories import T0, ensure_catalogues
from tests.cases.test_concurrency import on_postgres_with_commits, run_concurrently
from tests.handover.factories import world


@on_postgres_with_commits
def test_two_edits_of_one_version_one_wins_the_other_is_refused() -> None:
    ensure_catalogues()
    w = world()
    intake = services.case_register(
        actor=w.manager,
        now=T0,
        owner=w.manager,
        intake_channel=Case.IntakeChannel.OUTREACH,
        people=[NewPerson(facts={"family_name": "Karimi", "given_names": "Farid"})],
    )
    person = intake.people[0]

    def edit(phone: str) -> Any:
        return lambda: services.person_update(
            person=person.pk, actor=w.manager, now=T0, version=1, phone=phone
        )

    outcomes = run_concurrently([edit("0151 1"), edit("0151 2")])
    kinds = sorted(outcome for outcome, _value, _seconds in outcomes)
    assert kinds == ["error", "ok"]
    (refused,) = [value for outcome, value, _ in outcomes if outcome == "error"]
    assert isinstance(refused, services.StaleVersion)
    (written,) = [value for outcome, value, _ in outcomes if outcome == "ok"]
    stored = Person.objects.get(pk=person.pk)
    assert (stored.phone, stored.version) == (written.phone, 2)
    assert AuditEvent.objects.filter(event_type="cases.person.updated").count() == 1
