"""Deadline sweeps: the system transitions whose deadline has passed
(`period_expired`, `no_show_timeout`, `no_contact_timeout`), one case per
transaction through `case_transition`.

The Celery beat task (`notifications.tasks.deadline_sweeps_task`) runs them
through `notifications.services.deadline_sweep`, which adds what belongs to
the outbox: publishing held back until the sweep ends, and an incident for
a case that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Q, Value
from django.db.models.functions import Cast

from cases.clock import add_months, local_date, start_of_day
from cases.errors import ConcurrentChange, GuardFailed, TransitionNotAvailable
from cases.models import CLOCK_STATES, Case, CaseStatus, Consultation
from cases.services.transitions import case_transition

# The logger of the sweeps before they moved here (log filters may name it).
logger = logging.getLogger("notifications.services")


SWEEPS = ("period_expired", "no_show_timeout", "no_contact_timeout")


def _due(name: str, now: datetime) -> Q:
    """The cases that may be due for sweep `name` at `now` (a superset is
    harmless: the transition's own guard decides, under the case lock)."""
    today = local_date(now)
    if name == "period_expired":
        return Q(status__in=CLOCK_STATES, effective_end__lt=today)
    if name == "no_show_timeout":
        # Registered on a (Berlin) day at least LOTSE_NO_SHOW_DAYS ago.
        boundary = start_of_day(today - timedelta(days=settings.LOTSE_NO_SHOW_DAYS - 1))
        return Q(status=CaseStatus.REGISTERED, registered_at__lt=boundary)
    if name == "no_contact_timeout":
        # Month ends make add_months non-invertible; a few days of slack
        # keep the scan a superset.
        cutoff = add_months(today, -settings.LOTSE_NO_CONTACT_MONTHS) + timedelta(days=3)
        recent = Consultation.objects.filter(
            status=Consultation.Status.COMPLETED, held_on__gt=cutoff
        ).values("case_id")
        paused_before = start_of_day(cutoff + timedelta(days=1))
        return Q(status=CaseStatus.DORMANT, paused_at__lt=paused_before) & ~Q(pk__in=recent)
    raise ValueError(f"unknown sweep {name!r}")


# Knuth's multiplicative hash (its upper 16 of 32 bits: the lower ones keep
# the id's parity) spreads ids over the shards evenly even when they come in
# a pattern (every tenth id due, say), which `pk % shards` would put all in
# one shard.
_SPREAD = 2654435761


def sweep_shard_of(pk: int, *, shards: int) -> int:
    """The shard whose sweep handles case `pk` (as `sweep_candidates` picks)."""
    return _SPREAD * pk % 2**32 // 2**16 % shards


def sweep_candidates(
    *, name: str, now: datetime, limit: int | None = None, shard: int = 0, shards: int = 1
) -> list[int]:
    """The ids of the cases due for sweep `name`, one set-based scan; with
    `shards` > 1 only those of shard `shard` (`sweep_shard_of`), so that
    that many sweeps can work side by side on disjoint cases."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of {shards} shards")
    due = Case.objects.filter(_due(name, now))
    if shards > 1:

        def big(value: int) -> Value:  # 64-bit, or the product overflows
            return Value(value, output_field=BigIntegerField())

        spread = (
            big(_SPREAD) * Cast("pk", BigIntegerField()) % big(2**32) / big(2**16) % big(shards)
        )
        due = due.alias(bucket=spread).filter(bucket=shard)
    ids = due.order_by("pk").values_list("pk", flat=True)
    return list(ids[:limit] if limit else ids)


# The states each sweep's transition leaves (DOMAIN.md §14.1).
_SOURCES = {
    "period_expired": {str(state) for state in CLOCK_STATES},
    "no_show_timeout": {str(CaseStatus.REGISTERED)},
    "no_contact_timeout": {str(CaseStatus.DORMANT)},
}
_CLAIM_SQL = "SELECT status FROM cases_case WHERE id = %s{}".format(  # noqa: S608 - constant
    " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
)


def _claim(case_id: int) -> str | None:
    """Lock the case row unless another transaction holds it; return its
    status (None when it is held or gone). One plain statement: the sweep
    runs it once per due case."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [case_id])
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass
class SweepResult:
    done: int = 0
    skipped: int = 0
    failed: int = 0


def deadline_sweep(
    *,
    name: str,
    now: datetime,
    candidates: list[int] | None = None,
    shard: int = 0,
    shards: int = 1,
    on_failure: Callable[[int, Exception], object] | None = None,
) -> SweepResult:
    """Fire the system transition `name` on every due case, one case per
    transaction, as the system (actor None).

    Each case is claimed with `FOR UPDATE SKIP LOCKED` and re-checked under
    the lock: a case another sweep holds or has already moved is skipped,
    so sweeps may run side by side and again; each deadline moves its case
    once. A case that fails unexpectedly is logged, handed to `on_failure`
    (the notifications app opens an incident) and tried again by the next
    sweep. `shard` of `shards` restricts the sweep to the
    cases of that shard (beat starts one sweep per shard,
    `LOTSE_SWEEP_SHARDS`, on as many worker processes).
    """
    if name not in SWEEPS:
        raise ValueError(f"unknown sweep {name!r}")
    ids = (
        sweep_candidates(name=name, now=now, shard=shard, shards=shards)
        if candidates is None
        else candidates
    )
    result = SweepResult()
    sources = _SOURCES[name]
    for pk in ids:
        try:
            with transaction.atomic():
                status = _claim(pk)
                if status not in sources:  # held by another sweep, or moved on
                    result.skipped += 1
                    continue
                # The transition's own guard decides whether it is due.
                case_transition(case=pk, name=name, actor=None, now=now)
            result.done += 1
        except (GuardFailed, TransitionNotAvailable, ConcurrentChange):
            result.skipped += 1
        except Exception as exc:  # one broken case must not stop the rest
            result.failed += 1
            logger.exception("sweep %s failed on case %s", name, pk)
            if on_failure is not None:
                on_failure(pk, exc)
    return result
