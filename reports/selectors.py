"""Reads of the Kennzahlen (DOMAIN.md §7, §14.3) and the caseload overview.

Every figure is one SQL aggregation over the case data (no loop over cases
in Python); a report is 17 queries whatever the size of the unit (one
resolves the unit: a Kreis to its Träger, a team to its managers). K1, K2
and K2b read the report copies of the case's Träger and Gemeinde (and the
consultation's date and status) on consultations and their links, through
covering indexes (cases.models._ConsultationLink; `make bench`).
Units roll up through the case: its owner (the integration manager's
sheet), the owner's team, the case's Träger, its Gemeinde, the Träger's
Kreis, the whole Land. Persons are counted as distinct person ids inside
the unit, so a person counselled by two managers counts once for each
manager and once in every roll-up.

Who may see which unit (decided here, 404 otherwise):
- an integration manager: their own sheet;
- a supervisor: their team and the sheets of its managers;
- an auditor or data-protection officer: their Träger, its teams and managers;
- the koordinierende Stelle (coordinator) of a Kreis: the Kreis, its
  Träger, their teams and the Kreis's Gemeinden, never a manager's sheet
  (its name is a person's) and never a case;
- an administrator: every unit.
Coordinators and administrators see aggregates only, with small cells (1
or 2) of the breakdowns suppressed (`None`), since in a small Gemeinde a
closure reason "deceased" or an extension reason "disability" counted
once may point to a person. Roles that see the cases' metadata anyway
(manager, supervisor, auditor) get the exact figures.
- everyone else: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DateField,
    F,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, Kreis, Role, Team, Traeger, User
from audit.services import report_read_record
from cases.models import (
    CLOCK_STATES,
    OPEN_STATES,
    Case,
    CaseStatus,
    Catalogue,
    CatalogueEntry,
    Consultation,
    ConsultationParticipant,
    ConsultationTopic,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    GoalCatalogueEntry,
    GoalStatus,
    IntegrationPlan,
    NetworkContact,
    PlanReview,
    Referral,
)
from config.errors import NotFound
from reports.models import ReportSnapshot, UnitKind
from reports.needs import needs_change_rows

# What a report read is logged as (audit.models.ReportRead.report).
KENNZAHLEN = "kennzahlen"
CASELOAD = "caseload"
TOP_N = 5
SMALL_CELL = 3  # breakdown cells below this (and above 0) are suppressed where noted
REPORT_GROUPS = (
    ("regular_service", _("Regeldienste")),
    ("counselling_service", _("Beratungsstellen")),
    ("other", _("Sonstige")),
)
OTHER_GOALS = "other"  # the key of K4's line of free-worded goals per field of action
OTHER_GOALS_LABEL = "sonstige Ziele (frei formuliert)"
OFFICIAL_FORMS = (
    ("aufsuchend", _("aufsuchend")),
    ("buero", _("im Büro")),
    ("begleitung", _("Begleitung")),
    ("sonstige", _("sonstige")),
)


class UnitNotFound(NotFound):
    default_code = "unit_not_found"


@dataclass(frozen=True)
class Unit:
    kind: str
    pk: int  # 0 for the Land
    label: str


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def bounds(self) -> tuple[datetime, datetime]:
        """Return [start, end) as aware datetimes in the project's zone."""
        zone = ZoneInfo(settings.TIME_ZONE)
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )


# --- units and access ---------------------------------------------------------------


def _unit_model(kind: str) -> Any:
    return {
        UnitKind.MANAGER: User,
        UnitKind.TEAM: Team,
        UnitKind.TRAEGER: Traeger,
        UnitKind.GEMEINDE: Gemeinde,
        UnitKind.KREIS: Kreis,
    }[kind]


def _label(kind: str, obj: Any) -> str:
    if kind == UnitKind.MANAGER:
        return obj.get_full_name() or obj.username
    return obj.name


def report_units_visible_to(*, user: Any) -> dict[str, QuerySet[Any] | None]:
    """Return, per unit kind, the units `user` may see (None: the kind is
    not open to the user; the Land has no queryset: `True` in `land`)."""
    none: dict[str, Any] = {kind: None for kind in UnitKind.values}
    if user is None or not user.is_authenticated or not user.is_active:
        return none
    managers = User.objects.filter(role=Role.INTEGRATION_MANAGER)
    if user.role == Role.INTEGRATION_MANAGER:
        return {**none, UnitKind.MANAGER: managers.filter(pk=user.pk)}
    if user.role == Role.SUPERVISOR and user.team_id is not None:
        return {
            **none,
            UnitKind.MANAGER: managers.filter(team_id=user.team_id),
            UnitKind.TEAM: Team.objects.filter(pk=user.team_id),
        }
    if user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER) and user.traeger_id:
        return {
            **none,
            UnitKind.MANAGER: managers.filter(team__traeger_id=user.traeger_id),
            UnitKind.TEAM: Team.objects.filter(traeger_id=user.traeger_id),
            UnitKind.TRAEGER: Traeger.objects.filter(pk=user.traeger_id),
        }
    if user.role == Role.COORDINATOR and user.kreis_id:
        return {
            **none,
            UnitKind.TEAM: Team.objects.filter(traeger__kreis_id=user.kreis_id),
            UnitKind.TRAEGER: Traeger.objects.filter(kreis_id=user.kreis_id),
            UnitKind.GEMEINDE: Gemeinde.objects.filter(kreis_id=user.kreis_id),
            UnitKind.KREIS: Kreis.objects.filter(pk=user.kreis_id),
        }
    if user.role == Role.ADMINISTRATOR:
        return {
            UnitKind.MANAGER: managers,
            UnitKind.TEAM: Team.objects.all(),
            UnitKind.TRAEGER: Traeger.objects.all(),
            UnitKind.GEMEINDE: Gemeinde.objects.all(),
            UnitKind.KREIS: Kreis.objects.all(),
            UnitKind.LAND: True,
        }
    return none


