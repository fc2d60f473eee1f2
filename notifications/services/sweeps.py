"""Deadline sweeps as the beat runs them: the case domain's sweep
(`cases.services.sweeps`) with the outbox around it."""

from __future__ import annotations

from datetime import datetime

from cases.services import sweeps
from cases.services.sweeps import SWEEPS, SweepResult, sweep_candidates, sweep_shard_of
from notifications.services.incidents import incident_record
from notifications.services.outbox import _publish_after_commit, publishing_deferred

__all__ = ["SWEEPS", "SweepResult", "deadline_sweep", "sweep_candidates", "sweep_shard_of"]


def deadline_sweep(
    *,
    name: str,
    now: datetime,
    candidates: list[int] | None = None,
    shard: int = 0,
    shards: int = 1,
) -> SweepResult:
    """Run sweep `name` (see `cases.services.sweeps.deadline_sweep`) with
    the notifications it causes published once, after it: a case that fails
    opens an incident (and is tried again by the next sweep)."""

    def failed(pk: int, exc: Exception) -> None:
        incident_record(source=f"sweep.{name}", key=f"case:{pk}", error=type(exc).__name__, now=now)

    with publishing_deferred():
        result = sweeps.deadline_sweep(
            name=name,
            now=now,
            candidates=candidates,
            shard=shard,
            shards=shards,
            on_failure=failed,
        )
    if result.done:  # after commit, should a caller hold a transaction open
        _publish_after_commit(relay=True)
    return result
