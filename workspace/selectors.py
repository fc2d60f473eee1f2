"""Reads of the workspace: case lists, the team list and the dashboards.

Every case row comes through `cases_visible_to`; what it does not return
does not exist here either. Each page costs a fixed number of queries
whatever the number of cases: filters, counts and aggregates run in the
database, a page is a count and one LIMIT/OFFSET query (a name search:
the manager's candidates, then the page), and nothing is read per row.
Client names leave the database only for the integration manager's own
and deputised cases (`content_case_ids`, as on the start page and in the
API); the supervisor's lists select no person at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from accounts.models import Gemeinde, Role, User
from accounts.selectors import deputy_principal_ids, deputy_principals
from cases.models import (
    CLOCK_STATES,
    OPEN_STATES,
    Case,
    CaseStatus,
    ExtensionRequest,
    ExtensionStatus,
)
from cases.selectors import (
    cases_visible_to,
    content_case_ids,
    extension_requests_to_decide,
)
from handover.models import Handover, HandoverStatus
from handover.selectors import handovers_visible_to
from notifications.models import Notification
from notifications.selectors import notifications_of

PAGE_SIZE = 25
# Offset paging stops here (10,000 rows): past it the filters narrow faster
# than paging, and the database need not skip ever more sorted rows.
MAX_PAGES = 400
DASHBOARD_ROWS = 10
DASHBOARD_NOTIFICATIONS = 5
ENDING_DAYS = (30, 90)

# Filter values (the form offers them; the selectors trust only these).
STATUS_OPEN = "OPEN"
STATUS_ALL = "ALL"
REVIEW_DUE = "due"
REVIEW_OVERDUE = "overdue"
SORT_DEADLINE = "deadline"
SORT_DEADLINE_DESC = "-deadline"
SORT_NUMBER = "number"
SORT_NUMBER_DESC = "-number"
CASE_NUMBER = re.compile(r"#?([0-9]{1,18})")


# --- folding names for the search -------------------------------------------


# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i", "ħ": "h"}
)
# Müller, Mueller and Muller are one name (as in the handover's duplicate
# check, `handover.selectors.name_key`).
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def fold_text(text: str) -> str:
    """Return `text` as the name search compares it: lower case, accents and
    umlauts folded to the base letter, ae/oe/ue as a/o/u."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    text = "".join(char for char in text if not unicodedata.combining(char))
    for old, new in _DIGRAPHS:
        text = text.replace(old, new)
    return text


# --- the list filters ---------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    """What a case list is narrowed to; empty values filter nothing."""

    status: str = STATUS_OPEN  # a CaseStatus value, STATUS_OPEN or STATUS_ALL
    review: str = ""  # REVIEW_DUE or REVIEW_OVERDUE
    ending: int | None = None  # period ends within this many days
    gemeinde: int | None = None
    owner: int | None = None
    q: str = ""
    sort: str = SORT_DEADLINE


def next_deadline() -> Any:
    """The case's next deadline: the plan review of an active case or the
    end of a running consultation period, whichever comes first.

    Least() of two NULL-able dates is NULL on SQLite as soon as one is NULL,
    so each side falls back to the other.
    """
    review = SqlCase(
        When(status=CaseStatus.ACTIVE, then=F("next_review_at")),
        default=None,
        output_field=DateField(),
    )
    end = SqlCase(
        When(status__in=CLOCK_STATES, then=F("effective_end")),
        default=None,
        output_field=DateField(),
    )
    return Least(Coalesce(review, end), Coalesce(end, review), output_field=DateField())


def _q(prefix: str, **lookups: Any) -> Q:
    return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})


def review_due_q(today: date, prefix: str = "") -> Q:
    """Plan review within the reminder window (as the reminders count it)."""
    notice = today + timedelta(days=settings.LOTSE_REVIEW_REMINDER_DAYS)
    return _q(
        prefix, status=CaseStatus.ACTIVE, next_review_at__gte=today, next_review_at__lte=notice
    )


def review_overdue_q(today: date, prefix: str = "") -> Q:
    return _q(prefix, status=CaseStatus.ACTIVE, next_review_at__lt=today)