def report_suppresses_small_cells(*, user: Any) -> bool:
    """Whether `user` sees the figures with small cells suppressed."""
    return user.role in (Role.ADMINISTRATOR, Role.COORDINATOR)


def report_default_unit(*, user: Any) -> tuple[str, int] | None:
    """Return the unit a user's report page opens with, or None."""
    if user.role == Role.INTEGRATION_MANAGER:
        return UnitKind.MANAGER, user.pk
    if user.role == Role.SUPERVISOR and user.team_id:
        return UnitKind.TEAM, user.team_id
    if user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER) and user.traeger_id:
        return UnitKind.TRAEGER, user.traeger_id
    if user.role == Role.COORDINATOR and user.kreis_id:
        return UnitKind.KREIS, user.kreis_id
    if user.role == Role.ADMINISTRATOR:
        return UnitKind.LAND, 0
    return None


def report_unit_get(*, user: Any, kind: str, pk: int | None) -> Unit:
    """Return the unit if `user` may see it; UnitNotFound otherwise (404:
    the caller cannot tell a foreign unit from a missing one)."""
    missing = UnitNotFound(_("This organisation unit does not exist."))
    visible = report_units_visible_to(user=user).get(kind)
    if visible is None:
        raise missing
    if kind == UnitKind.LAND:
        return Unit(UnitKind.LAND, 0, str(_("Land (all Kreise)")))
    obj = visible.filter(pk=pk).first() if pk else None
    if obj is None:
        raise missing
    return Unit(kind, obj.pk, _label(kind, obj))


def report_unit_choices(*, user: Any) -> list[tuple[str, int, str]]:
    """Return (kind, pk, label) of every unit `user` may see, for a picker."""
    choices: list[tuple[str, int, str]] = []
    for kind, units in report_units_visible_to(user=user).items():
        if units is None:
            continue
        if kind == UnitKind.LAND:
            choices.append((kind, 0, str(_("Land (all Kreise)"))))
            continue
        for obj in units.order_by("pk")[:2000]:
            choices.append((kind, obj.pk, _label(kind, obj)))
    return choices


