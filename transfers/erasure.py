"""Transfer packages at the erasure of their case (`cases.case_data`).

A received package keeps the case file as it arrived (`payload`); at the
erasure of the case it goes. The package's id, checksum, installations and
times stay: they prove that and when the file was passed on.
"""

from __future__ import annotations

from datetime import datetime

from cases.models import Case
from transfers.models import TransferPackage


def transfer_packages_anonymise(case: Case, now: datetime) -> None:
    TransferPackage.objects.filter(case_id=case.pk).update(payload={})


def transfer_packages_of_case(case: Case) -> list[TransferPackage]:
    return list(TransferPackage.objects.filter(case_id=case.pk).order_by("pk"))
