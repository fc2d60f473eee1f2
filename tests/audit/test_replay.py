"""Replaying a case's audit events reproduces its data (RELIABILITY.md A1).

Seeded random histories drive cases through the real services (edits,
transitions, system deadlines, refused steps); afterwards the rows rebuilt
from the case's chain equal the rows in the database, field by field:
codes, ids, dates and flags by value, client text by its keyed digest.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.models import DeputyGrant
from accounts.services import DEPUTY_GRANT_FIELDS
from audit.models import AuditEvent
from audit.selectors import case_replay, chain_replay
from audit.services import DIGEST, VALUE
from cases import demo, services
from cases.history import CASE_DATA_FIELDS, NOT_CASE_DATA, case_data_current
from cases.models import Case, CaseStatus, Consent, Goal, GoalStatus, Referral
from config.errors import ApplicationError
from tests.accounts.factories import TeamFactory
from tests.cases.factories import AGREEMENT, ELIGIBLE, T0, manager_in, new_case, supervisor_of

pytestmark = pytest.mark.django_db

HISTORIES = int(__import__("os").environ.get("H", 300))
STEPS = 16
TEXTS = ["Deutschkurs", "Arzttermin Kardiologie", "Wohnung gesucht", "", "Ärger mit Vermieter"]
TOPICS = ["language", "work", "health", "housing", "debt"]
FIELDS = ["language", "work", "health", "housing"]
REACHED = {
    f"cases.{name}"
    for name in (
        "assessment.recorded",
        "case.agree_plan",
        "case.close",
        "case.created",
        "case.decline_plan",
        "case.draft_plan",
        "case.handover_accepted",
        "case.pause",
        "case.record_first_consultation",
        "case.reject_ineligible",
        "case.reopen",
        "case.resume",
        "case.retention_elapsed",
        "case.review_date_changed",
        "case.review_plan",
        "case.start_closing",
        "case.withdraw_consent",
        "consent.recorded",
        "consent.withdrawn",
        "consultation.recorded",
        "extension_request.approved",
        "extension_request.rejected",
        "extension_request.submitted",
        "extension_request.withdrawn",
        "goal.added",
        "goal.updated",
        "measure.added",
        "referral.recorded",
        "referral.updated",
    )
}


def test_every_field_of_every_case_data_model_is_classified() -> None:
    models = set(apps.get_app_config("cases").get_models())
    assert models == set(CASE_DATA_FIELDS) | set(NOT_CASE_DATA)
    assert set(CASE_DATA_FIELDS).isdisjoint(NOT_CASE_DATA)
    tables = {**CASE_DATA_FIELDS, DeputyGrant: DEPUTY_GRANT_FIELDS}
    for model, classes in tables.items():
        fields = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
        fields |= {f.name for f in model._meta.many_to_many}
        assert set(classes) == fields, model.__name__
        assert set(classes.values()) <= {VALUE, DIGEST}, model.__name__


class History:
    """One case and the random steps taken on it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = T0
        team = TeamFactory()
        self.owner = manager_in(team)
        self.lead = supervisor_of(team)
        self.case = new_case(owner=self.owner, now=self.now)

    @property
    def pk(self) -> int:
        return self.case.pk

    def text(self) -> str:
        return self.rng.choice(TEXTS)

    def today(self) -> Any:
        return timezone.localdate(self.now)

    def pick(self, queryset: Any) -> Any:
        rows = list(queryset.order_by("pk"))
        if not rows:
            raise LookupError
        return self.rng.choice(rows)

    # --- the steps ---------------------------------------------------------

    def consent(self) -> None:
        services.consent_record(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            scope=self.rng.choice(
                [Consent.Scope.CASE_PROCESSING] * 3 + [Consent.Scope.SPECIAL_CATEGORIES_ART9]
            ),
            form=Consent.Form.SIGNED_PAPER,
            language=self.rng.choice(["ar", "ti", "uk"]),
            interpreter=self.text(),
            recipient=self.text(),
        )

    def consent_withdraw(self) -> None:
        consent = self.pick(Consent.objects.filter(case_id=self.pk, withdrawn_at__isnull=True))
        services.consent_withdraw(consent=consent, actor=self.owner, now=self.now, channel="PHONE")

    def consult(self) -> None:
        services.consultation_record(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            held_on=self.today(),
            duration_minutes=self.rng.randint(10, 120),
            form=self.rng.choice(["office", "phone"]),
            topics=self.rng.sample(TOPICS, self.rng.randint(1, 3)),
            notes=self.text(),
            interpreter=self.text(),
        )

    def first_consultation(self) -> None:
        consultation = self.pick(Case.objects.get(pk=self.pk).consultations.all())
        self.transition("record_first_consultation", consultation_id=consultation.pk, **ELIGIBLE)

    def assessment(self) -> None:
        services.assessment_record(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            assessed_on=self.today(),
            items=[
                {
                    "field_of_action": key,
                    "need_level": self.rng.choice(["LOW", "HIGH"]),
                    "situation": self.text(),
                    "client_wishes": self.text(),
                }
                for key in self.rng.sample(FIELDS, 2)
            ],
            interpreter_language=self.text(),
        )

    def goal_add(self) -> None:
        services.goal_add(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            field_of_action=self.rng.choice(FIELDS),
            title=self.text() or "Ziel",
            success_criterion=self.text() or "Kriterium",
            target_date=self.today() + timedelta(days=self.rng.randint(30, 400)),
        )

    def goal_update(self) -> None:
        goal = self.pick(Goal.objects.filter(plan__case_id=self.pk))
        services.goal_update(
            goal=goal,
            actor=self.owner,
            now=self.now,
            status=self.rng.choice([GoalStatus.IN_PROGRESS, GoalStatus.ACHIEVED, None]),
            outcome_note=self.rng.choice([None, self.text()]),
        )

    def measure_add(self) -> None:
        goal = self.pick(Goal.objects.filter(plan__case_id=self.pk))
        services.measure_add(
            goal=goal,
            actor=self.owner,
            now=self.now,
            description=self.text() or "Schritt",
            responsible="CLIENT",
        )

    def referral(self) -> None:
        services.referral_record(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            referred_on=self.today(),
            target_service=self.rng.choice(["jobcenter", "debt_counselling"]),
            mode="APPOINTMENT_ARRANGED",
            is_final=self.rng.random() < 0.5,
            organisation=self.text(),
            outcome=self.rng.choice(["PENDING", "TAKEN_UP"]),
        )

    def referral_update(self) -> None:
        referral = self.pick(Referral.objects.filter(case_id=self.pk))
        services.referral_update(
            referral=referral,
            actor=self.owner,
            now=self.now,
            outcome=self.rng.choice(["TAKEN_UP", "NOT_TAKEN_UP"]),
            is_final=self.rng.choice([None, True]),
        )

    def extension(self) -> None:
        services.extension_request_submit(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            reason=self.rng.choice(["illiteracy", "mental_illness", "multiple_problems"]),
            months=self.rng.randint(1, 12),
            justification=self.text() or "Begründung",
        )

    def extension_decide(self) -> None:
        request = self.pick(Case.objects.get(pk=self.pk).extension_requests.all())
        action = self.rng.choice(["approve", "reject", "withdraw"])
        if action == "approve":
            services.extension_request_approve(request=request, actor=self.lead, now=self.now)
        elif action == "reject":
            services.extension_request_reject(
                request=request, actor=self.lead, now=self.now, note=self.text() or "nein"
            )
        else:
            services.extension_request_withdraw(request=request, actor=self.owner, now=self.now)

    def handover_accept(self) -> None:
        services.case_handover_accept(case=self.pk, actor=self.owner, now=self.now)

    def review_date(self) -> None:
        services.case_review_date_set(
            case=self.pk,
            actor=self.owner,
            now=self.now,
            next_review_at=self.today() + timedelta(days=self.rng.randint(1, 200)),
        )

    def transition(self, name: str, actor: Any = "owner", **args: Any) -> None:
        who = {"owner": self.owner, "lead": self.lead, None: None}[actor]
        services.case_transition(case=self.pk, name=name, actor=who, now=self.now, **args)

    def some_transition(self) -> None:
        name, actor, args = self.rng.choice(
            [
                ("draft_plan", "owner", {}),
                ("agree_plan", "owner", {**AGREEMENT, "interpreter": self.text()}),
                ("decline_plan", "owner", {"reason": self.text() or "keine Zeit"}),
                (
                    "review_plan",
                    "owner",
                    {
                        "notes": self.text(),
                        "participants": self.text(),
                        "goal_updates": [
                            {"goal_id": g, "status": "ACHIEVED"}
                            for g in Goal.objects.filter(
                                plan__case_id=self.pk, plan__status="AGREED"
                            ).values_list("pk", flat=True)[:1]
                        ],
                    },
                ),
                ("pause", "owner", {"reason": "CLIENT_REQUEST"}),
                ("resume", "owner", {}),
                ("start_closing", "owner", {"ground": "CLIENT_REQUEST"}),
                ("close", "owner", {"closure_reason": "client_ended", "no_further_need": True}),
                ("reopen", "owner", {"reason": "NEW_NEED"}),
                ("withdraw_consent", "owner", {"channel": "MESSENGER"}),
                ("reject_ineligible", "lead", {"reason": "NOT_TARGET_GROUP"}),
                ("period_expired", None, {}),
                ("no_show_timeout", None, {}),
                ("no_contact_timeout", None, {}),
                ("retention_elapsed", None, {}),
            ]
        )
        self.transition(name, actor, **args)

    def advance(self) -> None:
        """Take the case one step along its usual path (random steps alone
        rarely get a plan agreed)."""
        case = Case.objects.get(pk=self.pk)
        status = case.status
        if status == CaseStatus.REGISTERED:
            demo.to_initial_counselling(case, self.now)
        elif status == CaseStatus.INITIAL_COUNSELLING:
            demo.to_planning(case, self.now)
        elif status == CaseStatus.PLANNING:
            demo.to_active(case, self.now)
        elif status == CaseStatus.ACTIVE:
            choice = self.rng.choice(["closing", "pause", "review", "extension"])
            if choice == "closing" and not case.plans.filter(status="AGREED").exists():
                choice = "pause"  # a declined plan leaves nothing to finish first
            if choice == "closing":
                demo.to_closing(case, self.now)
            elif choice == "pause":
                self.transition("pause", reason="HOSPITAL_STAY")
            elif choice == "review":
                self.some_review()
            else:
                self.extension()
                self.extension_decide()
        elif status == CaseStatus.DORMANT:
            self.now += timedelta(days=1)
            self.consult()
            self.transition("resume")
        elif status == CaseStatus.CLOSING:
            demo.to_closed(case, self.now)
        elif status == CaseStatus.CLOSED and self.rng.random() < 0.5:
            self.now += timedelta(days=1)
            self.consent()
            self.consult()
            self.transition("reopen", reason="NEW_NEED")
        elif status in (CaseStatus.CLOSED, CaseStatus.REJECTED):
            self.now += timedelta(days=365 * 4)
            self.transition("retention_elapsed", None)

    def some_review(self) -> None:
        goals = Goal.objects.filter(plan__case_id=self.pk, plan__status="AGREED")
        self.transition(
            "review_plan",
            notes=self.text(),
            participants=self.text(),
            goal_updates=[
                {"goal_id": goal, "status": self.rng.choice(["ACHIEVED", "IN_PROGRESS"])}
                for goal in goals.values_list("pk", flat=True)
            ],
        )

    def wait(self) -> None:
        days = self.rng.choice([0, 1, 7, 40, 200, 1200])
        self.now += timedelta(days=days, minutes=self.rng.randint(1, 600))

    def step(self) -> None:
        steps: list[tuple[Callable[[], None], int]] = [
            (self.consent, 3),
            (self.consent_withdraw, 1),
            (self.consult, 4),
            (self.first_consultation, 3),
            (self.assessment, 2),
            (self.goal_add, 3),
            (self.goal_update, 2),
            (self.measure_add, 2),
            (self.referral, 2),
            (self.referral_update, 1),
            (self.extension, 1),
            (self.extension_decide, 1),
            (self.handover_accept, 1),
            (self.review_date, 1),
            (self.some_transition, 6),
            (self.wait, 2),
            (self.advance, 12),
        ]
        action = self.rng.choices([s for s, _ in steps], weights=[w for _, w in steps])[0]
        # A refused step writes nothing, so there is nothing to replay.
        with contextlib.suppress(ApplicationError, LookupError):
            action()