# --- scope filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """A unit resolved once into the ids every figure filters by.

    A Kreis becomes its Träger, a team its managers: one small query here
    instead of a subquery in each of the report's statements, and literal
    ids give PostgreSQL the row estimates to choose index scans.
    """

    owner_ids: tuple[int, ...] | None = None  # a manager's sheet, a team
    traeger_ids: tuple[int, ...] | None = None  # a Träger, a Kreis
    gemeinde_id: int | None = None  # a Gemeinde

    def cases(self, prefix: str = "") -> Q:
        """The unit as a filter on the case (reached through `prefix`)."""
        if self.owner_ids is not None:
            return Q(**{f"{prefix}owner_id__in": self.owner_ids})
        if self.traeger_ids is not None:
            return Q(**{f"{prefix}traeger_id__in": self.traeger_ids})
        if self.gemeinde_id is not None:
            return Q(**{f"{prefix}gemeinde_id": self.gemeinde_id})
        return Q()

    def consultations(self) -> Q:
        """The unit as a filter on consultations (or their topic and
        participant links) through their copies of the case's Träger and
        Gemeinde; a manager or a team through the case."""
        if self.owner_ids is not None:
            return self.cases("case__")
        if self.traeger_ids is not None:
            return Q(traeger_id__in=self.traeger_ids)
        if self.gemeinde_id is not None:
            return Q(gemeinde_id=self.gemeinde_id)
        return Q()

    def links(self, *, start: date, end: date) -> Q:
        """The unit's completed consultations in [start, end] as a filter
        on their topic and participant links: on the links' own copies, or
        for a manager or a team through the consultation (whose (case,
        date) index narrows the few cases to the period) and its case."""
        completed = Consultation.Status.COMPLETED
        if self.owner_ids is not None:
            return self.cases("consultation__case__") & Q(
                consultation__held_on__range=(start, end), consultation__status=completed
            )
        return self.consultations() & Q(held_on__range=(start, end), status=completed)

    def contacts(self) -> Q | None:
        """The unit as a filter on network contacts (by the manager who
        made them); None where contacts have no place (a Gemeinde)."""
        if self.owner_ids is not None:
            return Q(manager_id__in=self.owner_ids)
        if self.traeger_ids is not None:
            return Q(manager__traeger_id__in=self.traeger_ids)
        if self.gemeinde_id is not None:
            return None
        return Q()


def _scope(unit: Unit) -> _Scope:
    match unit.kind:
        case UnitKind.MANAGER:
            return _Scope(owner_ids=(unit.pk,))
        case UnitKind.TEAM:
            members = User.objects.filter(team_id=unit.pk).order_by("pk")
            return _Scope(owner_ids=tuple(members.values_list("pk", flat=True)))
        case UnitKind.TRAEGER:
            return _Scope(traeger_ids=(unit.pk,))
        case UnitKind.GEMEINDE:
            return _Scope(gemeinde_id=unit.pk)
        case UnitKind.KREIS:
            traeger = Traeger.objects.filter(kreis_id=unit.pk).order_by("pk")
            return _Scope(traeger_ids=tuple(traeger.values_list("pk", flat=True)))
    return _Scope()


# --- the figures -----------------------------------------------------------------------


REPORTED_CATALOGUES = (
    Catalogue.CONSULTATION_FORM,
    Catalogue.CONSULTATION_SETTING,
    Catalogue.CONSULTATION_TOPIC,
    Catalogue.FIELD_OF_ACTION,
    Catalogue.REFERRAL_TARGET,
    Catalogue.NETWORK_CONTACT_CATEGORY,
    Catalogue.EXTENSION_REASON,
    Catalogue.CLOSURE_REASON,
)


def _catalogues() -> dict[str, list[CatalogueEntry]]:
    """The entries of every catalogue a report breaks down by, in
    catalogue order (one query)."""
    entries: dict[str, list[CatalogueEntry]] = {name: [] for name in REPORTED_CATALOGUES}
    for entry in CatalogueEntry.objects.filter(catalogue__in=REPORTED_CATALOGUES).order_by(
        "catalogue", "order", "pk"
    ):
        entries[entry.catalogue].append(entry)
    return entries


def _breakdown(
    entries: list[CatalogueEntry], counts: dict[int, int], *, total: int | None = None
) -> list[dict[str, Any]]:
    """Counts per catalogue entry in catalogue order; entries no longer in
    use appear only when they were counted."""
    rows = []
    for entry in entries:
        count = counts.get(entry.pk, 0)
        if not entry.is_active and not count:
            continue
        row: dict[str, Any] = {"key": entry.key, "label": entry.label_de, "count": count}
        if total is not None:
            row["share"] = round(count / total, 4) if total else None
        rows.append(row)
    return rows


def _goal_breakdown(
    fields: list[CatalogueEntry], counts: dict[tuple[int, int | None], int], *, total: int
) -> list[dict[str, Any]]:
    """K4 as the Land's sheet counts it: per field of action (in catalogue
    order) a row per goal of the goal catalogue, then one row "other" for
    the goals worded freely. A field without catalogue goals and without
    goals is left out; retired entries appear only when they were counted."""
    by_field: dict[int, list[GoalCatalogueEntry]] = {}
    for goal in GoalCatalogueEntry.objects.order_by("order", "key"):
        by_field.setdefault(goal.field_of_action_id, []).append(goal)
    known = {(field_id, goal.pk) for field_id, goals in by_field.items() for goal in goals}
    rows: list[dict[str, Any]] = []

    def row(key: str, label: str, field: CatalogueEntry, count: int) -> dict[str, Any]:
        return {
            "key": key,
            "label": label,
            "field_of_action": field.key,
            "field_label": field.label_de,
            "count": count,
            "share": round(count / total, 4) if total else None,
        }

    for field in fields:
        goals = by_field.get(field.pk, [])
        # A goal counted under another field than its entry's (the entry
        # was moved) is counted as worded freely there: the sum stays K4.
        other = sum(
            n
            for (field_id, goal_id), n in counts.items()
            if field_id == field.pk and (goal_id is None or (field_id, goal_id) not in known)
        )
        field_total = sum(n for (field_id, _goal), n in counts.items() if field_id == field.pk)
        if not goals and not field_total:
            continue
        if not field.is_active and not field_total:
            continue
        for goal in goals:
            count = counts.get((field.pk, goal.pk), 0)
            if goal.is_active or count:
                rows.append(row(goal.key, goal.label_de, field, count))
        rows.append(row(OTHER_GOALS, OTHER_GOALS_LABEL, field, other))
    return rows


def _top(rows: list[dict[str, Any]], n: int = TOP_N) -> list[dict[str, Any]]:
    """Top-n by count, ties in catalogue order (`sorted` is stable)."""
    return [row for row in sorted(rows, key=lambda r: -r["count"]) if row["count"]][:n]


def _choice_rows(choices: Any, counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"key": value, "label": str(label), "count": counts.get(value, 0)}
        for value, label in choices
    ]


def _median(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how often}."""
    n = sum(histogram.values())
    if not n:
        return None
    wanted, seen, found = {(n - 1) // 2, n // 2}, 0, []
    for value in sorted(histogram):
        low, seen = seen, seen + histogram[value]
        found.extend(value for rank in sorted(wanted) if low <= rank < seen)
    return sum(found) / len(found)


def kennzahlen_compute(*, unit: Unit, period: Period) -> dict[str, Any]:
    """Return K1-K9 (DOMAIN.md §14.3) of `unit` in `period`, JSON-ready.

    Consultations count only when `completed`; no-shows and cancellations
    are reported apart (K2x) and never make a person "counselled".
    """
    start, end = period.start, period.end
    moment_from, moment_to = period.bounds()
    unit_scope = _scope(unit)
    scope = unit_scope.cases("case__")
    completed = Consultation.Status.COMPLETED

    # K2, K2x, K2a, K2c, K2d: one grouped pass over the unit's consultations
    # of the period (a few hundred groups; durations are whole minutes, so
    # their histogram gives the exact median without sorting the rows).
    consultations = Consultation.objects.filter(
        unit_scope.consultations(), held_on__range=(start, end)
    )
    by_status: dict[str, int] = {}
    by_form: dict[int, int] = {}
    by_setting: dict[int, int] = {}
    minutes: dict[int, int] = {}
    for status, form_id, setting_id, duration, n in (
        consultations.order_by()
        .values("status", "form_id", "setting_id", "duration_minutes")
        .annotate(n=Count("*"))
        .values_list("status", "form_id", "setting_id", "duration_minutes", "n")
    ):
        by_status[status] = by_status.get(status, 0) + n
        if status == completed:
            by_form[form_id] = by_form.get(form_id, 0) + n
            by_setting[setting_id] = by_setting.get(setting_id, 0) + n
            minutes[duration] = minutes.get(duration, 0) + n
    k2 = by_status.get(completed, 0)

    # K2b: topics of the completed consultations, and K1: their distinct
    # participants; both from the links' own copies of date, status, Träger
    # and Gemeinde (one covering index each, no join but for a manager or
    # team: cases.models._ConsultationLink).
    links = unit_scope.links(start=start, end=end)
    by_topic = dict(
        ConsultationTopic.objects.filter(links)
        .order_by()
        .values("catalogueentry_id")
        .annotate(n=Count("*"))
        .values_list("catalogueentry_id", "n")
    )
    k1 = (
        ConsultationParticipant.objects.filter(links)
        .order_by()
        .aggregate(n=Count("person_id", distinct=True))["n"]
    )

    cases = Case.objects.filter(unit_scope.cases())
    # K1a: persons whose consultation period began in P.
    k1a = cases.filter(consultation_start__range=(start, end)).aggregate(
        n=Count("person_id", distinct=True)
    )["n"]

    # K3, K3a: first agreements and reviews in P.
    k3 = IntegrationPlan.objects.filter(
        scope, version=1, agreed_at__gte=moment_from, agreed_at__lt=moment_to
    ).count()
    k3a = PlanReview.objects.filter(
        unit_scope.cases("plan__case__"), reviewed_on__range=(start, end)
    ).count()

    # K3b, K3c, K9: cases open on the last day of P, in one pass by status.
    open_at_end = cases.filter(
        Q(consultation_start__lte=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=moment_to))
    ).exclude(status=CaseStatus.REJECTED)
    by_state: dict[str, int] = {}
    due_plan = ending_soon = 0
    for status, n, due, ending in (
        open_at_end.order_by()
        .values("status")
        .annotate(
            n=Count("*"),
            due=Count("pk", filter=Q(consultation_start__lte=end - timedelta(weeks=8))),
            ending=Count(
                "pk",
                filter=Q(effective_end__isnull=False, effective_end__lt=end + timedelta(days=183)),
            ),
        )
        .values_list("status", "n", "due", "ending")
    ):
        by_state[status] = n
        due_plan, ending_soon = due_plan + due, ending_soon + ending
    # A semi-join (not a correlated EXISTS per case): PostgreSQL hashes the
    # plans for the Land and probes them by case for a small unit.
    with_plan = (
        open_at_end.filter(
            pk__in=IntegrationPlan.objects.filter(agreed_at__lt=moment_to).values("case_id")
        )
        .order_by()
        .aggregate(n=Count("person_id", distinct=True))["n"]
    )

    # K4, K4a: goals; copies carried into a newer plan version count once
    # (only goals of a plan version that is not superseded).
    goals = Goal.objects.filter(
        unit_scope.cases("plan__case__"), cancelled_at__isnull=True
    ).exclude(plan__status__in=[IntegrationPlan.Status.SUPERSEDED, IntegrationPlan.Status.REVISION])
    # By field of action and catalogue goal (None: worded freely) at once.
    by_field: dict[int, int] = {}
    by_goal: dict[tuple[int, int | None], int] = {}
    for field_id, goal_id, n in (
        goals.filter(agreed_at__gte=moment_from, agreed_at__lt=moment_to)
        .order_by()
        .values("field_of_action_id", "catalogue_goal_id")
        .annotate(n=Count("pk"))
        .values_list("field_of_action_id", "catalogue_goal_id", "n")
    ):
        by_field[field_id] = by_field.get(field_id, 0) + n
        by_goal[(field_id, goal_id)] = by_goal.get((field_id, goal_id), 0) + n
    by_outcome = dict(
        goals.filter(closed_at__gte=moment_from, closed_at__lt=moment_to)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )

    # K5: referrals by target (groups follow the catalogue's report_group).
    referral_rows = list(
        Referral.objects.filter(scope, referred_on__range=(start, end), cancelled_at__isnull=True)
        .order_by()
        .values("target_service_id")
        .annotate(
            n=Count("pk"),
            taken=Count("pk", filter=Q(outcome=Referral.Outcome.TAKEN_UP)),
            known=Count(
                "pk",
                filter=Q(outcome__in=[Referral.Outcome.TAKEN_UP, Referral.Outcome.NOT_TAKEN_UP]),
            ),
        )
    )
    by_target = {row["target_service_id"]: row["n"] for row in referral_rows}
    taken = sum(row["taken"] for row in referral_rows)
    known = sum(row["known"] for row in referral_rows)

    # K6: network contacts of the unit's managers.
    contact_scope = unit_scope.contacts()
    by_category: dict[int, int] = {}
    by_format: dict[str, int] = {}
    if contact_scope is not None:
        for row in (
            NetworkContact.objects.filter(
                contact_scope, contact_date__range=(start, end), cancelled_at__isnull=True
            )
            .order_by()
            .values("category_id", "format")
            .annotate(n=Count("pk"))
        ):
            by_category[row["category_id"]] = by_category.get(row["category_id"], 0) + row["n"]
            by_format[row["format"]] = by_format.get(row["format"], 0) + row["n"]

    # K7: extension requests decided in P.
    by_reason: dict[int, int] = {}
    by_decision: dict[str, int] = {}
    for row in (
        ExtensionRequest.objects.filter(
            scope,
            status__in=[ExtensionStatus.APPROVED, ExtensionStatus.REJECTED],
            decided_at__gte=moment_from,
            decided_at__lt=moment_to,
        )
        .order_by()
        .values("status", "reason_id")
        .annotate(n=Count("pk"))
    ):
        by_reason[row["reason_id"]] = by_reason.get(row["reason_id"], 0) + row["n"]
        by_decision[row["status"]] = by_decision.get(row["status"], 0) + row["n"]

    # K8: closures in P by reason, with the mean case duration.
    closure_rows = list(
        cases.filter(closed_at__gte=moment_from, closed_at__lt=moment_to)
        .order_by()
        .values("closure_reason_id")
        .annotate(
            n=Count("pk"),
            days=Avg(
                Cast("closed_at", DateField()) - F("consultation_start"),
                filter=Q(consultation_start__isnull=False),
            ),
        )
    )
    by_closure = {row["closure_reason_id"]: row["n"] for row in closure_rows}
    k8 = sum(by_closure.values())
    weighted = [(row["days"], row["n"]) for row in closure_rows if row["days"] is not None]
    k8_days = (
        round(sum(_days(d) * n for d, n in weighted) / sum(n for _, n in weighted), 1)
        if weighted
        else None
    )

    catalogues = _catalogues()
    forms = catalogues[Catalogue.CONSULTATION_FORM]
    form_rows = _breakdown(forms, by_form)
    official = {key: 0 for key, _label in OFFICIAL_FORMS}
    for entry in forms:
        slot = entry.official_mapping if entry.official_mapping in official else "sonstige"
        official[slot] += by_form.get(entry.pk, 0)
    topic_rows = _breakdown(catalogues[Catalogue.CONSULTATION_TOPIC], by_topic)
    k4 = sum(by_field.values())
    field_rows = _breakdown(catalogues[Catalogue.FIELD_OF_ACTION], by_field, total=k4)
    goal_rows = _goal_breakdown(catalogues[Catalogue.FIELD_OF_ACTION], by_goal, total=k4)
    targets = catalogues[Catalogue.REFERRAL_TARGET]
    groups = {key: 0 for key, _label in REPORT_GROUPS}
    for entry in targets:
        groups[entry.report_group if entry.report_group in groups else "other"] += by_target.get(
            entry.pk, 0
        )
    k5 = sum(by_target.values())
    return {
        "unit": {"kind": unit.kind, "id": unit.pk, "label": unit.label},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "k1_persons": k1,
        "k1a_new_persons": k1a,
        "k2_consultations": k2,
        "k2x_no_show": by_status.get(Consultation.Status.NO_SHOW, 0),
        "k2x_cancelled": by_status.get(Consultation.Status.CANCELLED, 0),
        "k2a_by_form": form_rows,
        "k2a_by_official_form": [
            {"key": key, "label": str(label), "count": official[key]}
            for key, label in OFFICIAL_FORMS
        ],
        "k2b_by_topic": topic_rows,
        "k2b_top_topics": _top(topic_rows),
        "k2c_by_setting": _breakdown(catalogues[Catalogue.CONSULTATION_SETTING], by_setting),
        "k2d_minutes_total": sum(d * n for d, n in minutes.items()),
        "k2d_minutes_median": _median(minutes),
        "k3_plans": k3,
        "k3a_reviews": k3a,
        "k3b_persons_with_plan": with_plan,
        "k3c_plan_rate": round(with_plan / due_plan, 4) if due_plan else None,
        "k4_goals": k4,
        "k4_by_field": field_rows,
        "k4_top_goals": _top(field_rows),
        "k4_by_goal": goal_rows,
        "k4_top_catalogue_goals": _top([row for row in goal_rows if row["key"] != OTHER_GOALS]),
        "k4a_goal_outcomes": _choice_rows(
            [(s.value, s.label) for s in FINAL_GOAL_OUTCOMES], by_outcome
        ),
        "k5_referrals": k5,
        "k5_by_group": [
            {"key": key, "label": str(label), "count": groups[key]} for key, label in REPORT_GROUPS
        ],
        "k5_by_target": _breakdown(targets, by_target),
        "k5a_taken_up_share": round(taken / known, 4) if known else None,
        "k6_network_contacts": sum(by_category.values()) if contact_scope is not None else None,
        "k6_by_category": _breakdown(catalogues[Catalogue.NETWORK_CONTACT_CATEGORY], by_category)
        if contact_scope is not None
        else [],
        "k6_by_format": _choice_rows(NetworkContact.Format.choices, by_format)
        if contact_scope is not None
        else [],
        "k7_extensions": sum(by_decision.values()),
        "k7_by_decision": _choice_rows(
            [
                (ExtensionStatus.APPROVED.value, ExtensionStatus.APPROVED.label),
                (ExtensionStatus.REJECTED.value, ExtensionStatus.REJECTED.label),
            ],
            by_decision,
        ),
        "k7_by_reason": _breakdown(catalogues[Catalogue.EXTENSION_REASON], by_reason),
        "k8_closures": k8,
        "k8_by_reason": _breakdown(catalogues[Catalogue.CLOSURE_REASON], by_closure),
        "k8_mean_duration_days": k8_days,
        "k9_open_cases": sum(by_state.values()),
        "k9_by_status": _choice_rows(
            [(s.value, s.label) for s in OPEN_STATES], {k: v for k, v in by_state.items()}
        ),
        "k9_ending_within_6_months": ending_soon,
        # K10 (issue 20): the change of need since the first assessment.
        "k10_needs_change": needs_change_rows(
            cases=unit_scope.cases("assessment__case__"),
            start=start,
            end=end,
            fields=catalogues[Catalogue.FIELD_OF_ACTION],
        ),
    }


