"""Reads of case data, and the access chokepoint (DOMAIN.md §14.6).

Every view, export and service reaches cases through `cases_visible_to`:
what it does not return does not exist for the caller (404, never 403).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.selectors import deputy_principal_ids, deputy_principals
from audit.services import read_access_record
from cases.clock import add_months
from cases.models import (
    CLOCK_STATES,
    OPEN_STATES,
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    Consent,
    Consultation,
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    HouseholdMembership,
    IntegrationPlan,
    Measure,
    Person,
    Referral,
)
from cases.person_clock import person_clock
from config.errors import Forbidden, NotFound

# The relations a user can have to a case; transitions name which may act.
OWNER = "OWNER"
DEPUTY = "DEPUTY"
SUPERVISOR = "SUPERVISOR"
AUDITOR = "AUDITOR"
DPO = "DPO"
SYSTEM = "SYSTEM"


class CaseNotFound(NotFound):
    default_code = "not_found"


def case_not_found() -> CaseNotFound:
    return CaseNotFound(_("This case does not exist."))


# --- restriction at closure (DOMAIN.md "Retention", §14.5, T15) ------------
#
# A closed or rejected case is restricted (Art. 18 DSGVO: the archive) as
# soon as it can no longer be reopened. T15 reopens a closed case while
# today <= effective_end, unless it was closed because the person died; a
# rejected case is never reopened. Until then its managers and their
# supervisors keep it, because reopening needs them (a new consultation,
# a renewed consent). In the archive only the data protection officer sees
# it, and auditors its timeline (ids and codes, no content), until the
# retention sweep anonymises it. The rule depends on the day, so it is
# always evaluated for the caller's `now`.

# Closure reasons after which T15 never reopens a case.
NOT_REOPENABLE_REASONS = ("deceased",)


def restricted_q(*, today: date, prefix: str = "") -> Q:
    """Return the condition "the case is restricted on `today`".

    `prefix` names the case from a related model (for example "case__").
    """

    def q(**lookups: Any) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})

    return q(status=CaseStatus.REJECTED) | (
        q(status=CaseStatus.CLOSED)
        & (
            q(effective_end__isnull=True)
            | q(effective_end__lt=today)
            | q(closure_reason_id__in=_not_reopenable_reason_ids())
        )
    )


def _not_reopenable_reason_ids() -> QuerySet[Any]:
    """The closure reasons of NOT_REOPENABLE_REASONS, as a subquery (no join
    of the catalogue into every list of cases)."""
    from cases.models import Catalogue, CatalogueEntry

    return CatalogueEntry.objects.filter(
        catalogue=Catalogue.CLOSURE_REASON, key__in=NOT_REOPENABLE_REASONS
    ).values("pk")


def case_is_restricted(
    *, case: Case, now: datetime, not_reopenable: set[int] | None = None
) -> bool:
    """Return whether `case` is restricted at `now` (see `restricted_q`).

    Reads the closure reason's key (one query unless it is loaded), or
    looks its id up in `not_reopenable` (`_not_reopenable_reason_ids`), which
    a caller checking a whole list reads once.
    """
    if case.status == CaseStatus.REJECTED:
        return True
    if case.status != CaseStatus.CLOSED:
        return False
    if case.effective_end is None or case.effective_end < timezone.localdate(now):
        return True
    if case.closure_reason_id is None:
        return False
    if not_reopenable is not None:
        return case.closure_reason_id in not_reopenable
    return case.closure_reason.key in NOT_REOPENABLE_REASONS


def cases_visible_to(*, user: Any, now: datetime) -> QuerySet[Case]:
    """Return the cases `user` may see at `now`; deny by default.

    Integration managers: own cases and those of managers they deputise
    for right now. Supervisors: their team's cases (metadata views). For
    both, restricted cases (closed or rejected and no longer reopenable,
    `restricted_q`) are gone. Auditors and data-protection officers: their
    Träger's cases, read-only, the restricted ones included. Everyone
    else: none.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    cases = Case.objects.all()
    archive = Q(status=CaseStatus.DELETED) | restricted_q(today=timezone.localdate(now))
    if user.role == Role.INTEGRATION_MANAGER:
        # One IN over the user and the managers they deputise for: with
        # `owner = user OR owner IN (grants)` PostgreSQL read every case
        # instead of the (owner, status) index (`make bench`, workspace).
        owners = deputy_principals(user=user, now=now).union(
            User.objects.filter(pk=user.pk).values("pk"), all=True
        )
        return cases.filter(owner_id__in=owners).exclude(archive)
    if user.role == Role.SUPERVISOR and user.team_id is not None:
        return cases.filter(owner__team_id=user.team_id).exclude(archive)
    if user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER) and user.traeger_id:
        return cases.filter(traeger_id=user.traeger_id)
    return Case.objects.none()