def _assert_replay_matches(case_id: int) -> None:
    replay = case_replay(case_id=case_id)
    assert replay.conflicts == []
    assert replay.outside == {}
    assert replay.rows == case_data_current(case_id=case_id)


def test_replay_of_random_histories_reproduces_each_case() -> None:
    rng = random.Random(20261130)
    case_ids = []
    for _ in range(HISTORIES):
        history = History(random.Random(rng.getrandbits(64)))
        for _ in range(STEPS):
            history.step()
        _assert_replay_matches(history.pk)
        case_ids.append(history.pk)
    # The histories reach every kind of change the services make.
    reached = set(
        AuditEvent.objects.filter(case_id__in=case_ids).values_list("event_type", flat=True)
    )
    assert reached >= REACHED


def test_replay_notices_a_change_the_trail_does_not_know() -> None:
    history = History(random.Random(1))
    for _ in range(STEPS):
        history.step()
    Case.objects.filter(pk=history.pk).update(legal_hold=True)  # behind the services' back

    replay = case_replay(case_id=history.pk)

    assert replay.rows != case_data_current(case_id=history.pk)
    assert replay.rows["cases.case"][str(history.pk)]["legal_hold"] is False


def test_client_text_is_never_in_the_event_only_its_digest() -> None:
    history = History(random.Random(2))
    services.consent_record(
        case=history.pk,
        actor=history.owner,
        now=history.now,
        scope=Consent.Scope.CASE_PROCESSING,
        form=Consent.Form.SIGNED_PAPER,
        language="ar",
    )
    consultation = services.consultation_record(
        case=history.pk,
        actor=history.owner,
        now=history.now,
        held_on=history.today(),
        duration_minutes=30,
        form="office",
        topics=["health"],
        notes="Kanarienvogel-Diagnose Z99",
    )

    event = AuditEvent.objects.filter(chain_key=f"case:{history.pk}").order_by("-seq").first()
    assert "Kanarienvogel" not in str(event.data)
    change = event.data["changes"][0]
    assert (change["model"], change["id"], change["op"]) == (
        "cases.consultation",
        consultation.pk,
        "create",
    )
    assert change["fields"]["notes"]["changed"] is True
    assert change["fields"]["duration_minutes"] == {"new": 30}
    assert chain_replay(chain_key=f"case:{history.pk}").rows == case_data_current(
        case_id=history.pk
    )