# The totals compared year on year (seed 000: "eine Entwicklung aufzeigen").
DEVELOPMENT_FIGURES = (
    "k1_persons",
    "k2_consultations",
    "k3_plans",
    "k4_goals",
    "k5_referrals",
    "k6_network_contacts",
)
DEVELOPMENT_YEARS = 3


def kennzahlen_development(
    *, unit: Unit, last_year: int, years: int = DEVELOPMENT_YEARS
) -> list[dict[str, Any]]:
    """The main totals of `unit` per calendar year, `years` years up to
    `last_year` (oldest first): a year frozen for the unit is read from its
    snapshot, the others are counted now, one grouped query per figure
    (at most eight queries whatever the number of years)."""
    first = last_year - years + 1
    start, end = date(first, 1, 1), date(last_year, 12, 31)
    moment_from, moment_to = Period(start, end).bounds()
    unit_scope = _scope(unit)
    scope = unit_scope.cases("case__")
    zone = ZoneInfo(settings.TIME_ZONE)
    rows: dict[int, dict[str, Any]] = {
        year: {"year": year, "frozen": False, **dict.fromkeys(DEVELOPMENT_FIGURES, 0)}
        for year in range(first, last_year + 1)
    }

    def put(name: str, pairs: Any) -> None:
        for year, n in pairs:
            if year in rows:
                rows[year][name] = n

    completed = Consultation.Status.COMPLETED
    put(
        "k2_consultations",
        Consultation.objects.filter(
            unit_scope.consultations(), held_on__range=(start, end), status=completed
        )
        .order_by()
        .annotate(year=ExtractYear("held_on"))
        .values("year")
        .annotate(n=Count("*"))
        .values_list("year", "n"),
    )
    put(
        "k1_persons",
        ConsultationParticipant.objects.filter(unit_scope.links(start=start, end=end))
        .order_by()
        .annotate(year=ExtractYear("held_on"))
        .values("year")
        .annotate(n=Count("person_id", distinct=True))
        .values_list("year", "n"),
    )
    put(
        "k3_plans",
        IntegrationPlan.objects.filter(
            scope, version=1, agreed_at__gte=moment_from, agreed_at__lt=moment_to
        )
        .order_by()
        .annotate(year=ExtractYear("agreed_at", tzinfo=zone))
        .values("year")
        .annotate(n=Count("pk"))
        .values_list("year", "n"),
    )
    put(
        "k4_goals",
        Goal.objects.filter(
            unit_scope.cases("plan__case__"), agreed_at__gte=moment_from, agreed_at__lt=moment_to
        )
        .exclude(plan__status=IntegrationPlan.Status.SUPERSEDED)
        .order_by()
        .annotate(year=ExtractYear("agreed_at", tzinfo=zone))
        .values("year")
        .annotate(n=Count("pk"))
        .values_list("year", "n"),
    )
    put(
        "k5_referrals",
        Referral.objects.filter(scope, referred_on__range=(start, end))
        .order_by()
        .annotate(year=ExtractYear("referred_on"))
        .values("year")
        .annotate(n=Count("pk"))
        .values_list("year", "n"),
    )
    contact_scope = unit_scope.contacts()
    if contact_scope is None:
        for row in rows.values():
            row["k6_network_contacts"] = None
    else:
        put(
            "k6_network_contacts",
            NetworkContact.objects.filter(contact_scope, contact_date__range=(start, end))
            .order_by()
            .annotate(year=ExtractYear("contact_date"))
            .values("year")
            .annotate(n=Count("pk"))
            .values_list("year", "n"),
        )
    for snapshot in ReportSnapshot.objects.filter(
        unit_kind=unit.kind, unit_id=unit.pk, period_from__gte=start, period_to__lte=end
    ).only("period_from", "period_to", "figures"):
        year = snapshot.period_from.year
        if snapshot.period_from == date(year, 1, 1) and snapshot.period_to == date(year, 12, 31):
            frozen = snapshot.figures
            rows[year] |= {name: frozen.get(name) for name in DEVELOPMENT_FIGURES}
            rows[year]["frozen"] = True
    return list(rows.values())


