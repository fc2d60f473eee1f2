"""`manage.py seed_synthetic`: a tiny run writes a consistent synthetic Land."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Gemeinde, Kreis, Role, Team, User
from cases.models import Case, Consultation, Goal, IntegrationPlan, Person
from reports.models import UnitKind
from reports.selectors import Period, Unit, kennzahlen_compute
from reports.synthetic import MARKER, synthetic_sizes
from tests.cases.factories import ensure_catalogues
from tests.reports.data import at

pytestmark = pytest.mark.django_db


def test_sizes_scale_and_keep_a_minimum() -> None:
    full = synthetic_sizes(1.0)
    assert (full["persons"], full["consultations"], full["plans"]) == (200_000, 1_000_000, 100_000)
    assert (full["kreise"], full["gemeinden"], full["managers"]) == (44, 1_000, 1_200)
    tiny = synthetic_sizes(0.0001)
    assert (tiny["kreise"], tiny["gemeinden"], tiny["managers"]) == (1, 2, 2)
    assert (tiny["persons"], tiny["consultations"]) == (20, 100)


def test_a_tiny_run(monkeypatch) -> None:
    ensure_catalogues()
    out = io.StringIO()
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(2026, 3, 1))
    call_command("seed_synthetic", scale=0.0001, stdout=out)
    assert "Synthetic Land 2023-2025" in out.getvalue()
    assert Kreis.objects.filter(name__startswith=MARKER).count() == 1
    assert Gemeinde.objects.count() == 2
    assert User.objects.filter(role=Role.INTEGRATION_MANAGER).count() == 2
    assert User.objects.filter(role=Role.SUPERVISOR).count() == Team.objects.count()
    assert Person.objects.count() == Case.objects.count() == 20
    assert Consultation.objects.count() == 100
    assert IntegrationPlan.objects.count() == 10
    assert Goal.objects.count() == 50
    assert not Consultation.objects.filter(topics=None).exists()
    assert not Consultation.objects.filter(participants=None).exists()
    assert not Case.objects.filter(status="CLOSED", closure_reason=None).exists()
    # The figures of the Land agree with a plain count of the rows.
    figures = kennzahlen_compute(unit=Unit(UnitKind.LAND, 0, ""), period=Period.year(2024))
    done_2024 = Consultation.objects.filter(held_on__year=2024, status="COMPLETED")
    assert figures["k2_consultations"] == done_2024.count()
    assert figures["k1_persons"] == (
        Person.objects.filter(consultations__in=done_2024).distinct().count()
    )
    # Ids continue after the seeded rows: the ORM can write again.
    Kreis.objects.create(name="Nach dem Seed", ags="07777777")


def test_scale_out_of_range_is_refused() -> None:
    with pytest.raises(CommandError):
        call_command("seed_synthetic", scale=0)
    assert not Kreis.objects.exists()
