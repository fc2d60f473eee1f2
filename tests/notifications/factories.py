"""Many cases at once for sweeps and reminders (synthetic data only).

`bulk_cases` writes persons and cases with bulk inserts in a given state,
as a data import would; the tests then move them only through the
services. Cases made this way have no open flow process yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import User
from cases.models import Case, Person


def bulk_cases(*, owner: User, count: int, status: str, registered_at: datetime, **fields: Any):
    """Create `count` cases of `owner` in `status`; return their ids in order."""
    persons = Person.objects.bulk_create(
        [Person(traeger_id=owner.traeger_id, family_name=f"Massentest {n}") for n in range(count)],
        batch_size=2000,
    )
    cases = Case.objects.bulk_create(
        [
            Case(
                person=person,
                status=status,
                traeger_id=owner.traeger_id,
                owner=owner,
                intake_channel=Case.IntakeChannel.HANDOVER_FSA,
                registered_at=registered_at,
                **fields,
            )
            for person in persons
        ],
        batch_size=2000,
    )
    return [case.pk for case in cases]
