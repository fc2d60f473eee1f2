"""What every case service shares: the audit event, the case row lock, the
conditional state write and a few reads of the case's current plan and consent.

`_audit` is the one place a case service writes its audit event (and so the
seam where tests watch every transition: `cases.services.base.audit_event_record`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection

from accounts.models import User
from audit.services import SYSTEM_ROLE, Preceding, audit_event_record
from cases import history
from cases.errors import (
    MESSAGES,
    ConcurrentChange,
    TransitionForbidden,
    guard,
)
from cases.fastpaths import case_update_sql, fsm_state_saved, select_case_for_update
from cases.models import (
    FINAL_GOAL_STATES,
    OPEN_STATES,
    Case,
    Consent,
    Consultation,
    Goal,
    IntegrationPlan,
)
from cases.selectors import (
    DEPUTY,
    OWNER,
    case_is_visible_to,
    case_not_found,
    case_relations,
    parse_pk,
)


def _actor_role(actor: User | None) -> str:
    return SYSTEM_ROLE if actor is None else actor.role


def _audit_record(**kwargs: Any) -> Any:
    """Write one audit event: every case service writes through here."""
    return audit_event_record(**kwargs)


def _audit(
    *,
    case: Case,
    actor: User | None,
    now: datetime,
    event_type: str,
    obj: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    transition_name: str = "",
    from_state: str = "",
    to_state: str = "",
    saved: Preceding | None = None,
    hold: bool = False,
) -> None:
    """Append the service's one audit event; with `saved` (a state write
    `_save` deferred), send that write in the event's statement first and
    check it as `_save` would. `hold`: inside `audit.services.held_events()`
    the event (and `saved`) may wait for the flow restart's write to carry
    them (`case_transition`)."""
    target = obj if obj is not None else case
    changes = history.drain()
    if changes:
        data = {**(data or {}), "changes": changes}
    _audit_record(
        event_type=event_type,
        actor=actor,
        actor_role=_actor_role(actor),
        now=now,
        object_type=target._meta.model_name,
        object_id=target.pk,
        case_id=case.pk,
        transition=transition_name,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        # Every caller holds the case row lock (or created the case in this
        # transaction), which serialises the case's chain.
        chain_locked=True,
        **(
            {"preceding": saved, "written": lambda: _saved(case, saved.rows)}
            if saved is not None
            else {}
        ),
        **({"hold": True} if hold else {}),
    )


def _lock_case(*, case: Case | int, actor: User | None, now: datetime) -> Case:
    """Return the case row locked for this transaction; 404 if not visible."""
    case_pk = case.pk if isinstance(case, Case) else case
    history.begin()
    number = parse_pk(case_pk)
    locked = None if number is None else select_case_for_update(number)
    # The lock comes first so that visibility is judged on the locked row.
    if locked is None or (
        actor is not None and not case_is_visible_to(user=actor, case=locked, now=now)
    ):
        raise case_not_found()
    if isinstance(case, Case) and case.status != locked.status:
        # The caller decided on a state that is no longer true.
        raise ConcurrentChange(MESSAGES["concurrent_change"])
    return locked


def _require(relations: frozenset[str], allowed: Iterable[str]) -> None:
    if not relations & set(allowed):
        raise TransitionForbidden(MESSAGES["forbidden"])


def _save(
    obj: Any, fields: Iterable[str], *, expected_status: str, defer: bool = False
) -> Preceding | None:
    """Write `fields` of a state-machine row with one conditional UPDATE.

    This is the only write of a `status` in Lotse. It makes the check of
    django-fsm-2's ConcurrentTransitionMixin (`WHERE status = <the state the
    transition started from>`) explicit, without `save()`'s machinery on
    the hottest path (see `make bench`). No row updated means another
    transaction moved the row first.

    With `defer` (a case, when nothing reads or writes the case's rows
    before its audit event), return the UPDATE unsent instead on
    PostgreSQL: `_audit` sends it in the event's own statement and checks
    it (`audit.services.Preceding`).
    """
    values = {name: getattr(obj, name) for name in fields}
    if defer and isinstance(obj, Case) and connection.vendor == "postgresql":
        sql, params = case_update_sql(obj.pk, values, expected_status=expected_status)
        return Preceding(sql, params)
    updated = type(obj)._base_manager.filter(pk=obj.pk, status=expected_status).update(**values)
    _saved(obj, updated)
    return None


def _saved(obj: Any, updated: int | None) -> None:
    if updated != 1:
        raise ConcurrentChange(MESSAGES["concurrent_change"])
    fsm_state_saved(obj)


def _plan_set_status(plan: IntegrationPlan, status: str, **fields: Any) -> None:
    """Write a plan's status (and fields) with one UPDATE.

    Statuses are never assigned as attributes, so a lint can forbid that.
    """
    history.update_rows(IntegrationPlan.objects.filter(pk=plan.pk), status=status, **fields)


def _goal_set_status(goal: Goal, status: str, *, now: datetime) -> None:
    closed_at = now if status in FINAL_GOAL_STATES else None
    history.update_rows(Goal.objects.filter(pk=goal.pk), status=status, closed_at=closed_at)


def _current_plan(case: Case) -> IntegrationPlan | None:
    return (
        IntegrationPlan.objects.filter(case=case, status__in=["DRAFT", "AGREED"])
        .order_by("-version")
        .first()
    )


def _active_consent(case: Case, scope: str, now: datetime) -> bool:
    consents = Consent.objects.filter(
        person_id=case.person_id, scope=scope, withdrawn_at__isnull=True, given_at__lte=now
    )
    return any(c.is_active_at(now) for c in consents)


_RECORDED_AFTER_SQL = (
    f"SELECT EXISTS (SELECT 1 FROM {Consultation._meta.db_table}"  # noqa: S608 - our own table
    " WHERE case_id = %s AND status = %s AND recorded_at > %s)"
)


def _consultation_recorded_after(case: Case, moment: datetime) -> bool:
    """A completed consultation recorded after `moment` (the guard of
    resume and reopen): one plain statement, since it runs in the guided
    resume step, which `make bench` measures against a bare viewflow step."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORDED_AFTER_SQL,
            [
                case.pk,
                Consultation.Status.COMPLETED.value,
                connection.ops.adapt_datetimefield_value(moment),
            ],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _case_for_write(
    *, case: Case | int, actor: User | None, now: datetime, who: Iterable[str]
) -> Case:
    locked = _lock_case(case=case.pk if isinstance(case, Case) else case, actor=actor, now=now)
    _require(case_relations(user=actor, case=locked, now=now), who)
    return locked


def _require_open(case: Case) -> None:
    if case.status not in OPEN_STATES:
        raise guard("case_not_open")


CONTENT_WRITERS = (OWNER, DEPUTY)


def _editable_plan(case: Case) -> IntegrationPlan:
    plan = _current_plan(case)
    if plan is None:
        raise guard("no_current_plan")
    return plan