def ending_q(today: date, days: int, prefix: str = "") -> Q:
    """The running consultation period ends within `days` days."""
    return _q(
        prefix,
        status__in=CLOCK_STATES,
        effective_end__gte=today,
        effective_end__lte=today + timedelta(days=days),
    )


def _filtered(cases: QuerySet[Case], *, filters: CaseFilters, today: date) -> QuerySet[Case]:
    """Narrow `cases` by every filter except the search."""
    if filters.status == STATUS_OPEN:
        cases = cases.filter(status__in=OPEN_STATES)
    elif filters.status != STATUS_ALL:
        cases = cases.filter(status=filters.status)
    if filters.review == REVIEW_DUE:
        cases = cases.filter(review_due_q(today))
    elif filters.review == REVIEW_OVERDUE:
        cases = cases.filter(review_overdue_q(today))
    if filters.ending is not None:
        cases = cases.filter(ending_q(today, filters.ending))
    if filters.gemeinde is not None:
        cases = cases.filter(gemeinde_id=filters.gemeinde)
    if filters.owner is not None:
        cases = cases.filter(owner_id=filters.owner)
    return cases


def _matches(terms: list[str], pk: int, family_name: str, given_names: str) -> bool:
    """Whether every search term names the case: its number, or a part of
    the person's name after folding both (Müller = Mueller = muller)."""
    name = fold_text(f"{family_name} {given_names}")
    for term in terms:
        number = CASE_NUMBER.fullmatch(term)
        if not ((number and int(number[1]) == pk) or fold_text(term) in name):
            return False
    return True


def _sorted(cases: QuerySet[Case], sort: str) -> QuerySet[Case]:
    if sort == SORT_DEADLINE_DESC:
        return cases.order_by(F("deadline").desc(nulls_last=True), "-pk")
    if sort == SORT_NUMBER:
        return cases.order_by("pk")
    if sort == SORT_NUMBER_DESC:
        return cases.order_by("-pk")
    return cases.order_by(F("deadline").asc(nulls_last=True), "pk")