def case_is_visible_to(*, user: Any, case: Case, now: datetime) -> bool:
    """Return whether `case` is among `cases_visible_to(user)`.

    The owner's own open case is decided without a query (the hot path of
    every write); every other relation and state asks `cases_visible_to`
    itself, so the rules exist once.
    """
    if (
        user.role == Role.INTEGRATION_MANAGER
        and user.is_active
        and case.owner_id == user.pk
        and case.status in OPEN_STATES
    ):
        return True
    return cases_visible_to(user=user, now=now).filter(pk=case.pk).exists()


def case_relations(*, user: User | None, case: Case, now: datetime) -> frozenset[str]:
    """Return how `user` stands to `case` (OWNER, DEPUTY, SUPERVISOR, ...).

    Call only with a case obtained through `cases_visible_to`.
    """
    if user is None:
        return frozenset({SYSTEM})
    relations: set[str] = set()
    if user.role == Role.INTEGRATION_MANAGER:
        if case.owner_id == user.pk:
            relations.add(OWNER)
        elif case.owner_id in deputy_principal_ids(user=user, now=now):
            relations.add(DEPUTY)
    elif user.role == Role.SUPERVISOR:
        relations.add(SUPERVISOR)
    elif user.role == Role.AUDITOR:
        relations.add(AUDITOR)
    elif user.role == Role.DATA_PROTECTION_OFFICER:
        relations.add(DPO)
    return frozenset(relations)


MAX_PK = 2**63 - 1


def parse_pk(value: Any) -> int | None:
    """Return `value` as a primary key, or None unless it is one.

    Only plain ASCII digits count: "+1", " 1", "0_1" or Arabic-Indic digits
    would otherwise all name object 1 through int().
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_PK else None


def case_get_for_user(
    *,
    user: Any,
    case_id: Any,
    now: datetime,
    view: str,
    readers: frozenset[str] | None = None,
) -> Case:
    """Return the case if `user` may see it, and log the read.

    Raises CaseNotFound when the case does not exist or is not visible: the
    caller cannot tell the two apart. With `readers`, raises Forbidden
    (before anything is logged) unless the user stands to the case in one
    of these relations.
    """
    case_pk = parse_pk(case_id)
    if case_pk is None:
        raise case_not_found()
    case = (
        cases_visible_to(user=user, now=now)
        .select_related("person", "owner", "closure_reason")
        .filter(pk=case_pk)
        .first()
    )
    if case is None:
        raise case_not_found()
    if readers is not None and not case_relations(user=user, case=case, now=now) & readers:
        raise Forbidden(_("Your role may not see the content of this case."))
    read_access_record(user=user, case_id=case.pk, view=view, now=now)
    return case


def case_list_for_user(*, user: Any, now: datetime) -> QuerySet[Case]:
    """Return the visible cases for list pages, most urgent end first."""
    return (
        cases_visible_to(user=user, now=now).select_related("owner").order_by("effective_end", "pk")
    )


def extension_requests_to_decide(*, user: Any, now: datetime) -> QuerySet[Any]:
    """Return submitted requests of the supervisor's team, oldest first,
    without the supervisor's own requests (four eyes)."""
    from cases.models import ExtensionRequest, ExtensionStatus

    if user.role != Role.SUPERVISOR:
        return ExtensionRequest.objects.none()
    return (
        ExtensionRequest.objects.filter(
            case__in=cases_visible_to(user=user, now=now), status=ExtensionStatus.SUBMITTED
        )
        .exclude(requested_by=user)
        .select_related("reason", "case")
        .order_by("submitted_at", "pk")
    )


