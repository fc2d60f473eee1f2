"""What a case change sets off, dispatched explicitly and in one order.

Every case service that can alter which guided work is open for a case or
whom to tell (its creation, each transition, the handover acceptance, a new
review date or owner, each step of an extension request) calls
`case_changed(CaseChange(...))` inside its transaction, under the case row
lock it holds. The handlers run there, one after the other, in the order of
`settings.LOTSE_CASE_CHANGE_HANDLERS` (the one place they are declared):
what they write commits or rolls back with the change, and an exception in
one of them rolls the change back. The domain names its handlers by dotted
path, so `cases` imports none of the apps above it.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from accounts.models import User
    from cases.models import Case


class ChangeKind(enum.Enum):
    """What changed about a case."""

    CREATED = "created"
    TRANSITION = "transition"  # `CaseChange.transition` names it
    HANDOVER_ACCEPTED = "handover_accepted"
    REVIEW_DATE = "review_date"
    OWNER = "owner"
    EXTENSION_SUBMITTED = "extension_submitted"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REJECTED = "extension_rejected"
    EXTENSION_WITHDRAWN = "extension_withdrawn"
    IMPORTED = "imported"  # taken over from a caseload migration
    CLOCK = "clock"  # the person's clock moved the case's period


@dataclass(frozen=True)
class CaseChange:
    """One change of a case, as its service left the locked row.

    `transition` is the name of the fired transition (the case's for
    TRANSITION, the extension request's for EXTENSION_*; empty otherwise).
    `actor` None is the system.
    """

    case: Case
    kind: ChangeKind
    actor: User | None
    now: datetime
    transition: str = ""
    # For OWNER: who owned the case before (their notifications move on).
    previous_owner_id: int | None = None
    # For a system transition fired within a person's step (the period that
    # is already over, `case_final_referral_talk`): that person.
    caused_by: User | None = None


Handler = Callable[[CaseChange], object]


@functools.cache
def _resolve(paths: tuple[str, ...]) -> tuple[Handler, ...]:
    return tuple(import_string(path) for path in paths)


def handlers() -> tuple[Handler, ...]:
    """The handlers of a case change, in the order they run."""
    return _resolve(tuple(settings.LOTSE_CASE_CHANGE_HANDLERS))


def case_changed(change: CaseChange) -> None:
    """Run every handler on `change` (inside the caller's transaction)."""
    for handler in handlers():
        handler(change)
