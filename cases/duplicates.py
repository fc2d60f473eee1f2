"""Who may already be known: the duplicate check of an intake.

Registering a walk-in (or any intake without a handover) checks the same
things that accepting a handover checks: the persons of the Träger (by a
spelling-independent name, date of birth, nationality, authority
reference) and the handovers still waiting for a decision. The check
itself lives in the handover app (`handover.selectors.intake_candidates`),
which knows the handed-over persons and their references; it registers
itself here when the app is ready, the way the handover app registers its
notification links (`notifications.links.register_visibility`). The case
domain asks through `intake_candidates` and stays below the handover app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

PERSON = "person"
HANDOVER = "handover"


@dataclass(frozen=True)
class IntakeCandidate:
    """A known person (`kind` PERSON, `object_id` the person's id) or a
    person in a waiting handover (HANDOVER, `object_id` the handover's id)
    who may be the person registered."""

    kind: str
    object_id: int
    family_name: str
    given_names: str
    date_of_birth: date | None
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.object_id,
            "family_name": self.family_name,
            "given_names": self.given_names,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "reasons": list(self.reasons),
        }


Finder = Callable[..., list[IntakeCandidate]]
_finders: list[Finder] = []


def register_intake_finder(finder: Finder) -> None:
    """Register a check that returns candidates for a person's facts."""
    if finder not in _finders:
        _finders.append(finder)


def intake_candidates(
    *,
    traeger_id: int,
    family_name: str,
    given_names: str,
    date_of_birth: date | None,
    nationality: str = "",
) -> list[IntakeCandidate]:
    """Return who may already be this person (persons first, then waiting
    handovers), from every registered check."""
    found: list[IntakeCandidate] = []
    for finder in _finders:
        found.extend(
            finder(
                traeger_id=traeger_id,
                family_name=family_name,
                given_names=given_names,
                date_of_birth=date_of_birth,
                nationality=nationality,
            )
        )
    return sorted(found, key=lambda c: (c.kind != PERSON, c.object_id))
