"""Case data that other apps keep: registered here, so the data subject's
rights reach it.

The case services know the case's own rows (`cases.history`). Other apps
keep rows about a case too: the appointments of the calendar, the handover
the case came from (with the names of every member of the household), the
rows a caseload migration or a transfer package left. For each such kind
the owning app registers, in its AppConfig.ready(), one source:

    case_data.register(
        "appointments",             # its key in the Art. 15 export
        Appointment,                # the model (field labels in the PDF)
        _("Appointments"),          # its heading in the Art. 15 PDF
        rows=lambda case: Appointment.objects.filter(case=case),
        anonymise=appointments_anonymise,  # (case, now) -> None
    )

`dataprotection.services.person_export` lists each source's rows of each
case (Art. 15 DSGVO); `cases.services.erasure.case_anonymise` runs each
source's `anonymise` in the erasure's transaction (retention elapsed,
erasure after a withdrawal: Art. 17), which removes the personal content
and keeps ids, dates and codes, as for the case's own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from cases.models import Case


@dataclass(frozen=True)
class CaseDataSource:
    key: str
    model: type[models.Model]
    heading: Any  # a lazy German heading
    rows: Callable[[Case], Iterable[models.Model]]
    anonymise: Callable[[Case, datetime], None] | None
    exclude: tuple[str, ...]  # fields left out of the export (copies, digests)


_SOURCES: dict[str, CaseDataSource] = {}


def register(
    key: str,
    model: type[models.Model],
    heading: Any,
    *,
    rows: Callable[[Case], Iterable[models.Model]],
    anonymise: Callable[[Case, datetime], None] | None,
    exclude: tuple[str, ...] = (),
) -> None:
    """Register (or replace) the source `key`. `anonymise` None: the rows
    hold no personal content of their own (say why where you register)."""
    _SOURCES[key] = CaseDataSource(
        key=key, model=model, heading=heading, rows=rows, anonymise=anonymise, exclude=exclude
    )


def sources() -> list[CaseDataSource]:
    """The registered sources, by key."""
    return [_SOURCES[key] for key in sorted(_SOURCES)]
