"""A small hand-built data set for the Kennzahlen tests (synthetic).

Rows are written directly, with dates chosen by hand, so that every
figure of the year 2025 can be worked out on paper; the expected values
are in tests/reports/test_selectors.py next to their reasons.

Kreis K1: Träger TA (team A: managers m1, m2; supervisor sa; auditor aa),
Gemeinden g1, g2, coordinating office ka. Kreis K2: Träger TB (team B:
manager m3), Gemeinde g3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import Role
from cases.models import (
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    Consultation,
    ExtensionRequest,
    Goal,
    GoalStatus,
    IntegrationPlan,
    NetworkContact,
    PlanReview,
    Referral,
    consultation_link_copies,
)
from tests.accounts.factories import GemeindeFactory, KreisFactory, TeamFactory, UserFactory
from tests.cases.factories import PersonFactory, ensure_catalogues

BERLIN = ZoneInfo("Europe/Berlin")


def at(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=BERLIN)


def entry(catalogue: str, key: str) -> CatalogueEntry:
    return CatalogueEntry.objects.get(catalogue=catalogue, key=key)


@dataclass
class World:
    k1: Any
    k2: Any
    g1: Any
    g2: Any
    g3: Any
    team_a: Any
    team_b: Any
    m1: Any
    m2: Any
    m3: Any
    sa: Any
    aa: Any
    ka: Any
    admin: Any
    gu: Any
    cases: dict[str, Case]


def build() -> World:
    ensure_catalogues()
    k1, k2 = KreisFactory(), KreisFactory()
    g1, g2 = GemeindeFactory(kreis=k1), GemeindeFactory(kreis=k1)
    g3 = GemeindeFactory(kreis=k2)
    team_a = TeamFactory(traeger__kreis=k1)
    team_b = TeamFactory(traeger__kreis=k2)
    ta, tb = team_a.traeger, team_b.traeger
    m1 = UserFactory(role=Role.INTEGRATION_MANAGER, team=team_a)
    m2 = UserFactory(role=Role.INTEGRATION_MANAGER, team=team_a)
    m3 = UserFactory(role=Role.INTEGRATION_MANAGER, team=team_b)
    sa = UserFactory(role=Role.SUPERVISOR, team=team_a)
    aa = UserFactory(role=Role.AUDITOR, team=None, traeger=ta)
    ka = UserFactory(role=Role.COORDINATOR, kreis=k1)
    admin = UserFactory(role=Role.ADMINISTRATOR, team=None, traeger=None)
    gu = UserFactory(role=Role.GU_SOCIAL_WORKER, team=None, traeger=ta)
    p1, p2, p3, p5 = (PersonFactory(traeger=ta) for _ in range(4))
    p4 = PersonFactory(traeger=tb)

    def case(person: Any, owner: Any, gemeinde: Any, status: str, **kw: Any) -> Case:
        return Case.objects.create(
            person=person,
            owner=owner,
            traeger=owner.traeger,
            gemeinde=gemeinde,
            status=status,
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
            registered_at=at(2024, 1, 2),
            **kw,
        )

    c1 = case(
        p1, m1, g1, CaseStatus.ACTIVE,
        consultation_start=date(2025, 2, 1), regular_end=date(2027, 1, 31),
        effective_end=date(2027, 1, 31), next_review_at=date(2026, 3, 1),
    )  # fmt: skip
    c2 = case(
        p2, m1, g1, CaseStatus.CLOSED,
        consultation_start=date(2024, 3, 1), regular_end=date(2026, 2, 28),
        effective_end=date(2026, 2, 28), closed_at=at(2025, 6, 30, 12),
        closure_reason=entry(Catalogue.CLOSURE_REASON, "goals_achieved"),
    )  # fmt: skip
    c3 = case(
        p3, m2, g2, CaseStatus.ACTIVE,
        consultation_start=date(2024, 11, 10), regular_end=date(2026, 5, 9),
        effective_end=date(2026, 5, 9), next_review_at=date(2025, 12, 1),
    )  # fmt: skip
    c4 = case(
        p4, m3, g3, CaseStatus.DORMANT,
        consultation_start=date(2025, 5, 1), regular_end=date(2027, 4, 30),
        effective_end=date(2027, 4, 30),
    )  # fmt: skip
    c5 = case(p5, m2, g2, CaseStatus.REJECTED, rejection_reason="NO_SHOW")

    def consultation(
        c: Case,
        day: date,
        form: str,
        topics: list[str],
        people: list[Any],
        minutes: int = 45,
        status: str = Consultation.Status.COMPLETED,
    ) -> Consultation:
        row = Consultation.objects.create(
            case=c,
            held_on=day,
            duration_minutes=minutes,
            form=entry(Catalogue.CONSULTATION_FORM, form),
            setting=entry(
                Catalogue.CONSULTATION_SETTING, "family" if len(people) > 1 else "individual"
            ),
            status=status,
            recorded_by=c.owner,
            recorded_at=at(day.year, day.month, day.day, 18),
            traeger_id=c.traeger_id,
            gemeinde_id=c.gemeinde_id,
        )
        copies = consultation_link_copies(row)
        row.topics.set(
            [entry(Catalogue.CONSULTATION_TOPIC, key) for key in topics], through_defaults=copies
        )
        row.participants.set(people, through_defaults=copies)
        return row

    # p3 takes part in a family consultation of m1's case c1 and is m2's
    # client in c3: one person for m1 and for m2, once for team A.
    consultation(c1, date(2025, 3, 1), "office", ["language", "work"], [p1, p3], 45)
    consultation(c1, date(2025, 4, 1), "outreach", ["language"], [p1], 30)
    consultation(c3, date(2025, 4, 2), "office", ["work", "housing"], [p3], 60)
    consultation(c3, date(2025, 5, 2), "office", ["work"], [p3], 45, Consultation.Status.NO_SHOW)
    consultation(c5, date(2025, 2, 10), "office", ["other"], [p5], 30, Consultation.Status.NO_SHOW)
    consultation(c2, date(2025, 1, 15), "phone", ["benefits"], [p2], 90)
    consultation(c4, date(2025, 6, 1), "accompaniment", ["housing"], [p4], 45)
    consultation(c1, date(2024, 12, 20), "office", ["language"], [p1], 45)  # the year before
    consultation(c3, date(2025, 7, 7), "office", ["work"], [p3], 45, Consultation.Status.CANCELLED)

    def plan(c: Case, version: int, status: str, agreed: datetime) -> IntegrationPlan:
        return IntegrationPlan.objects.create(
            case=c, version=version, status=status, created_at=agreed, agreed_at=agreed
        )

    def goal(p: IntegrationPlan, field: str, agreed: datetime, **kw: Any) -> Goal:
        return Goal.objects.create(
            plan=p,
            field_of_action=entry(Catalogue.FIELD_OF_ACTION, field),
            title="Ziel",
            agreed_at=agreed,
            status=kw.pop("status", GoalStatus.AGREED),
            **kw,
        )

    # c1: v1 agreed in March with two goals, reviewed in September into v2
    # (copies plus a new housing goal); the language goal achieved in October.
    v1 = plan(c1, 1, IntegrationPlan.Status.SUPERSEDED, at(2025, 3, 15))
    lang = goal(v1, "language", at(2025, 3, 15))
    work = goal(v1, "work", at(2025, 3, 15))
    v2 = plan(c1, 2, IntegrationPlan.Status.AGREED, at(2025, 9, 1))
    goal(v2, "language", at(2025, 3, 15), origin=lang, status=GoalStatus.ACHIEVED,
         closed_at=at(2025, 10, 1))  # fmt: skip
    goal(v2, "work", at(2025, 3, 15), origin=work)
    goal(v2, "housing", at(2025, 9, 1))
    PlanReview.objects.create(plan=v2, reviewed_on=date(2025, 9, 1), reviewed_by=m1)
    # c3: agreed the year before; c2: closed plan with a goal achieved in May.
    goal(plan(c3, 1, IntegrationPlan.Status.AGREED, at(2024, 12, 1)), "work", at(2024, 12, 1))
    goal(
        plan(c2, 1, IntegrationPlan.Status.CLOSED, at(2024, 5, 1)), "health", at(2024, 5, 1),
        status=GoalStatus.ACHIEVED, closed_at=at(2025, 5, 1),
    )  # fmt: skip

    def referral(c: Case, day: date, target: str, outcome: str) -> None:
        Referral.objects.create(
            case=c,
            referred_on=day,
            target_service=entry(Catalogue.REFERRAL_TARGET, target),
            mode=Referral.Mode.APPOINTMENT_ARRANGED,
            outcome=outcome,
            recorded_by=c.owner,
        )

    referral(c1, date(2025, 4, 1), "jobcenter", Referral.Outcome.TAKEN_UP)
    referral(c2, date(2025, 6, 30), "mbe", Referral.Outcome.NOT_TAKEN_UP)
    referral(c3, date(2025, 5, 1), "debt_counselling", Referral.Outcome.PENDING)
    referral(c3, date(2024, 5, 1), "jobcenter", Referral.Outcome.TAKEN_UP)  # the year before
    referral(c4, date(2025, 7, 1), "kita", Referral.Outcome.UNKNOWN)

    def contact(manager: Any, day: date, category: str, fmt: str) -> None:
        NetworkContact.objects.create(
            manager=manager,
            contact_date=day,
            category=entry(Catalogue.NETWORK_CONTACT_CATEGORY, category),
            organisation="Jobcenter",
            format=fmt,
        )

    contact(m1, date(2025, 2, 2), "external_authorities", NetworkContact.Format.MEETING)
    contact(m1, date(2025, 3, 3), "external_authorities", NetworkContact.Format.PHONE)
    contact(m2, date(2025, 4, 4), "religious_communities", NetworkContact.Format.EVENT)
    contact(m3, date(2025, 1, 1), "other_networking", NetworkContact.Format.MEETING)
    contact(m1, date(2024, 12, 31), "other_networking", NetworkContact.Format.MEETING)

    def extension(c: Case, reason: str, status: str, decided: datetime | None) -> None:
        ExtensionRequest.objects.create(
            case=c,
            reason=entry(Catalogue.EXTENSION_REASON, reason),
            justification="x",
            months=6,
            status=status,
            requested_by=c.owner,
            created_at=at(2025, 7, 1),
            submitted_at=at(2025, 7, 1),
            decided_by=sa if decided else None,
            decided_at=decided,
        )

    extension(c3, "illiteracy", "APPROVED", at(2025, 8, 1))
    extension(c1, "disability", "REJECTED", at(2025, 9, 10))
    extension(c1, "multiple_problems", "SUBMITTED", None)

    return World(
        k1=k1, k2=k2, g1=g1, g2=g2, g3=g3, team_a=team_a, team_b=team_b,
        m1=m1, m2=m2, m3=m3, sa=sa, aa=aa, ka=ka, admin=admin, gu=gu,
        cases={"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5},
    )  # fmt: skip