def extension_requests_visible_to(*, user: Any, now: datetime) -> QuerySet[Any]:
    """Return the extension requests of the cases `user` may see."""
    from cases.models import ExtensionRequest

    return ExtensionRequest.objects.filter(case__in=cases_visible_to(user=user, now=now))


def network_contacts_of(*, user: Any) -> QuerySet[Any]:
    """Return the caller's own network contacts, newest first."""
    from cases.models import NetworkContact

    return NetworkContact.objects.filter(manager=user).order_by("-contact_date", "-pk")


def content_case_ids(
    *, user: Any, cases: list[Case], now: datetime, principals: list[int] | None = None
) -> set[int]:
    """Return the ids among `cases` whose content `user` may read (owner or
    current deputy, and not restricted), with at most one query for the
    deputies (none when the caller passes the `deputy_principal_ids` it
    already read) and one for the closure reasons that end reopening (only
    when the list holds a closed case still in its period)."""
    if user.role != Role.INTEGRATION_MANAGER or not user.is_active:
        return set()
    foreign_owners = {case.owner_id for case in cases if case.owner_id != user.pk}
    if principals is None:
        principals = deputy_principal_ids(user=user, now=now) if foreign_owners else []
    readable = {user.pk, *principals}
    today = timezone.localdate(now)
    not_reopenable: set[int] = set()
    if any(
        case.status == CaseStatus.CLOSED
        and case.closure_reason_id is not None
        and case.effective_end is not None
        and case.effective_end >= today
        for case in cases
    ):
        not_reopenable = set(_not_reopenable_reason_ids().values_list("pk", flat=True))
    return {
        case.pk
        for case in cases
        if case.status != CaseStatus.DELETED
        and case.owner_id in readable
        and not case_is_restricted(case=case, now=now, not_reopenable=not_reopenable)
    }


# --- the case page and the quick entry (reads of one visible case) ----------
#
# Call these only with a case obtained through `case_get_for_user`: they do
# not check access again and log nothing themselves.

# How many consultations the case page lists before "show all".
CONSULTATIONS_SHOWN = 20
# Consultations of the last year decide which forms and topics come first.
USAGE_DAYS = 365


@dataclass(frozen=True)
class CaseClock:
    """The consultation period of DOMAIN.md §14.1 as of `today`."""

    start: date | None
    regular_end: date | None
    effective_end: date | None
    today: date
    running: bool
    # The case has not started its own period: these are the person's,
    # carried over from an earlier case or known from elsewhere.
    carried_over: bool = False

    @property
    def days_left(self) -> int | None:
        """Days from today to the effective end (0: ends today; negative:
        ended that many days ago)."""
        if self.effective_end is None:
            return None
        return (self.effective_end - self.today).days

    @property
    def days_ago(self) -> int | None:
        left = self.days_left
        return -left if left is not None and left < 0 else None

    @property
    def extended(self) -> bool:
        return (
            self.effective_end is not None
            and self.regular_end is not None
            and self.effective_end > self.regular_end
        )


def case_clock(*, case: Case, now: datetime) -> CaseClock:
    """Return the case's consultation clock at `now` (no query once the
    case's period started; before, the person's clock, if it runs)."""
    if case.consultation_start is None:
        today = timezone.localdate(now)
        person = person_clock(person=case.person_id, today=today)
        if person.started:
            return CaseClock(
                start=person.start,
                regular_end=person.regular_end,
                effective_end=person.effective_end,
                today=today,
                running=True,
                carried_over=True,
            )
    return CaseClock(
        start=case.consultation_start,
        regular_end=case.regular_end,
        effective_end=case.effective_end,
        today=timezone.localdate(now),
        running=case.status in CLOCK_STATES,
    )


@dataclass(frozen=True)
class CaseFile:
    """Everything the case page shows of one case, loaded in a fixed
    number of queries whatever the number of consultations or goals."""

    person: Person
    members: list[HouseholdMembership]
    plan: IntegrationPlan | None
    goals: list[Goal]
    consultations: list[Consultation]
    more_consultations: bool
    referrals: list[Referral]
    documents: list[Document]
    consents: list[Consent]
    extension_requests: list[ExtensionRequest]


