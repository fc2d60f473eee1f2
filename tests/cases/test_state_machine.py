"""W5: invariants of the case lifecycle hold under random command sequences.

A Hypothesis `RuleBasedStateMachine` drives one fresh case per example
through the real services: consents, consultations, the assessment, goals
and measures, referrals, every transition by name (with plausible and with
wrong arguments, by the right and by the wrong people), the system
transitions and the extension requests, while a clock only moves forward.

Every call either succeeds or raises an `ApplicationError`; any other
exception fails the test. After every step the invariants of DOMAIN.md
§14.1 and RELIABILITY.md W5 are checked: final states stay final, a closed
case is left only by `reopen` (within the period) or `retention_elapsed`,
four eyes on extensions, the period never exceeds four years, exactly one
audit event per successful command and none (and no change at all) for a
refused one, and the case's audit chain verifies.

The clock belongs to the person (issue 18): a closed or rejected case's
person may come back with a new case (the machine follows the new one),
facts about the person's period known from elsewhere are recorded, and
extension requests race the period-end sweep (submitted on the last day,
the sweep in the night after, the decision later). For every person,
across all their cases: effective end <= first start + 3 years + at most
one extension of at most 12 months, and the sweep waits for a request
submitted in time.

Each example runs inside a savepoint that is rolled back in `teardown()`,
so every example starts from the same database. The profile
(tests/hypothesis_profiles.py) bounds the run in `make test` and lengthens
it in `make test-deep`; derandomized with `database=None`, every run walks
the same sequences and keeps `.hypothesis/` clean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count, Subquery
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import User
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from cases import services
from cases.clock import start_of_day
from cases.models import (
    Case,
    CaseStatus,
    CatalogueEntry,
    Consent,
    Consultation,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    GoalStatus,
    IntegrationPlan,
    Person,
    PersonClockFact,
    Referral,
)
from cases.selectors import CaseNotFound
from cases.services import (
    AlreadyDecided,
    GuardFailed,
    InvalidArguments,
    SelfApproval,
    TransitionForbidden,
    TransitionNotAvailable,
    UnknownTransition,
    extended_end_for,
    latest_end_for,
    regular_end_for,
)
from config.errors import ApplicationError, NotFound
from tests.accounts.factories import TeamFactory
from tests.cases.factories import (
    BERLIN,
    T0,
    PersonFactory,
    ensure_catalogues,
    manager_in,
    supervisor_of,
)
from tests.hypothesis_profiles import BUDGET, PROFILE

S = CaseStatus
OPEN = frozenset({S.REGISTERED, S.INITIAL_COUNSELLING, S.PLANNING, S.ACTIVE, S.DORMANT, S.CLOSING})
RUNNING = frozenset({S.INITIAL_COUNSELLING, S.PLANNING, S.ACTIVE, S.DORMANT})

# Who acts: the owner (IM), the team's supervisor (LEAD), another manager of
# the same team (neither owner nor deputy: the case does not exist for
# them), or the system (None).
OWNER, SUPERVISOR, OTHER, SYSTEM = "owner", "supervisor", "other", None

# DOMAIN.md §14.1, written out independently of the code:
# name -> (source states, target state, who may fire it).
TABLE: dict[str, tuple[frozenset[str], str, frozenset[str | None]]] = {
    "record_first_consultation": (
        frozenset({S.REGISTERED}),
        S.INITIAL_COUNSELLING,
        frozenset({OWNER}),
    ),
    "reject_ineligible": (frozenset({S.REGISTERED}), S.REJECTED, frozenset({OWNER, SUPERVISOR})),
    "no_show_timeout": (frozenset({S.REGISTERED}), S.REJECTED, frozenset({SYSTEM})),
    "draft_plan": (frozenset({S.INITIAL_COUNSELLING}), S.PLANNING, frozenset({OWNER})),
    "agree_plan": (frozenset({S.PLANNING}), S.ACTIVE, frozenset({OWNER})),
    "decline_plan": (frozenset({S.PLANNING}), S.ACTIVE, frozenset({OWNER})),
    "review_plan": (frozenset({S.ACTIVE}), S.ACTIVE, frozenset({OWNER})),
    "pause": (frozenset({S.ACTIVE}), S.DORMANT, frozenset({OWNER})),
    "resume": (frozenset({S.DORMANT}), S.ACTIVE, frozenset({OWNER})),
    "start_closing": (frozenset({S.ACTIVE, S.DORMANT}), S.CLOSING, frozenset({OWNER})),
    "period_expired": (RUNNING, S.CLOSING, frozenset({SYSTEM})),
    "no_contact_timeout": (frozenset({S.DORMANT}), S.CLOSING, frozenset({SYSTEM})),
    "close": (frozenset({S.CLOSING}), S.CLOSED, frozenset({OWNER, SUPERVISOR})),
    "withdraw_consent": (OPEN, S.CLOSED, frozenset({OWNER})),
    "reopen": (frozenset({S.CLOSED}), S.ACTIVE, frozenset({OWNER, SUPERVISOR})),
    "retention_elapsed": (frozenset({S.CLOSED, S.REJECTED}), S.DELETED, frozenset({SYSTEM})),
}
SYSTEM_NAMES = tuple(name for name, (_, _, who) in TABLE.items() if who == {SYSTEM})
USER_NAMES = tuple(name for name in TABLE if name not in SYSTEM_NAMES)
CASE_FIELDS = tuple(f.attname for f in Case._meta.concrete_fields)
CLOCK_FIELDS = ("consultation_start", "regular_end", "effective_end")
# The only calls that may move the period: T2 starts it, an approval extends it,
# a fact known from elsewhere moves the person's start earlier.
CLOCK_WRITERS = (
    "transition:record_first_consultation",
    "extension_request_approve",
    "person_clock_fact_record",
)

BOGUS = "bogus-value"
# Wrong argument values: unknown, missing, empty, of the wrong type, malformed.
WRONG_VALUES = (BOGUS, None, "", 10**9, -1, 2.5, ["x"], {"x": 1}, "2026-13-45")
GOAL_TITLE = "Deutschkurs B1 abschließen"
GOAL_CRITERION = "B1-Zertifikat liegt vor"


@dataclass(frozen=True)
class Expect:
    """What a call may do: succeed (if `ok`) or raise one of `errors`."""

    ok: bool = True
    errors: tuple[type[ApplicationError], ...] = (ApplicationError,)


ANYTHING = Expect()


def refused(*errors: type[ApplicationError]) -> Expect:
    return Expect(ok=False, errors=errors)


@dataclass
class Call:
    """One service call and the database before and after it."""

    label: str
    transition: str | None
    now: datetime
    expect: Expect
    before: dict[str, Any]
    events_before: int
    after: dict[str, Any] = field(default_factory=dict)
    events_after: int = 0
    last_event: dict[str, Any] | None = None
    error: ApplicationError | None = None
    # period_expired: whether a request submitted by the end waited for
    # its decision when the sweep came.
    timely_request_pending: bool = False
    # a transition fired by the system (the sweeps), not by a person
    by_system: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def describe(self) -> str:
        outcome = f"refused with {self.error!r}" if self.error else "succeeded"
        return (
            f"{self.label} at {self.now:%Y-%m-%d %H:%M %Z} "
            f"({self.before['status']} -> {self.after.get('status')}) {outcome}"
        )


def transition_expectation(
    name: str, who: str | None, status: str, *, archived: bool = False
) -> Expect:
    """What the contract of `case_transition` prescribes, in its order:
    not visible (404: another manager, or a deleted or restricted case),
    unknown name (404), wrong role (403), not from this state (409); past
    those, a guard (409), bad arguments (400) or success."""
    if who == OTHER or (who is not None and archived):
        return refused(CaseNotFound)
    if name not in TABLE:
        return refused(UnknownTransition)
    sources, _target, allowed = TABLE[name]
    if who not in allowed:
        return refused(TransitionForbidden)
    if status not in sources:
        return refused(TransitionNotAvailable)
    return Expect(ok=True, errors=(GuardFailed, InvalidArguments))


def content_expectation(
    who: str | None, status: str, *, needs_open: bool, archived: bool = False
) -> Expect:
    """Content writes (owner or deputy): 404 (another manager, a deleted or
    restricted case), then 403, then not open (409)."""
    if who == OTHER or archived:
        return refused(CaseNotFound)
    if who != OWNER:
        return refused(TransitionForbidden)
    if needs_open and status not in OPEN:
        return refused(GuardFailed)
    return ANYTHING


class CaseLifecycle(RuleBasedStateMachine):
    """One case, commands at random, the clock moving forward."""

    # Set by the test function: users are made once and outlive the examples.
    users: ClassVar[dict[str | None, User | None]] = {}
    # What the run reached, over all examples (checked by the test).
    reached: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        # Everything an example writes is rolled back in teardown().
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.case_pk: int | None = None
        self.now = T0
        self.row: dict[str, Any] = {}  # the case row after the last call
        self.events = 0  # the case's audit events after the last call
        self.calls: list[Call] = []  # the calls of the current step
        self.seen: set[str] = set()
        self.earlier_cases: list[int] = []  # the person's cases before this one

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- bookkeeping --------------------------------------------------------

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def archived(self) -> bool:
        """Whether the case is gone for its manager and supervisor now:
        deleted, rejected, or closed and no longer reopenable (T15: after
        the period's last day, or closed because the person died)."""
        if self.status in (S.DELETED, S.REJECTED):
            return True
        if self.status != S.CLOSED:
            return False
        end = self.row["effective_end"]
        deceased = CatalogueEntry.objects.get(catalogue="CLOSURE_REASON", key="deceased").pk
        return end is None or self.today > end or self.row["closure_reason_id"] == deceased

    def _begin(self) -> None:
        self.calls = []

    def _refresh(self) -> None:
        """Read the case row and its number of audit events (one query)."""
        events = (
            AuditEvent.objects.filter(chain_key=f"case:{self.case_pk}")
            .exclude(event_type__startswith="workflows.")
            .order_by()
            .values("chain_key")
            .annotate(n=Count("pk"))
            .values("n")
        )
        row = Case.objects.filter(pk=self.case_pk).values(*CASE_FIELDS, _events=Subquery(events))
        self.row = row.get()
        self.events = self.row.pop("_events") or 0

    def _call(
        self,
        label: str,
        fn: Callable[[], Any],
        *,
        expect: Expect = ANYTHING,
        transition: str | None = None,
    ) -> Any:
        """Run one service call; record the database before and after.

        ApplicationErrors are recorded for the invariants to judge; any
        other exception propagates and fails the example.
        """
        call = Call(
            label=label,
            transition=transition,
            now=self.now,
            expect=expect,
            before=self.row,
            events_before=self.events,
        )
        self.calls.append(call)
        if transition == "period_expired" and self.row.get("effective_end"):
            call.timely_request_pending = ExtensionRequest.objects.filter(
                case_id=self.case_pk,
                status=ExtensionStatus.SUBMITTED,
                submitted_at__lt=start_of_day(self.row["effective_end"] + timedelta(days=1)),
            ).exists()
        result = None
        try:
            result = fn()
        except ApplicationError as exc:
            call.error = exc
        self._refresh()
        call.after, call.events_after = self.row, self.events
        if call.ok:
            self.reached[label] += 1
            if transition is not None:
                call.last_event = (
                    AuditEvent.objects.filter(chain_key=f"case:{self.case_pk}")
                    .exclude(event_type__startswith="workflows.")
                    .order_by("-seq")
                    .values("transition", "from_state", "to_state")
                    .first()
                )
        self.seen.add(self.status)
        self.reached[self.status] += 1
        return result if call.ok else None

    def _transition(self, name: str, who: str | None, **args: Any) -> bool:
        actor = self.users[who]
        self._call(
            f"transition:{name}",
            lambda: services.case_transition(
                case=self.case_pk, name=name, actor=actor, now=self.now, **args
            ),
            expect=transition_expectation(name, who, self.status, archived=self.archived),
            transition=name,
        )
        self.calls[-1].by_system = actor is None
        return self.calls[-1].ok

    def _content(
        self,
        label: str,
        who: str | None,
        fn: Callable[[User | None], Any],
        *,
        needs_open: bool,
        expect: Expect | None = None,
    ) -> Any:
        actor = self.users[who]
        return self._call(
            label,
            lambda: fn(actor),
            expect=expect
            or content_expectation(who, self.status, archived=self.archived, needs_open=needs_open),
        )

    # --- reading the case's things ----------------------------------------------

    def _current_plan(self) -> IntegrationPlan | None:
        return (
            IntegrationPlan.objects.filter(case_id=self.case_pk, status__in=["DRAFT", "AGREED"])
            .order_by("-version")
            .first()
        )

    def _goals(self, *, current_only: bool) -> list[Goal]:
        goals = Goal.objects.filter(plan__case_id=self.case_pk)
        if current_only:
            goals = goals.filter(plan__status__in=["DRAFT", "AGREED"])
        return list(goals.select_related("plan").order_by("pk"))

    def _latest_request(self) -> ExtensionRequest | None:
        return ExtensionRequest.objects.filter(case_id=self.case_pk).order_by("-pk").first()

    @staticmethod
    def _pick(data: st.DataObject, items: list[Any]) -> Any:
        """One of `items` by its index. (Not `sampled_from(items)`: Hypothesis
        caches strategies by their arguments, and model instances compare by
        pk, so a later example could get a stale instance of an earlier one.)"""
        if not items:
            return None
        return items[data.draw(st.integers(0, len(items) - 1))]

    # --- the example's start --------------------------------------------------

    @initialize(
        hour=st.integers(0, 23),
        anonymous=st.sampled_from([False, False, False, True]),
        prior_days=st.sampled_from([None, None, None, None, 10, 400, 1000, 1300]),
        head_start=st.integers(0, 6),
        data=st.data(),
    )
    def register(
        self,
        hour: int,
        anonymous: bool,
        prior_days: int | None,
        head_start: int,
        data: st.DataObject,
    ) -> None:
        """T1 for a new person (sometimes anonymous, sometimes with an
        earlier consultation start from another Gemeinde); then, so that 20
        steps reach the later states too, up to `head_start` moves along the
        owner's usual path (every call judged like any other)."""
        self._begin()
        self.now = T0.replace(hour=hour)
        owner = self.users[OWNER]
        prior = self.today - timedelta(days=prior_days) if prior_days else None
        person = PersonFactory(traeger=owner.traeger, prior_consultation_start=prior)
        case = services.case_create(
            person=person,
            owner=owner,
            actor=owner,
            now=self.now,
            intake_channel=Case.IntakeChannel.HANDOVER_FSA,
            anonymous_mode=anonymous,
        )
        self.case_pk = case.pk
        self._refresh()
        self.seen.add(self.status)
        self._advance(data, head_start)

    # --- the clock -------------------------------------------------------------

    @rule(
        days=st.one_of(st.integers(0, 30), st.integers(0, 400)),
        hours=st.integers(0, 23),
        sweep=st.booleans(),
    )
    def tick(self, days: int, hours: int, sweep: bool) -> None:
        """Time moves forward (in absolute time, so DST cannot turn it back);
        then, sometimes, the nightly sweep fires what fits the state."""
        self._begin()
        moved = self.now.astimezone(UTC) + timedelta(days=days, hours=hours)
        self.now = moved.astimezone(BERLIN)
        if sweep:
            for name in SYSTEM_NAMES:
                if self.status in TABLE[name][0]:
                    self._transition(name, SYSTEM)

    def _next_deadline(self) -> datetime | None:
        """The earliest moment a system transition may fire in this state."""
        row, status = self.row, self.status
        days: list[date] = []
        if status == S.REGISTERED:
            registered_on = timezone.localdate(row["registered_at"])
            days.append(registered_on + timedelta(days=django_settings.LOTSE_NO_SHOW_DAYS))
        if status in RUNNING and row["effective_end"]:
            days.append(row["effective_end"] + timedelta(days=1))
        if status == S.DORMANT:
            last = (
                Consultation.objects.filter(
                    case_id=self.case_pk, status=Consultation.Status.COMPLETED
                )
                .order_by("-held_on")
                .values_list("held_on", flat=True)
                .first()
            )
            paused = timezone.localdate(row["paused_at"]) if row["paused_at"] else None
            references = [d for d in (last, paused) if d]
            if references:
                months = django_settings.LOTSE_NO_CONTACT_MONTHS
                days.append(services.add_months(max(references), months))
        if status in (S.CLOSED, S.REJECTED):
            ended = row["closed_at"] or row["eligibility_checked_at"] or row["registered_at"]
            years = django_settings.LOTSE_RETENTION_YEARS + 1
            days.append(date(timezone.localdate(ended).year + years, 1, 1))
        if not days:
            return None
        return datetime.combine(min(days), datetime.min.time(), tzinfo=BERLIN)

    @precondition(lambda self: bool(self.row) and self.status != S.DELETED)
    @rule(offset_days=st.integers(-1, 1), hours=st.integers(0, 23))
    def tick_to_deadline(self, offset_days: int, hours: int) -> None:
        """Time moves (at most 400 days) to just before, at or just after the
        next deadline, and the nightly sweep runs: the guards' boundaries."""
        self._begin()
        self._await_deadline(offset_days, hours)

    def _await_deadline(self, offset_days: int, hours: int) -> None:
        deadline = self._next_deadline()
        if deadline is not None:
            target = deadline + timedelta(days=offset_days, hours=hours)
            target = min(target, self.now + timedelta(days=400))
            if target > self.now:
                self.now = target.astimezone(UTC).astimezone(BERLIN)
        for name in SYSTEM_NAMES:
            if self.status in TABLE[name][0]:
                self._transition(name, SYSTEM)

    # --- content commands ------------------------------------------------------
    #
    # Grouped into a few rules (one draw picks the command) so that the
    # happy path, the clock and the transitions keep a fair share of the
    # steps; each command draws its own arguments.

    def _give_consent(self, data: st.DataObject) -> None:
        who = data.draw(st.sampled_from([OWNER, OWNER, OWNER, SUPERVISOR, OTHER]))
        scope = data.draw(
            st.sampled_from(
                [
                    Consent.Scope.CASE_PROCESSING,
                    Consent.Scope.CASE_PROCESSING,
                    Consent.Scope.SPECIAL_CATEGORIES_ART9,
                    Consent.Scope.TEAM_SHARING,
                    BOGUS,
                ]
            )
        )
        given_at = self.now - timedelta(days=data.draw(st.integers(-3, 30)))
        valid_days = data.draw(st.one_of(st.none(), st.integers(1, 800)))
        valid_until = given_at + timedelta(days=valid_days) if valid_days else None
        language = data.draw(st.sampled_from(["ar", "uk", ""]))
        expect = content_expectation(who, self.status, archived=self.archived, needs_open=False)
        if expect is ANYTHING and given_at > self.now:
            # A consent cannot be documented before it is given. Accepting
            # one also makes its withdrawal (withdrawn_at = now < given_at)
            # break the constraint consent_withdrawn_after_given.
            expect = refused(InvalidArguments)
        self._content(
            "consent_record",
            who,
            lambda actor: services.consent_record(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                scope=scope,
                form=Consent.Form.SIGNED_PAPER,
                language=language,
                given_at=given_at,
                valid_until=valid_until,
            ),
            needs_open=False,
            expect=expect,
        )

    def _withdraw_a_consent(self, data: st.DataObject) -> None:
        consent = self._pick(
            data, list(Consent.objects.filter(case_id=self.case_pk).order_by("pk"))
        )
        if consent is None:
            return
        who = data.draw(st.sampled_from([OWNER, OWNER, SUPERVISOR, OTHER]))
        expect = content_expectation(who, self.status, archived=self.archived, needs_open=False)
        if expect is ANYTHING and consent.withdrawn_at is not None:
            expect = refused(AlreadyDecided)
        self._content(
            "consent_withdraw",
            who,
            lambda actor: services.consent_withdraw(
                consent=consent, actor=actor, now=self.now, channel="WRITTEN"
            ),
            needs_open=False,
            expect=expect,
        )

    @rule(data=st.data(), withdraw=st.integers(0, 3))
    def consent_command(self, data: st.DataObject, withdraw: int) -> None:
        """Record a consent (sometimes backdated, sometimes wrongly in the
        future) or withdraw one."""
        self._begin()
        if withdraw == 0:
            self._withdraw_a_consent(data)
        else:
            self._give_consent(data)

    @rule(
        who=st.sampled_from([OWNER, OWNER, OWNER, SUPERVISOR, OTHER]),
        days_back=st.integers(-2, 60),
        status=st.sampled_from(
            [Consultation.Status.COMPLETED] * 3
            + [Consultation.Status.NO_SHOW, Consultation.Status.CANCELLED]
        ),
        form=st.sampled_from(["office", "outreach", "phone", BOGUS]),
        topics=st.lists(st.sampled_from(["language", "work", "housing", BOGUS]), max_size=3),
        minutes=st.sampled_from([45, 90, 0, 721]),
    )
    def record_consultation(
        self, who: str, days_back: int, status: str, form: str, topics: list[str], minutes: int
    ) -> None:
        self._begin()
        expect = content_expectation(who, self.status, archived=self.archived, needs_open=False)
        if expect is ANYTHING and self.status == S.REJECTED:
            expect = refused(GuardFailed)
        self._content(
            "consultation_record",
            who,
            lambda actor: services.consultation_record(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                held_on=self.today - timedelta(days=days_back),
                duration_minutes=minutes,
                form=form,
                topics=topics,
                status=status,
            ),
            needs_open=False,
            expect=expect,
        )

    def _record_assessment(self, data: st.DataObject, who: str) -> None:
        items = data.draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "field_of_action": st.sampled_from(["language", "work", "housing", BOGUS]),
                        "need_level": st.sampled_from(["HIGH", "LOW", "NONE", BOGUS]),
                    }
                ),
                max_size=3,
            )
        )
        self._content(
            "assessment_record",
            who,
            lambda actor: services.assessment_record(
                case=self.case_pk, actor=actor, now=self.now, assessed_on=self.today, items=items
            ),
            needs_open=True,
        )

    def _add_goal(self, data: st.DataObject, who: str) -> None:
        """A goal for the current plan version, sometimes with a first step."""
        target = self.today + timedelta(days=data.draw(st.integers(-30, 1600)))
        criterion = data.draw(st.sampled_from([GOAL_CRITERION, GOAL_CRITERION, ""]))
        goal = self._content(
            "goal_add",
            who,
            lambda actor: services.goal_add(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                field_of_action="language",
                title=GOAL_TITLE,
                success_criterion=criterion,
                target_date=target,
            ),
            needs_open=True,
        )
        if goal is not None and data.draw(st.booleans()):
            self._add_measure(data, who, goal=goal)

    def _add_measure(self, data: st.DataObject, who: str, goal: Goal | None = None) -> None:
        """A step for a goal (also one of a superseded or closed plan)."""
        goal = goal or self._pick(data, self._goals(current_only=False))
        if goal is None:
            return
        responsible = data.draw(st.sampled_from(["CLIENT", "SERVICE", BOGUS]))
        self._content(
            "measure_add",
            who,
            lambda actor: services.measure_add(
                goal=goal,
                actor=actor,
                now=self.now,
                description="Anmeldung VHS-Kurs",
                responsible=responsible,
            ),
            needs_open=True,
        )

    def _update_goal(self, data: st.DataObject, who: str) -> None:
        goal = self._pick(data, self._goals(current_only=data.draw(st.booleans())))
        if goal is None:
            return
        status = data.draw(st.sampled_from([*GoalStatus.values, BOGUS]))
        self._content(
            "goal_update",
            who,
            lambda actor: services.goal_update(goal=goal, actor=actor, now=self.now, status=status),
            needs_open=True,
        )

    @rule(
        data=st.data(),
        command=st.sampled_from(["assessment", "goal", "goal", "measure", "goal_update"]),
        who=st.sampled_from([OWNER, OWNER, OWNER, SUPERVISOR, OTHER]),
    )
    def plan_command(self, data: st.DataObject, command: str, who: str) -> None:
        """Needs assessment, goals, steps and goal statuses."""
        self._begin()
        {
            "assessment": self._record_assessment,
            "goal": self._add_goal,
            "measure": self._add_measure,
            "goal_update": self._update_goal,
        }[command](data, who)

    @rule(
        data=st.data(),
        update=st.booleans(),
        who=st.sampled_from([OWNER, OWNER, OWNER, SUPERVISOR, OTHER]),
        outcome=st.sampled_from([*Referral.Outcome.values, BOGUS]),
        is_final=st.sampled_from([True, False, None]),
    )
    def referral_command(
        self, data: st.DataObject, update: bool, who: str, outcome: str, is_final: bool | None
    ) -> None:
        """Record a referral (final or not, with an outcome) or update one."""
        self._begin()
        referral = None
        if update:
            referral = self._pick(
                data, list(Referral.objects.filter(case_id=self.case_pk).order_by("pk"))
            )
        if referral is not None:
            self._content(
                "referral_update",
                who,
                lambda actor: services.referral_update(
                    referral=referral,
                    actor=actor,
                    now=self.now,
                    outcome=outcome,
                    is_final=is_final,
                ),
                needs_open=True,
            )
            return
        service = data.draw(st.sampled_from(["mbe", "jobcenter", BOGUS]))
        mode = data.draw(st.sampled_from(["APPOINTMENT_ARRANGED", "INFORMATION_ONLY", BOGUS]))
        self._content(
            "referral_record",
            who,
            lambda actor: services.referral_record(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                referred_on=self.today,
                target_service=service,
                mode=mode,
                is_final=bool(is_final),
                outcome=outcome,
            ),
            needs_open=True,
        )

    # --- transitions by name ------------------------------------------------------

    def _plausible_args(self, name: str, data: st.DataObject) -> dict[str, Any]:
        draw = data.draw
        if name == "record_first_consultation":
            pool = list(
                Consultation.objects.filter(case_id=self.case_pk)
                .order_by("pk")
                .values_list("pk", "status")
            )
            completed = [pk for pk, status in pool if status == Consultation.Status.COMPLETED]
            if completed and draw(st.integers(0, 3)):
                consultation = completed[-1]
            else:
                consultation = draw(st.sampled_from([pk for pk, _ in pool] or [None]))
            args: dict[str, Any] = {
                "eligibility_basis": draw(
                    st.sampled_from(["FOLLOW_UP_ACCOMMODATION", "UKRAINE", "NONE"])
                ),
                "benefit_status": draw(st.sampled_from(["asylblg", "sgb2", "none"])),
                "consultation_id": consultation,
            }
            if draw(st.integers(0, 5)) == 0:
                args["obliged_to_leave"] = True
            return args
        if name == "reject_ineligible":
            return {"reason": draw(st.sampled_from(Case.RejectionReason.values))}
        if name == "agree_plan":
            args = {"agreement_form": "SIGNATURE", "agreement_language": "ar"}
            if draw(st.booleans()):
                args["next_review_at"] = self.today + timedelta(days=draw(st.integers(-5, 400)))
            return args
        if name == "decline_plan":
            return {"reason": "Möchte keinen schriftlichen Plan"}
        if name == "review_plan":
            plan = self._current_plan()
            goals = list(plan.goals.order_by("pk")) if plan else []
            updates = [
                {"goal_id": goal.pk, "status": draw(st.sampled_from(GoalStatus.values))}
                for goal in goals
                if draw(st.booleans())
            ]
            args = {"goal_updates": updates, "notes": "Fortschreibung"}
            if draw(st.booleans()):
                args["reviewed_on"] = self.today - timedelta(days=draw(st.integers(-2, 30)))
            return args
        if name == "pause":
            return {"reason": draw(st.sampled_from(services.PauseReason.values))}
        if name == "start_closing":
            return {"ground": draw(st.sampled_from(services.ClosingGround.values))}
        if name == "close":
            reasons = ["goals_achieved", "client_ended", "moved_away", "period_expired"]
            reasons += ["deceased", "consent_withdrawn"]
            return {
                "closure_reason": draw(st.sampled_from(reasons)),
                "no_further_need": draw(st.booleans()),
            }
        if name == "reopen":
            return {"reason": draw(st.sampled_from(services.ReopenReason.values))}
        if name == "withdraw_consent":
            return {"channel": draw(st.sampled_from(Consent.WithdrawalChannel.values))}
        return {}

    @staticmethod
    def _wrong(args: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
        """Break the arguments: drop one, or give one a value that is not valid."""
        if not args:
            return {"unexpected": BOGUS}
        key = data.draw(st.sampled_from(sorted(args)))
        broken = dict(args)
        if data.draw(st.booleans()):
            del broken[key]
        else:
            broken[key] = data.draw(st.sampled_from(WRONG_VALUES))
        return broken

    @rule(
        data=st.data(),
        who=st.sampled_from([OWNER] * 6 + [SUPERVISOR, SUPERVISOR, OTHER, SYSTEM]),
        mode=st.sampled_from(["fitting", "fitting", "any", "any", "unknown"]),
        wrong=st.integers(0, 4),
    )
    def fire_transition(self, data: st.DataObject, who: str | None, mode: str, wrong: int) -> None:
        """Any user-fireable transition by name, mostly one that fits the state;
        now and then with broken arguments or a name that does not exist."""
        self._begin()
        fitting = [name for name in USER_NAMES if self.status in TABLE[name][0]]
        if mode == "unknown":
            name = "teleport"
        elif mode == "fitting" and fitting:
            name = data.draw(st.sampled_from(fitting))
        else:
            name = data.draw(st.sampled_from(USER_NAMES))
        args = self._plausible_args(name, data)
        if wrong == 0:
            args = self._wrong(args, data)
        self._transition(name, who, **args)

    @rule(
        name=st.sampled_from(SYSTEM_NAMES),
        who=st.sampled_from([SYSTEM, SYSTEM, SYSTEM, OWNER, SUPERVISOR]),
    )
    def system_transition(self, name: str, who: str | None) -> None:
        """A deadline transition whatever the state (and, wrongly, by a person)."""
        self._begin()
        self._transition(name, who)

    # --- extension requests --------------------------------------------------------

    def _submit_extension(
        self, who: str, *, reason: str, months: int, justification: str
    ) -> ExtensionRequest | None:
        expect = content_expectation(who, self.status, archived=self.archived, needs_open=False)
        if expect is ANYTHING and self.status not in RUNNING:
            expect = refused(GuardFailed, InvalidArguments)
        return self._content(
            "extension_request_submit",
            who,
            lambda actor: services.extension_request_submit(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                reason=reason,
                months=months,
                justification=justification,
            ),
            needs_open=False,
            expect=expect,
        )

    def _decide_extension(self, who: str, *, approve: bool, note: str) -> None:
        """Approve or reject the latest request (four eyes: never the requester)."""
        request = self._latest_request()
        if request is None:
            return
        if not approve and not note:
            expect = refused(InvalidArguments)
        elif who == OTHER or self.archived:
            expect = refused(NotFound)
        elif request.status != ExtensionStatus.SUBMITTED:
            expect = refused(AlreadyDecided)
        elif self.users[who].pk == request.requested_by_id:
            expect = refused(SelfApproval)
        elif who != SUPERVISOR:
            expect = refused(TransitionForbidden)
        elif approve and self.status not in RUNNING:
            expect = refused(GuardFailed)
        else:
            expect = Expect(ok=True, errors=(GuardFailed,))
        decide = (
            services.extension_request_approve if approve else services.extension_request_reject
        )
        self._content(
            "extension_request_approve" if approve else "extension_request_reject",
            who,
            lambda actor: decide(request=request.pk, actor=actor, now=self.now, note=note),
            needs_open=False,
            expect=expect,
        )

    def _withdraw_extension(self, who: str) -> None:
        request = self._latest_request()
        if request is None:
            return
        if who == OTHER or self.archived:
            expect = refused(NotFound)
        elif who != OWNER:
            expect = refused(TransitionForbidden)
        elif request.status not in (ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED):
            expect = refused(AlreadyDecided)
        else:
            expect = Expect(ok=True, errors=())
        self._content(
            "extension_request_withdraw",
            who,
            lambda actor: services.extension_request_withdraw(
                request=request.pk, actor=actor, now=self.now
            ),
            needs_open=False,
            expect=expect,
        )

    @rule(
        data=st.data(),
        command=st.sampled_from(["submit", "submit", "approve", "approve", "reject", "withdraw"]),
        who=st.sampled_from([OWNER, OWNER, SUPERVISOR, SUPERVISOR, OTHER]),
    )
    def extension_command(self, data: st.DataObject, command: str, who: str) -> None:
        """Submit, approve, reject or withdraw an extension request, by
        anyone: the requester deciding must meet SelfApproval."""
        self._begin()
        if command == "submit":
            self._submit_extension(
                who,
                # illiteracy: plain; mental_illness: needs an Art. 9 consent;
                # other_justified: inactive in the catalogue.
                reason=data.draw(
                    st.sampled_from(
                        [
                            "multiple_problems",
                            "illiteracy",
                            "mental_illness",
                            "other_justified",
                            BOGUS,
                        ]
                    )
                ),
                months=data.draw(st.integers(0, 13)),
                justification=data.draw(st.sampled_from(["Mehrfachproblematik", "", " "])),
            )
        elif command == "withdraw":
            self._withdraw_extension(who)
        else:
            note = data.draw(st.sampled_from(["Begründet", "Begründet", ""]))
            self._decide_extension(who, approve=command == "approve", note=note)

    # --- the person's clock ---------------------------------------------------------

    @precondition(lambda self: bool(self.row) and self.status != S.DELETED)
    @rule(data=st.data(), command=st.sampled_from(["race", "race", "fact", "new_case"]))
    def person_command(self, data: st.DataObject, command: str) -> None:
        """The person's clock: an extension request races the period-end
        sweep, a fact known from elsewhere is recorded, or the person of a
        closed or rejected case comes back with a new case."""
        self._begin()
        if command == "new_case" and self.status in (S.CLOSED, S.REJECTED):
            self._new_case_for_the_person()
        elif command == "race" and self.status in RUNNING:
            self._race_the_sweep(data)
        else:
            self._record_clock_fact(data)

    def _new_case_for_the_person(self) -> None:
        """The person comes back (another Gemeinde, a return after closure):
        a new case, which the machine follows from now on."""
        owner = self.users[OWNER]
        case = services.case_create(
            person=Person.objects.get(pk=self.row["person_id"]),
            owner=owner,
            actor=owner,
            now=self.now,
            intake_channel=Case.IntakeChannel.SELF_REFERRAL,
        )
        self.earlier_cases.append(self.case_pk)
        self.case_pk = case.pk
        self._refresh()
        self.seen = {self.status}
        self.reached["new_case_for_the_person"] += 1

    def _record_clock_fact(self, data: st.DataObject) -> None:
        who = data.draw(st.sampled_from([SYSTEM, SYSTEM, OWNER]))
        days_back = data.draw(st.one_of(st.none(), st.integers(0, 1500)))
        months = data.draw(st.sampled_from([None, None, None, 3, 12, 13]))
        start = self.today - timedelta(days=days_back) if days_back is not None else None
        self._call(
            "person_clock_fact_record",
            lambda: services.person_clock_fact_record(
                person=self.row["person_id"],
                actor=self.users[who],
                now=self.now,
                source=PersonClockFact.Source.MIGRATION,
                evidence="Altakte",
                first_consultation_on=start,
                extension_months=months,
                extension_reason="illiteracy" if months else None,
            ),
        )

    def _race_the_sweep(self, data: st.DataObject) -> None:
        """An extension request on the period's last day (or none), the
        sweep in one of the nights after, then maybe a decision and the
        next sweep."""
        end = self.row["effective_end"]
        last_day = datetime.combine(
            end, time(data.draw(st.integers(0, 23)), data.draw(st.sampled_from([0, 59]))), BERLIN
        )
        self.now = max(self.now, last_day)
        if data.draw(st.integers(0, 3)):
            request = self._latest_request()
            if request is None or request.status != ExtensionStatus.SUBMITTED:
                self._submit_extension(
                    OWNER,
                    reason="multiple_problems",
                    months=data.draw(st.integers(1, 12)),
                    justification="Mehrfachproblematik",
                )
        night = datetime.combine(end + timedelta(days=1), time(0), BERLIN)
        night += timedelta(hours=data.draw(st.integers(0, 72)))
        self.now = max(self.now, night)
        self._transition("period_expired", SYSTEM)
        decision = data.draw(st.sampled_from(["approve", "reject", "withdraw", "wait"]))
        self.now += timedelta(days=data.draw(st.integers(0, 20)))
        if decision == "withdraw":
            self._withdraw_extension(OWNER)
        elif decision != "wait":
            self._decide_extension(SUPERVISOR, approve=decision == "approve", note="Begründet")
        if self.status in RUNNING:
            self._transition("period_expired", SYSTEM)

    # --- the owner's next move, one state at a time ------------------------------

    @precondition(lambda self: bool(self.row) and self.status not in (S.REJECTED, S.DELETED))
    @rule(data=st.data(), moves=st.integers(1, 3))
    def advance(self, data: st.DataObject, moves: int) -> None:
        """Do what the owner would do next, up to `moves` state changes (each
        call is one real service call, judged like every other)."""
        self._begin()
        self._advance(data, moves)

    def _advance(self, data: st.DataObject, moves: int) -> None:
        steps = {
            S.REGISTERED: self._advance_registered,
            S.INITIAL_COUNSELLING: self._advance_initial,
            S.PLANNING: self._advance_planning,
            S.ACTIVE: self._advance_active,
            S.DORMANT: self._advance_dormant,
            S.CLOSING: self._advance_closing,
            S.CLOSED: self._advance_closed,
        }
        for _ in range(moves):
            step = steps.get(self.status)
            if step is None or not step(data):
                return

    def _consent(self) -> bool:
        if any(
            consent.is_active_at(self.now)
            for consent in Consent.objects.filter(
                person__cases=self.case_pk, scope=Consent.Scope.CASE_PROCESSING
            )
        ):
            return True
        self._content(
            "consent_record",
            OWNER,
            lambda actor: services.consent_record(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                scope=Consent.Scope.CASE_PROCESSING,
                form=Consent.Form.SIGNED_PAPER,
                language="ar",
            ),
            needs_open=False,
        )
        return self.calls[-1].ok

    def _consult(self) -> Consultation | None:
        return self._content(
            "consultation_record",
            OWNER,
            lambda actor: services.consultation_record(
                case=self.case_pk,
                actor=actor,
                now=self.now,
                held_on=self.today,
                duration_minutes=45,
                form="office",
                topics=["language"],
            ),
            needs_open=False,
        )

    def _advance_registered(self, data: st.DataObject) -> bool:
        if data.draw(st.integers(0, 5)) == 0:
            # The eligibility check fails (decided by the owner or the lead).
            who = data.draw(st.sampled_from([OWNER, SUPERVISOR]))
            reason = data.draw(st.sampled_from(["NOT_TARGET_GROUP", "OBLIGED_TO_LEAVE"]))
            return self._transition("reject_ineligible", who, reason=reason)
        if not (self.row["anonymous_mode"] and data.draw(st.booleans())) and not self._consent():
            return False
        consultation = self._consult()
        return consultation is not None and self._transition(
            "record_first_consultation",
            OWNER,
            consultation_id=consultation.pk,
            eligibility_basis="FOLLOW_UP_ACCOMMODATION",
            benefit_status="asylblg",
        )

    def _advance_initial(self, data: st.DataObject) -> bool:
        if not Case.objects.get(pk=self.case_pk).assessments.exists():
            assessment = self._content(
                "assessment_record",
                OWNER,
                lambda actor: services.assessment_record(
                    case=self.case_pk,
                    actor=actor,
                    now=self.now,
                    assessed_on=self.today,
                    items=[{"field_of_action": "language", "need_level": "HIGH"}],
                ),
                needs_open=True,
            )
            if assessment is None:
                return False
        return self._transition("draft_plan", OWNER)

    def _advance_planning(self, data: st.DataObject) -> bool:
        if data.draw(st.integers(0, 5)) == 0:
            return self._transition("decline_plan", OWNER, reason="Kein schriftlicher Plan")
        plan = self._current_plan()
        if plan is not None and not plan.goals.filter(measures__isnull=False).exists():
            end = self.row["effective_end"]
            target = min(self.today + timedelta(days=300), end) if end else self.today
            goal = self._content(
                "goal_add",
                OWNER,
                lambda actor: services.goal_add(
                    case=self.case_pk,
                    actor=actor,
                    now=self.now,
                    field_of_action="language",
                    title=GOAL_TITLE,
                    success_criterion=GOAL_CRITERION,
                    target_date=target,
                ),
                needs_open=True,
            )
            if goal is None:
                return False
            measure = self._content(
                "measure_add",
                OWNER,
                lambda actor: services.measure_add(
                    goal=goal,
                    actor=actor,
                    now=self.now,
                    description="Anmeldung VHS-Kurs",
                    responsible="CLIENT",
                ),
                needs_open=True,
            )
            if measure is None:
                return False
        return self._transition(
            "agree_plan", OWNER, agreement_form="SIGNATURE", agreement_language="ar"
        )

    def _finish_goals(self) -> bool:
        for goal in self._goals(current_only=True):
            if goal.status in (GoalStatus.ACHIEVED, GoalStatus.DROPPED):
                continue
            updated = self._content(
                "goal_update",
                OWNER,
                lambda actor, goal=goal: services.goal_update(
                    goal=goal, actor=actor, now=self.now, status=GoalStatus.ACHIEVED
                ),
                needs_open=True,
            )
            if updated is None:
                return False
        return True

    def _advance_active(self, data: st.DataObject) -> bool:
        choice = data.draw(
            st.sampled_from(["close", "close", "review", "pause", "pause", "extend", "extend"])
        )
        if choice == "review":
            self._transition("review_plan", OWNER)
            return False  # a self-loop: stay for this step
        if choice == "pause":
            return self._transition("pause", OWNER, reason="CLIENT_REQUEST")
        if choice == "extend":
            request = self._latest_request()
            if request is None or request.status != ExtensionStatus.SUBMITTED:
                request = self._submit_extension(
                    OWNER,
                    reason="multiple_problems",
                    months=data.draw(st.integers(1, 12)),
                    justification="Mehrfachproblematik",
                )
            if request is not None:
                decision = data.draw(
                    st.sampled_from(["approve", "approve", "reject", "self", "withdraw", "later"])
                )
                if decision == "withdraw":
                    self._withdraw_extension(OWNER)
                elif decision != "later":
                    who = OWNER if decision == "self" else SUPERVISOR
                    self._decide_extension(who, approve=decision != "reject", note="Begründet")
            return False
        if not self._finish_goals():
            return False
        plan = self._current_plan()
        ground = "ALL_GOALS_FINAL" if plan and plan.goals.exists() else "CLIENT_REQUEST"
        return self._transition("start_closing", OWNER, ground=ground)

    def _client_returns(self, data: st.DataObject) -> None:
        """A little time passes before the next consultation (0: the same
        moment, which is not "after" the pause or the closure)."""
        hours = data.draw(st.sampled_from([0, 1, 20, 50]))
        self.now = (self.now.astimezone(UTC) + timedelta(hours=hours)).astimezone(BERLIN)

    def _advance_dormant(self, data: st.DataObject) -> bool:
        choice = data.draw(st.sampled_from(["resume", "resume", "silence", "close"]))
        if choice == "resume":
            self._client_returns(data)
            return self._consult() is not None and self._transition("resume", OWNER)
        if choice == "silence":
            # The client stays away: the no-contact (or period) deadline passes.
            self._await_deadline(data.draw(st.integers(0, 1)), data.draw(st.integers(0, 23)))
            return self.status != S.DORMANT
        return self._transition("start_closing", OWNER, ground="MOVED_AWAY")

    def _advance_closing(self, data: st.DataObject) -> bool:
        if not self._finish_goals():
            return False
        pending = Referral.objects.filter(case_id=self.case_pk, outcome=Referral.Outcome.PENDING)
        for referral in pending.order_by("pk"):
            updated = self._content(
                "referral_update",
                OWNER,
                lambda actor, referral=referral: services.referral_update(
                    referral=referral, actor=actor, now=self.now, outcome="TAKEN_UP"
                ),
                needs_open=True,
            )
            if updated is None:
                return False
        reason = data.draw(
            st.sampled_from(["goals_achieved", "client_ended", "moved_away", "deceased"])
        )
        final = Referral.objects.filter(case_id=self.case_pk, is_final=True)
        if reason == "goals_achieved" and not final.exists():
            referral = self._content(
                "referral_record",
                OWNER,
                lambda actor: services.referral_record(
                    case=self.case_pk,
                    actor=actor,
                    now=self.now,
                    referred_on=self.today,
                    target_service="mbe",
                    mode="APPOINTMENT_ARRANGED",
                    is_final=True,
                    outcome="TAKEN_UP",
                ),
                needs_open=True,
            )
            if referral is None:
                return False
        return self._transition("close", OWNER, closure_reason=reason)

    def _advance_closed(self, data: st.DataObject) -> bool:
        self._client_returns(data)
        if not self._consent() or self._consult() is None:
            return False
        who = data.draw(st.sampled_from([OWNER, SUPERVISOR]))
        return self._transition("reopen", who, reason="CLIENT_RETURNED")

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def each_call_succeeds_with_one_event_or_is_refused_without_trace(self) -> None:
        """(5) A successful call wrote exactly one audit event (for a
        transition: its name and states); a refused call wrote none and left
        the case row as it was; refusals are the ones the contract names."""
        for call in self.calls:
            if not call.ok:
                assert isinstance(call.error, call.expect.errors), (
                    f"{call.describe()}; expected one of {[e.__name__ for e in call.expect.errors]}"
                )
                assert call.events_after == call.events_before, (
                    f"{call.describe()} but wrote {call.events_after - call.events_before} events"
                )
                assert call.after == call.before, f"{call.describe()} but changed the case"
                continue
            assert call.expect.ok, (
                f"{call.describe()}; expected a refusal with one of "
                f"{[e.__name__ for e in call.expect.errors]}"
            )
            # A rejection after the end of the period (the sweep waited for
            # it) starts closing at once: the system's period_expired follows.
            closes = (
                call.label == "extension_request_reject"
                and call.before["status"] in RUNNING
                and call.today > call.before["effective_end"]
            )
            assert call.events_after == call.events_before + 1 + closes, (
                f"{call.describe()} with {call.events_after - call.events_before} audit events"
            )
            if closes:
                assert call.after["status"] == S.CLOSING, call.describe()
                assert call.after["closing_ground"] == "PERIOD_EXPIRED", call.describe()
                continue
            if call.transition is None:
                assert call.after["status"] == call.before["status"], call.describe()
                continue
            assert call.last_event == {
                "transition": call.transition,
                "from_state": call.before["status"],
                "to_state": call.after["status"],
            }, (call.describe(), call.last_event)

    @invariant()
    def open_work_fits_the_state(self) -> None:
        """The case's guided work follows every change, whoever made it."""
        from workflows.invariants import open_work_problems

        case = Case.objects.get(pk=self.case_pk)
        assert open_work_problems(case) == [], [c.describe() for c in self.calls]

    @invariant()
    def transitions_follow_the_table(self) -> None:
        """A successful transition went from one of its sources to its target."""
        for call in self.calls:
            if call.ok and call.transition is not None:
                sources, target, _who = TABLE[call.transition]
                assert call.before["status"] in sources, call.describe()
                assert call.after["status"] == target, call.describe()

    @invariant()
    def final_states_stay_final(self) -> None:
        """(1) deleted never changes; rejected only becomes deleted."""
        if not self.row:
            return
        if S.DELETED in self.seen:
            assert self.status == S.DELETED, self.seen
        if S.REJECTED in self.seen:
            assert self.status in (S.REJECTED, S.DELETED), self.seen
        for call in self.calls:
            before, after = call.before["status"], call.after["status"]
            if before == S.DELETED:
                assert after == S.DELETED, call.describe()
            if before == S.REJECTED and after != S.REJECTED:
                assert (call.transition, after) == ("retention_elapsed", S.DELETED), call.describe()

    @invariant()
    def closed_is_left_only_by_reopen_or_retention(self) -> None:
        """(2) closed -> active only by reopen while today <= effective_end;
        closed -> deleted only by retention_elapsed."""
        for call in self.calls:
            before, after = call.before["status"], call.after["status"]
            if before != S.CLOSED or after == S.CLOSED:
                continue
            assert (call.transition, after) in (
                ("reopen", S.ACTIVE),
                ("retention_elapsed", S.DELETED),
            ), call.describe()
            if call.transition == "reopen":
                end = call.before["effective_end"]
                assert end is not None, call.describe()
                assert call.today <= end, (call.describe(), end)

    @invariant()
    def deadlines_had_passed(self) -> None:
        """The system transitions fire only once their deadline has passed."""
        for call in self.calls:
            if not call.ok or call.transition not in SYSTEM_NAMES:
                continue
            before = call.before
            if call.transition == "no_show_timeout":
                # N days after registration (counted in calendar days at the
                # latest: the service may count either way).
                registered_on = timezone.localdate(before["registered_at"])
                days = django_settings.LOTSE_NO_SHOW_DAYS
                assert call.today >= registered_on + timedelta(days=days), call.describe()
            elif call.transition == "period_expired":
                assert call.today > before["effective_end"], call.describe()
            elif call.transition == "retention_elapsed":
                assert not before["legal_hold"], call.describe()
                ended = (
                    before["closed_at"]
                    or before["eligibility_checked_at"]
                    or before["registered_at"]
                )
                years = django_settings.LOTSE_RETENTION_YEARS
                last_kept = date(timezone.localdate(ended).year + years, 12, 31)
                assert call.today > last_kept, call.describe()

    @invariant()
    def four_eyes_and_at_most_one_extension(self) -> None:
        """(3) decided_by != requested_by; at most one approved per case."""
        if not any(call.label.startswith("extension_request") for call in self.calls):
            return  # nothing else writes extension requests
        rows = list(
            ExtensionRequest.objects.filter(case_id=self.case_pk).values(
                "status", "requested_by_id", "decided_by_id"
            )
        )
        for row in rows:
            if row["decided_by_id"] is not None:
                assert row["decided_by_id"] != row["requested_by_id"], row
        assert sum(row["status"] == ExtensionStatus.APPROVED for row in rows) <= 1, rows

    @invariant()
    def period_within_four_years(self) -> None:
        """(4) regular_end <= effective_end <= start + 4 years - 1 day, and
        only T2 and an approved extension move the period."""
        if not self.row:
            return
        start, regular, effective = (self.row[name] for name in CLOCK_FIELDS)
        if start is None:
            assert regular is None, self.row
            assert effective is None, self.row
        else:
            assert regular == regular_end_for(start), self.row
            assert effective is not None, self.row
            assert regular <= effective <= latest_end_for(start), self.row
        for call in self.calls:
            moved = [name for name in CLOCK_FIELDS if call.before[name] != call.after[name]]
            if moved:
                assert call.label in CLOCK_WRITERS, (call.describe(), moved)
            if call.label == "extension_request_approve" and call.ok:
                months = ExtensionRequest.objects.get(
                    case_id=self.case_pk, status=ExtensionStatus.APPROVED
                ).months
                expected = extended_end_for(start=start, regular_end=regular, months=months)
                assert call.after["effective_end"] == expected, call.describe()

    @invariant()
    def one_clock_per_person(self) -> None:
        """For the person, across all their cases: every effective end <=
        the first start + 3 years + at most one extension of <= 12 months
        (an approved request in any case, or one known from elsewhere)."""
        if not self.row:
            return
        person_id = self.row["person_id"]
        cases = list(
            Case.objects.filter(person_id=person_id).values_list(
                "pk", "consultation_start", "effective_end"
            )
        )
        facts = list(
            PersonClockFact.objects.filter(person_id=person_id).values_list(
                "first_consultation_on", "extension_months"
            )
        )
        prior = Person.objects.filter(pk=person_id).values_list(
            "prior_consultation_start", flat=True
        )
        starts = [start for _pk, start, _end in cases if start]
        starts += [day for day, _months in facts if day] + [day for day in prior if day]
        extensions = list(
            ExtensionRequest.objects.filter(
                case__person_id=person_id, status=ExtensionStatus.APPROVED
            ).values_list("months", flat=True)
        ) + [months for _day, months in facts if months]
        assert len(extensions) <= 1, (person_id, extensions)
        assert all(1 <= months <= 12 for months in extensions), extensions
        if not starts:
            assert all(end is None for _pk, _start, end in cases), cases
            return
        first = min(starts)
        limit = regular_end_for(first)
        if extensions:
            limit = extended_end_for(start=first, regular_end=limit, months=extensions[0])
        for pk, start, end in cases:
            if end is not None:
                assert start == first, (pk, start, first)
                assert end <= limit, (pk, end, limit, [c.describe() for c in self.calls])

    @invariant()
    def timely_request_holds_the_sweep(self) -> None:
        """The period-end sweep does not close a case whose extension
        request, submitted by the end, still waits for its decision; without
        one it closes the case once the end has passed."""
        for call in self.calls:
            if call.transition != "period_expired" or call.before["status"] not in RUNNING:
                continue
            if not call.by_system:
                continue  # a person firing the sweep's step: transitions_follow_the_table
            if call.today <= call.before["effective_end"]:
                continue  # not due yet (deadlines_had_passed)
            if call.timely_request_pending:
                assert call.error is not None, call.describe()
                assert call.error.code == "extension_pending", call.describe()
            else:
                assert call.ok, call.describe()

    @invariant()
    def audit_chain_verifies(self) -> None:
        """(6) The case's hash chain is intact (checked whenever it grew)."""
        if any(call.ok for call in self.calls):
            assert audit_chain_verify(chain_key=f"case:{self.case_pk}") == []


# Bounded and derandomized in `make test`, long in `make test-deep`
# (tests/hypothesis_profiles.py): every run walks the same sequences.
W5_SETTINGS = hypothesis_settings(
    parent=hypothesis_settings.get_profile(PROFILE),
    max_examples=BUDGET.machine_examples,
    stateful_step_count=BUDGET.machine_steps,
)


@pytest.mark.property
@pytest.mark.django_db
def test_case_lifecycle_invariants_hold_under_random_commands() -> None:
    ensure_catalogues()
    team = TeamFactory()
    CaseLifecycle.users = {
        OWNER: manager_in(team),
        SUPERVISOR: supervisor_of(team),
        OTHER: manager_in(team),
        SYSTEM: None,
    }
    CaseLifecycle.reached = Counter()
    try:
        run_state_machine_as_test(CaseLifecycle, settings=W5_SETTINGS)
        reached = CaseLifecycle.reached
    finally:
        CaseLifecycle.users = {}
        CaseLifecycle.reached = Counter()

    # The walk is only worth its time if it goes everywhere: every state is
    # reached and every transition and every command succeeds at least once.
    # (The sequences are fixed by the machine's source: an edit reshuffles
    # them; the paths above are weighted so that every one is hit many times
    # under any seed.)
    commands = (
        [str(status) for status in S]
        + [f"transition:{name}" for name in TABLE]
        + [
            "consent_record",
            "consent_withdraw",
            "consultation_record",
            "assessment_record",
            "goal_add",
            "goal_update",
            "measure_add",
            "referral_record",
            "referral_update",
            "extension_request_submit",
            "extension_request_approve",
            "extension_request_reject",
            "extension_request_withdraw",
            "person_clock_fact_record",
            "new_case_for_the_person",
        ]
    )
    missing = [command for command in commands if not reached[command]]
    assert not missing, f"never reached or never succeeded: {missing}"