def kennzahlen_development_suppress_small_cells(
    rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The development with every count of 1 or 2 as None (see
    `kennzahlen_suppress_small_cells`)."""
    return [
        {
            key: None if key in DEVELOPMENT_FIGURES and _small(value) else value
            for key, value in row.items()
        }
        for row in rows
    ]


FINAL_GOAL_OUTCOMES = (
    GoalStatus.ACHIEVED,
    GoalStatus.PARTIALLY_ACHIEVED,
    GoalStatus.NOT_ACHIEVED,
    GoalStatus.DROPPED,
)


def _days(value: Any) -> float:
    """A mean date difference as days (a timedelta, or days on some backends)."""
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    return float(value)


# Derived figures that would give a suppressed count away: suppressed
# together with the count they are computed from.
DERIVED_FROM = {
    "k2d_minutes_total": "k2_consultations",
    "k2d_minutes_median": "k2_consultations",
    "k3c_plan_rate": "k3b_persons_with_plan",
    "k5a_taken_up_share": "k5_referrals",
    "k8_mean_duration_days": "k8_closures",
}


def _is_kennzahl(name: str) -> bool:
    return len(name) > 1 and name[0] == "k" and name[1].isdigit()


def _small(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL_CELL


def kennzahlen_suppress_small_cells(figures: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `figures` with every count of 1 or 2 as None.

    One rule over every Kennzahl (every key `k<digit>...`): a total of 1 or
    2, a breakdown row's count of 1 or 2 (and its share), and a derived
    figure (median, mean, rate) of a suppressed count. Zero stays: an empty
    cell points to nobody. `suppressed_fields` names the suppressed totals
    and derived figures, so the page and the files show "<3" for them.
    """
    out = dict(figures)
    suppressed: list[str] = []
    for name, value in figures.items():
        if not _is_kennzahl(name):
            continue
        if isinstance(value, list):
            out[name] = [
                {
                    **row,
                    "count": None if _small(row.get("count")) else row.get("count"),
                    **({"share": None} if "share" in row and _small(row.get("count")) else {}),
                }
                for row in value
            ]
        elif _small(value):
            out[name] = None
            suppressed.append(name)
    for name, base in DERIVED_FROM.items():
        if base in suppressed and out.get(name) is not None:
            out[name] = None
            suppressed.append(name)
    out["small_cells_suppressed"] = True
    out["suppressed_fields"] = suppressed
    return out


def kennzahlen_cells(figures: dict[str, Any]) -> dict[str, Any]:
    """The page's text for each Kennzahl total: the number, "<3" where it
    is suppressed, "–" where there is none."""
    suppressed = set(figures.get("suppressed_fields", ()))
    return {
        name: "<3" if name in suppressed else ("–" if value is None else value)
        for name, value in figures.items()
        if _is_kennzahl(name) and not isinstance(value, list)
    }


def kennzahlen_for_user(
    *, user: Any, unit: Unit, period: Period, view: str, now: datetime
) -> dict[str, Any]:
    """Return the unit's figures, and log the read (who, which unit and
    period, through `view`): the frozen snapshot of exactly this period if
    there is one, else computed now; small cells suppressed for roles
    without access to the cases' metadata. `development` compares the main
    totals with the previous years (`kennzahlen_development`, not frozen
    with the figures: each year reads its own snapshot).

    Call only with a unit from `report_unit_get` (the access check).
    """
    snapshot = (
        ReportSnapshot.objects.filter(
            unit_kind=unit.kind, unit_id=unit.pk, period_from=period.start, period_to=period.end
        )
        .only("figures", "frozen_at")
        .first()
    )
    if snapshot is not None:
        figures = {
            **snapshot.figures,
            "frozen": True,
            "frozen_at": timezone.localtime(snapshot.frozen_at).isoformat(),
        }
    else:
        figures = {**kennzahlen_compute(unit=unit, period=period), "frozen": False}
    development = kennzahlen_development(unit=unit, last_year=period.end.year)
    report_read_record(
        user=user,
        report=KENNZAHLEN,
        scope=(unit.kind, unit.pk),
        period=(period.start, period.end),
        view=view,
        now=now,
    )
    if report_suppresses_small_cells(user=user):
        return {
            **kennzahlen_suppress_small_cells(figures),
            "development": kennzahlen_development_suppress_small_cells(development),
        }
    return {**figures, "development": development}


# --- caseload and deadline overview -----------------------------------------------------


def overview_teams_visible_to(*, user: Any) -> QuerySet[Team]:
    """Teams whose caseload `user` may see: a supervisor their own, an
    auditor or DPO their Träger's, a coordinator their Kreis's, an
    administrator all."""
    if user.role == Role.SUPERVISOR and user.team_id:
        return Team.objects.filter(pk=user.team_id)
    if user.role in (Role.AUDITOR, Role.DATA_PROTECTION_OFFICER) and user.traeger_id:
        return Team.objects.filter(traeger_id=user.traeger_id)
    if user.role == Role.COORDINATOR and user.kreis_id:
        return Team.objects.filter(traeger__kreis_id=user.kreis_id)
    if user.role == Role.ADMINISTRATOR:
        return Team.objects.all()
    return Team.objects.none()


def _overview_scope(user: Any) -> tuple[str, int]:
    """The unit whose teams `user`'s caseload overview shows."""
    if user.role == Role.SUPERVISOR:
        return UnitKind.TEAM, user.team_id
    if user.role == Role.COORDINATOR:
        return UnitKind.KREIS, user.kreis_id
    if user.role == Role.ADMINISTRATOR:
        return UnitKind.LAND, 0
    return UnitKind.TRAEGER, user.traeger_id


def caseload_overview(*, user: Any, now: datetime, view: str) -> list[dict[str, Any]]:
    """Per visible team: open cases by status, reviews overdue, periods
    ending in the next 90 days, open extension requests (three queries);
    the read is logged (scope and day, through `view`) when there is a
    team to show."""
    today = timezone.localdate(now)
    teams = list(overview_teams_visible_to(user=user).select_related("traeger").order_by("pk"))
    if not teams:
        return []
    report_read_record(
        user=user,
        report=CASELOAD,
        scope=_overview_scope(user),
        period=(today, today),
        view=view,
        now=now,
    )
    team_ids = [team.pk for team in teams]
    rows = {
        team.pk: {
            "team": team,
            "by_status": dict.fromkeys(OPEN_STATES, 0),
            "open": 0,
            "reviews_overdue": 0,
            "ending_90_days": 0,
            "open_extension_requests": 0,
        }
        for team in teams
    }
    open_cases = Case.objects.filter(owner__team_id__in=team_ids, status__in=OPEN_STATES)
    for row in (
        open_cases.order_by()
        .values("owner__team_id", "status")
        .annotate(n=Count("pk"))
        .values_list("owner__team_id", "status", "n")
    ):
        team_row = rows[row[0]]
        team_row["by_status"][row[1]] = row[2]
        team_row["open"] += row[2]
    for team_id, overdue, ending in (
        open_cases.order_by()
        .values("owner__team_id")
        .annotate(
            overdue=Count("pk", filter=Q(status=CaseStatus.ACTIVE, next_review_at__lt=today)),
            ending=Count(
                "pk",
                filter=Q(
                    status__in=CLOCK_STATES,
                    effective_end__gte=today,
                    effective_end__lte=today + timedelta(days=90),
                ),
            ),
        )
        .values_list("owner__team_id", "overdue", "ending")
    ):
        rows[team_id]["reviews_overdue"] = overdue
        rows[team_id]["ending_90_days"] = ending
    for team_id, n in (
        ExtensionRequest.objects.filter(
            case__owner__team_id__in=team_ids,
            status__in=[ExtensionStatus.DRAFT, ExtensionStatus.SUBMITTED],
        )
        .order_by()
        .values("case__owner__team_id")
        .annotate(n=Count("pk"))
        .values_list("case__owner__team_id", "n")
    ):
        rows[team_id]["open_extension_requests"] = n
    return list(rows.values())