def household_members(*, case: Case) -> list[HouseholdMembership]:
    """Return the memberships of the case's household with their persons,
    the contact person first (empty without a household)."""
    if case.household_id is None:
        return []
    order = {relation: index for index, relation in enumerate(HouseholdMembership.Relation.values)}
    members = list(
        HouseholdMembership.objects.filter(household_id=case.household_id).select_related(
            "person", "household"
        )
    )
    members.sort(key=lambda m: (order.get(m.relation, len(order)), m.person_id))
    return members


def plan_for_case(
    *, case: Case, plans: Sequence[IntegrationPlan] | None = None
) -> tuple[IntegrationPlan | None, list[Goal]]:
    """Return the case's current Integrationsplan (the latest version that
    was not superseded) and its goals with field of action and steps.
    `plans`: every plan of the case, when the caller has them loaded."""
    passed = (IntegrationPlan.Status.SUPERSEDED, IntegrationPlan.Status.REVISION)
    if plans is not None:
        current = [row for row in plans if row.status not in passed]
        plan = max(current, key=lambda row: row.version, default=None)
    else:
        plan = (
            IntegrationPlan.objects.filter(case_id=case.pk)
            .exclude(status__in=list(passed))
            .order_by("-version")
            .first()
        )
    if plan is None:
        return None, []
    goals = list(
        Goal.objects.filter(plan=plan)
        .select_related("field_of_action")
        .prefetch_related(Prefetch("measures", queryset=Measure.objects.order_by("pk")))
        .order_by("priority", "pk")
    )
    return plan, goals


def case_consultations(*, case_id: int) -> QuerySet[Consultation]:
    """The consultations of a case with what their rows show (form,
    setting, who recorded, topics, participants): for the case page and
    the chronology (`cases.chronology`), which hands its rows to the page."""
    return (
        Consultation.objects.filter(case_id=case_id)
        .select_related("form", "setting", "recorded_by")
        .prefetch_related(
            Prefetch("topics", queryset=CatalogueEntry.objects.order_by("order", "key")),
            Prefetch("participants", queryset=Person.objects.order_by("pk")),
        )
    )


def case_file(
    *,
    case: Case,
    consultations: int | None = CONSULTATIONS_SHOWN,
    plans: Sequence[IntegrationPlan] | None = None,
    known: Mapping[str, Sequence[Any]] | None = None,
) -> CaseFile:
    """Return the content of the case page (`consultations`: how many of
    the latest to list, None for all; `plans`: every plan of the case, if
    already loaded; `known`: every consultation, referral and document of
    the case by kind, if already loaded: the chronology's rows, read with
    the same related rows)."""
    person = Person.objects.select_related(
        "gemeinde", "residence_status", "benefit_status", "accommodation_stage"
    ).get(pk=case.person_id)
    plan, goals = plan_for_case(case=case, plans=plans)
    known = known or {}
    if "consultation" in known:
        newest = sorted(known["consultation"], key=lambda c: (c.held_on, c.pk), reverse=True)
        listed = newest if consultations is None else newest[: consultations + 1]
    else:
        rows = case_consultations(case_id=case.pk).order_by("-held_on", "-pk")
        # One row more than shown tells whether there are more, without a count.
        listed = list(rows if consultations is None else rows[: consultations + 1])
    more = consultations is not None and len(listed) > consultations
    return CaseFile(
        person=person,
        members=household_members(case=case),
        plan=plan,
        goals=goals,
        consultations=listed[:consultations] if more else listed,
        more_consultations=more,
        referrals=sorted(known["referral"], key=lambda r: (r.referred_on, r.pk), reverse=True)
        if "referral" in known
        else list(
            Referral.objects.filter(case_id=case.pk)
            .select_related("target_service", "topic")
            .order_by("-referred_on", "-pk")
        ),
        documents=sorted(known["document"], key=lambda d: (d.uploaded_at, d.pk), reverse=True)
        if "document" in known
        else list(Document.objects.filter(case_id=case.pk).order_by("-uploaded_at", "-pk")),
        consents=list(
            Consent.objects.filter(
                Q(case_id=case.pk) | Q(person_id=case.person_id, case__isnull=True)
            ).order_by("-given_at", "-pk")
        ),
        extension_requests=list(
            ExtensionRequest.objects.filter(case_id=case.pk)
            .select_related("reason")
            .order_by("-created_at", "-pk")
        ),
    )