@dataclass
class CasePage:
    """One page of a case list."""

    rows: list[Case]
    number: int
    pages: int
    total: int
    capped: bool  # more cases match than can be paged
    content_ids: set[int] = field(default_factory=set)

    @property
    def first_row(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return (self.number - 1) * PAGE_SIZE + len(self.rows)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def _page(cases: QuerySet[Case], *, page: int) -> CasePage:
    """Count, then read one page (two queries); a page past the end shows
    the last one."""
    total = cases.count()
    pages = max(1, min(MAX_PAGES, -(-total // PAGE_SIZE)))
    number = min(max(page, 1), pages)
    start = (number - 1) * PAGE_SIZE
    rows = list(cases[start : start + PAGE_SIZE])
    return CasePage(
        rows=rows, number=number, pages=pages, total=total, capped=total > MAX_PAGES * PAGE_SIZE
    )


def _page_searched(cases: QuerySet[Case], *, terms: list[str], page: int) -> CasePage:
    """Search the names of `cases` (one manager's, so a few hundred at most)
    in Python, then read the page (two queries, as `_page`).

    Folding the names in SQL instead made PostgreSQL fold every person of
    every Träger before it looked at the owner (3 s for 200,000 persons in
    `make bench`); here only the manager's own candidates are folded, with
    the same `fold_text` as the search term on every database.
    """
    candidates = cases.values_list("pk", "person__family_name", "person__given_names")
    matching = [pk for pk, family, given in candidates if _matches(terms, pk, family, given)]
    total = len(matching)
    pages = max(1, min(MAX_PAGES, -(-total // PAGE_SIZE)))
    number = min(max(page, 1), pages)
    shown = matching[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    by_pk = {case.pk: case for case in cases.filter(pk__in=shown)} if shown else {}
    return CasePage(
        rows=[by_pk[pk] for pk in shown],
        number=number,
        pages=pages,
        total=total,
        capped=total > MAX_PAGES * PAGE_SIZE,
    )


def _readable(*, user: Any, now: datetime) -> Any:
    """Whether `user` may read the case's content, computed in the row query
    (the rule of `content_case_ids`: own, or deputised right now, and not
    deleted) so that a page needs no query for it."""
    if user.role != Role.INTEGRATION_MANAGER or not user.is_active:
        return Value(False, output_field=BooleanField())
    return SqlCase(
        When(
            (Q(owner_id=user.pk) | Q(owner_id__in=deputy_principals(user=user, now=now)))
            & ~Q(status=CaseStatus.DELETED),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def manager_case_page(*, user: Any, now: datetime, filters: CaseFilters, page: int) -> CasePage:
    """Return one page of the integration manager's own and deputised cases,
    with the ids whose client names the user may read (`content_ids`)."""
    today = timezone.localdate(now)
    cases = _filtered(cases_visible_to(user=user, now=now), filters=filters, today=today)
    cases = _sorted(
        cases.select_related("person", "gemeinde", "owner").annotate(
            deadline=next_deadline(), readable=_readable(user=user, now=now)
        ),
        filters.sort,
    )
    terms = filters.q.split()
    result = _page_searched(cases, terms=terms, page=page) if terms else _page(cases, page=page)
    result.content_ids = {case.pk for case in result.rows if case.readable}
    return result


def team_case_page(*, user: Any, now: datetime, filters: CaseFilters, page: int) -> CasePage:
    """Return one page of the supervisor's team's open cases, metadata only
    (no person is read), each with whether an extension request waits."""
    today = timezone.localdate(now)
    cases = cases_visible_to(user=user, now=now).filter(status__in=OPEN_STATES)
    cases = _filtered(cases, filters=filters, today=today)
    for term in filters.q.split():  # case numbers only (the form refuses names)
        number = CASE_NUMBER.fullmatch(term)
        cases = cases.filter(pk=int(number[1])) if number else cases.none()
    waiting = ExtensionRequest.objects.filter(
        case_id=OuterRef("pk"), status=ExtensionStatus.SUBMITTED
    )
    cases = (
        cases.select_related("gemeinde", "owner")
        .only(
            "id",
            "status",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "gemeinde__name",
            "next_review_at",
            "effective_end",
            "regular_end",
        )
        .annotate(deadline=next_deadline(), extension_waiting=Exists(waiting))
    )
    return _page(_sorted(cases, filters.sort), page=page)


def gemeinde_choices(*, user: Any) -> list[tuple[int, str]]:
    """The Gemeinden the user's Träger serves, by name (one query)."""
    if not user.traeger_id:
        return []
    return list(
        Gemeinde.objects.filter(traeger=user.traeger_id)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


# --- caseload of a team -------------------------------------------------------


def team_caseload(*, user: Any, now: datetime) -> list[User]:
    """Return the supervisor's team's integration managers with their
    caseload: open cases, reviews due and overdue, periods ending within 90
    days and extension requests waiting for `user`'s decision (one query).
    Former members are listed while they hold open cases.
    """
    if user.role != Role.SUPERVISOR or user.team_id is None:
        return []
    today = timezone.localdate(now)
    on = "owned_cases__"
    # A case has at most one open request, so counting the cases with a
    # request waiting counts the requests; the subquery is not correlated,
    # so PostgreSQL runs it once (as a hashed subplan), not per case.
    waiting = extension_requests_to_decide(user=user, now=now).order_by().values("case_id")
    return list(
        User.objects.filter(team_id=user.team_id, role=Role.INTEGRATION_MANAGER)
        .annotate(
            open_cases=Count("owned_cases", filter=_q(on, status__in=OPEN_STATES)),
            reviews_due=Count("owned_cases", filter=review_due_q(today, on)),
            reviews_overdue=Count("owned_cases", filter=review_overdue_q(today, on)),
            ending_soon=Count("owned_cases", filter=ending_q(today, ENDING_DAYS[-1], on)),
            approvals_waiting=Count("owned_cases", filter=Q(owned_cases__in=waiting)),
        )
        .filter(Q(is_active=True) | Q(open_cases__gt=0))
        .order_by("last_name", "first_name", "username")
    )


def caseload_totals(caseload: list[User]) -> dict[str, int]:
    keys = ("open_cases", "reviews_due", "reviews_overdue", "ending_soon", "approvals_waiting")
    return {key: sum(getattr(manager, key) for manager in caseload) for key in keys}


# --- dashboards -----------------------------------------------------------------


@dataclass
class ManagerDay:
    tasks: list[Any]
    task_count: int
    reviews: list[Case]
    ending: list[Case]
    counts: dict[str, int]
    handovers: list[Handover]
    notifications: list[Notification]
    content_ids: set[int]


def _case_counts(cases: QuerySet[Case], today: date) -> dict[str, int]:
    return cases.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATES)),
        reviews_due=Count("pk", filter=review_due_q(today)),
        reviews_overdue=Count("pk", filter=review_overdue_q(today)),
        ending_30=Count("pk", filter=ending_q(today, ENDING_DAYS[0])),
        ending_90=Count("pk", filter=ending_q(today, ENDING_DAYS[1])),
    )


def recent_handovers(*, user: Any) -> list[Handover]:
    """The newest handovers waiting for the Gemeinden of the user's Träger."""
    return list(
        handovers_visible_to(user=user)
        .filter(status=HandoverStatus.SUBMITTED)
        .select_related("gemeinde")
        .annotate(persons=Count("members", distinct=True))
        .order_by("-submitted_at", "-pk")[:DASHBOARD_ROWS]
    )


def unread_notifications(*, user: Any) -> list[Notification]:
    return list(notifications_of(user=user).filter(read_at__isnull=True)[:DASHBOARD_NOTIFICATIONS])


def manager_day(*, user: Any, now: datetime) -> ManagerDay:
    """Return the integration manager's day: open guided tasks (soonest due
    first), plan reviews due or overdue, periods ending within 90 days, the
    newest handovers for their Gemeinden and unread notifications."""
    from workflows.selectors import inbox_for

    today = timezone.localdate(now)
    principals = deputy_principal_ids(user=user, now=now)
    tasks = inbox_for(user=user, now=now)
    cases = cases_visible_to(user=user, now=now)
    reviews = list(
        cases.filter(
            status=CaseStatus.ACTIVE,
            next_review_at__lte=today + timedelta(days=settings.LOTSE_REVIEW_REMINDER_DAYS),
        )
        .select_related("person")
        .order_by("next_review_at", "pk")[:DASHBOARD_ROWS]
    )
    ending = list(
        cases.filter(ending_q(today, ENDING_DAYS[-1]))
        .select_related("person")
        .order_by("effective_end", "pk")[:DASHBOARD_ROWS]
    )
    for case in ending:
        case.days_left = (case.effective_end - today).days
    shown = [row.case for row in tasks[:DASHBOARD_ROWS]] + reviews + ending
    return ManagerDay(
        tasks=tasks[:DASHBOARD_ROWS],
        task_count=len(tasks),
        reviews=reviews,
        ending=ending,
        counts=_case_counts(cases, today),
        handovers=recent_handovers(user=user),
        notifications=unread_notifications(user=user),
        content_ids=content_case_ids(user=user, cases=shown, now=now, principals=principals),
    )


@dataclass
class TeamView:
    caseload: list[User]
    totals: dict[str, int]
    overdue: list[Case]
    approvals: list[ExtensionRequest]
    notifications: list[Notification]


def team_view(*, user: Any, now: datetime) -> TeamView:
    """Return the supervisor's team view: caseload per manager, the most
    overdue plan reviews (metadata only) and the extension requests waiting
    for the supervisor's decision (never their own)."""
    today = timezone.localdate(now)
    caseload = team_caseload(user=user, now=now)
    totals = caseload_totals(caseload)
    overdue = list(
        cases_visible_to(user=user, now=now)
        .filter(review_overdue_q(today))
        .select_related("owner", "gemeinde")
        .only(
            "id",
            "status",
            "next_review_at",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "gemeinde__name",
        )
        .order_by("next_review_at", "pk")[:DASHBOARD_ROWS]
    )
    approvals = list(
        extension_requests_to_decide(user=user, now=now)
        .select_related("case__owner")
        .only(
            "id",
            "status",
            "months",
            "submitted_at",
            "reason__label_de",
            "reason__label_en",
            "case__id",
            "case__status",
            "case__owner__username",
            "case__owner__first_name",
            "case__owner__last_name",
        )[:DASHBOARD_ROWS]
    )
    return TeamView(
        caseload=caseload,
        totals=totals,
        overdue=overdue,
        approvals=approvals,
        notifications=unread_notifications(user=user),
    )
