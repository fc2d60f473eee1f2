"""A family consultation is entered once and counts as the Land counts it
(README, "How a family consultation counts"): one Beratungsgespräch for
K2, each participant a person counselled for K1."""

from __future__ import annotations

from datetime import date

import pytest

from cases import services
from cases.demo import give_consent
from cases.models import Case, HouseholdMembership
from cases.services import NewPerson
from reports.models import UnitKind
from reports.selectors import Period, Unit, kennzahlen_compute
from tests.cases.factories import T0
from tests.handover.factories import world

pytestmark = pytest.mark.django_db


def test_a_family_consultation_is_one_consultation_and_each_participant_a_person() -> None:
    w = world()
    intake = services.case_register(
        actor=w.manager,
        now=T0,
        owner=w.manager,
        intake_channel=Case.IntakeChannel.SELF_REFERRAL,
        people=[
            NewPerson(facts={"family_name": "Karimi", "given_names": "Farid"}),
            NewPerson(
                facts={"family_name": "Karimi", "given_names": "Zahra"},
                relation=HouseholdMembership.Relation.SPOUSE,
                opens_case=True,
            ),
            NewPerson(
                facts={
                    "family_name": "Karimi",
                    "given_names": "Ali",
                    "date_of_birth": date(2015, 2, 2),
                },
                relation=HouseholdMembership.Relation.CHILD,
            ),
        ],
    )
    case = intake.case
    give_consent(case, now=T0)
    services.consultation_record(
        case=case,
        actor=w.manager,
        now=T0,
        held_on=T0.date(),
        duration_minutes=60,
        form="office",
        topics=["language"],
        participant_ids=[p.pk for p in intake.people],
    )
    figures = kennzahlen_compute(
        unit=Unit(UnitKind.MANAGER, w.manager.pk, ""), period=Period.year(T0.year)
    )
    assert figures["k2_consultations"] == 1
    assert figures["k2d_minutes_total"] == 60
    assert figures["k1_persons"] == 3
