from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from dataprotection.services import retention_sweep


class Command(BaseCommand):
    help = "Anonymise closed and rejected cases whose retention period has ended."

    def handle(self, *args: Any, **options: Any) -> None:
        result = retention_sweep(now=timezone.now())
        self.stdout.write(
            f"{len(result.anonymised)} anonymised, {len(result.held)} on legal hold, "
            f"{len(result.failed)} refused."
        )
