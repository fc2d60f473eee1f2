"""The chronology on the case page (issue 20): every kind in date order,
filterable, readable again (notes, needs), a registry of entry sources,
and a constant number of queries whatever its length."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import chronology, services
from cases.chronology import Entry, case_chronology
from cases.models import Case, CaseStatus, Consultation
from cases.needs import needs_history
from tests.accounts.factories import TeamFactory
from tests.cases.factories import T0, journey_to, manager_in

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(days=30)


def add_consultations(case: Case, count: int, *, notes: str = "") -> None:
    """`count` consultations through the service, one a day back from 1 Jan 2026."""
    for number in range(count):
        services.consultation_record(
            case=case,
            actor=case.owner,
            now=T0,
            held_on=date(2026, 1, 1) - timedelta(days=number),
            duration_minutes=30,
            form="phone",
            topics=["work", "housing"],
            notes=notes,
        )


def page(client: Client, case: Case, **query: Any) -> Any:
    url = reverse("cases:detail", args=[case.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.get(url)


def queries(client: Client, case: Case, **query: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = page(client, case, **query)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def owner() -> Any:
    return manager_in(TeamFactory())


@pytest.fixture
def client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def test_the_chronology_shows_every_kind_newest_first_with_notes_and_outcomes(
    owner: Any, client: Client
) -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    services.consultation_record(
        case=case,
        actor=owner,
        now=LATER,
        held_on=LATER.date() - timedelta(days=1),
        duration_minutes=50,
        form="office",
        topics=["housing"],
        notes="Wohnungssuche besprochen, Unterlagen fehlen",
    )
    referral = services.referral_record(
        case=case,
        actor=owner,
        now=LATER,
        referred_on=LATER.date(),
        target_service="jobcenter",
        mode="ACCOMPANIED",
        organisation="Jobcenter Biberach",
    )
    services.referral_update(referral=referral, actor=owner, now=LATER, outcome="TAKEN_UP")

    response = page(client, case)

    entries = response.context["chronology"].entries
    assert [e.kind for e in entries][:2] == ["referral", "consultation"]
    assert {e.kind for e in entries} == {"consultation", "assessment", "referral", "plan"}
    days = [e.day for e in entries]
    assert days == sorted(days, reverse=True)
    html = response.content.decode()
    assert "Wohnungssuche besprochen, Unterlagen fehlen" in html
    assert "Jobcenter Biberach" in html
    assert "wahrgenommen" in html
    assert 'id="chronik"' in html
    assert 'id="bedarf"' in html


def test_the_chronology_filters_by_kind(owner: Any, client: Client) -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    services.referral_record(
        case=case,
        actor=owner,
        now=LATER,
        referred_on=LATER.date(),
        target_service="mbe",
        mode="INFORMATION_ONLY",
    )

    only = page(client, case, art="referral").context["chronology"]
    two = case_chronology(case=case, only=["referral", "plan"])
    unknown = case_chronology(case=case, only=["nonsense"])

    assert [e.kind for e in only.entries] == ["referral"]
    assert only.counts["consultation"] == 1
    assert only.counts["referral"] == 1
    assert {e.kind for e in two.entries} == {"referral", "plan"}
    assert len(unknown.entries) == sum(unknown.counts.values())


def test_the_case_page_costs_the_same_queries_for_2_and_200_consultations(
    owner: Any, client: Client
) -> None:
    few = journey_to(CaseStatus.ACTIVE, owner=owner)
    many = journey_to(CaseStatus.ACTIVE, owner=owner)
    add_consultations(few, 1, notes="kurz")
    add_consultations(many, 199, notes="kurz")
    page(client, few)  # warm the session

    counts = {
        "few": queries(client, few),
        "many": queries(client, many),
        "many, referrals only": queries(client, many, art="referral"),
    }

    assert Consultation.objects.filter(case=many).count() == 200
    assert len(page(client, many).context["chronology"].entries) >= 200
    assert counts["few"] == counts["many"] == counts["many, referrals only"], counts


def test_a_registered_source_plugs_into_the_chronology(owner: Any, client: Client) -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=owner)

    def source(c: Case) -> list[Entry]:
        return [Entry(kind="extra", day=date(2030, 1, 1), obj=c)]

    chronology.register("extra", "Extra", source, template="cases/chronology/plan.html", order=99)
    try:
        result = case_chronology(case=case)
        assert result.entries[0].kind == "extra"
        assert ("extra", "Extra") in result.kinds
        assert result.entries[0].template == "cases/chronology/plan.html"
    finally:
        chronology._SOURCES.pop("extra")


def test_corrections_show_on_their_entry(owner: Any, client: Client) -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    first = Consultation.objects.get(case=case)
    services.consultation_correct(
        consultation=first,
        actor=owner,
        now=LATER,
        reason="Dauer falsch",
        duration_minutes=75,
    )

    response = page(client, case)

    [entry] = [e for e in response.context["chronology"].entries if e.kind == "consultation"]
    assert [c.reason for c in entry.corrections] == ["Dauer falsch"]
    html = response.content.decode()
    assert "Dauer falsch" in html
    assert "vorher: 45 · nachher: 75" in html


def test_the_needs_history_shows_the_change_since_the_first_assessment(owner: Any) -> None:
    case = journey_to(CaseStatus.ACTIVE, owner=owner)
    services.assessment_record(
        case=case,
        actor=owner,
        now=LATER,
        assessed_on=LATER.date(),
        items=[
            {"field_of_action": "language", "need_level": "LOW"},
            {"field_of_action": "work", "need_level": "HIGH"},
        ],
    )

    history = needs_history(case=case)

    assert len(history.assessments) == 2
    rows = {row.field.key: row for row in history.rows}
    assert (rows["language"].first, rows["language"].latest) == ("HIGH", "LOW")
    assert rows["language"].change == "improved"
    assert rows["work"].change is None  # rated once
    assert rows["work"].levels[0] is None