@dataclass(frozen=True)
class ConsultationChoices:
    """Forms and topics valid on a day, the most used first, and the
    duration the user records most often."""

    forms: list[CatalogueEntry]
    topics: list[CatalogueEntry]
    usual_minutes: int | None


def consultation_choices_for(*, user: Any, day: date) -> ConsultationChoices:
    """Return the consultation forms and topics valid on `day`, ranked by
    how often `user` chose them in the last year, then how often their
    team did, then catalogue order (four queries)."""
    since = day - timedelta(days=USAGE_DAYS)
    own = Q(recorded_by_id=user.pk)
    scope = Consultation.objects.filter(held_on__gte=since, held_on__lte=day)
    scope = scope.filter(recorded_by__team_id=user.team_id) if user.team_id else scope.filter(own)
    form_use = {
        row["form_id"]: (row["own"], row["team"])
        for row in scope.values("form_id").annotate(own=Count("pk", filter=own), team=Count("pk"))
    }
    topic_rows = (
        Consultation.topics.through.objects.filter(consultation__in=scope.values("pk"))
        .values("catalogueentry_id")
        .annotate(own=Count("pk", filter=Q(consultation__recorded_by_id=user.pk)), team=Count("pk"))
    )
    topic_use = {row["catalogueentry_id"]: (row["own"], row["team"]) for row in topic_rows}
    usual = (
        scope.filter(own)
        .values("duration_minutes")
        .annotate(n=Count("pk"))
        .order_by("-n", "duration_minutes")
        .first()
    )
    entries = [
        entry
        for entry in CatalogueEntry.objects.filter(
            catalogue__in=[Catalogue.CONSULTATION_FORM, Catalogue.CONSULTATION_TOPIC]
        )
        if entry.is_valid_on(day)
    ]

    def ranked(catalogue: str, use: dict[int, tuple[int, int]]) -> list[CatalogueEntry]:
        chosen = [entry for entry in entries if entry.catalogue == catalogue]
        return sorted(
            chosen,
            key=lambda e: (-use.get(e.pk, (0, 0))[0], -use.get(e.pk, (0, 0))[1], e.order, e.key),
        )

    return ConsultationChoices(
        forms=ranked(Catalogue.CONSULTATION_FORM, form_use),
        topics=ranked(Catalogue.CONSULTATION_TOPIC, topic_use),
        usual_minutes=usual["duration_minutes"] if usual else None,
    )


def extension_request_offered(*, case: Case, now: datetime) -> bool:
    """Whether the case page offers an extension request: the clock runs,
    the regular period has not ended, the effective end lies within
    `LOTSE_EXTENSION_REQUEST_MONTHS` months, and no request is open or
    approved (one query at most). The service checks every rule again."""
    today = timezone.localdate(now)
    if case.status not in CLOCK_STATES or case.regular_end is None or case.effective_end is None:
        return False
    if today > case.regular_end:
        return False
    if case.effective_end > add_months(today, settings.LOTSE_EXTENSION_REQUEST_MONTHS):
        return False
    return not ExtensionRequest.objects.filter(
        case=case,
        status__in=[ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED, ExtensionStatus.APPROVED],
    ).exists()


def extension_reasons_on(*, day: date) -> list[CatalogueEntry]:
    """The extension reasons valid on `day`, in catalogue order."""
    entries = CatalogueEntry.objects.filter(catalogue=Catalogue.EXTENSION_REASON)
    return [entry for entry in entries.order_by("order", "key") if entry.is_valid_on(day)]


def transfer_consent_active(*, person_id: int, now: datetime) -> Consent | None:
    """The person's latest consent to a transfer to a recipient that is in
    force at `now` (for a transfer to another Träger or installation)."""
    consents = Consent.objects.filter(
        person_id=person_id,
        scope=Consent.Scope.TRANSFER_TO_RECIPIENT,
        withdrawn_at__isnull=True,
        given_at__lte=now,
    ).order_by("-given_at", "-pk")
    return next((c for c in consents if c.is_active_at(now)), None)
