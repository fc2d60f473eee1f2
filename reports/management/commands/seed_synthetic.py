"""`manage.py seed_synthetic [--scale 1.0]`: a synthetic Land for load tests."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports.synthetic import synthetic_land_seed


class Command(BaseCommand):
    help = (
        "Write a synthetic Land (scale 1: 200,000 persons, 1,000,000 consultations over the "
        "last three years, 100,000 plans with 500,000 goals, 44 Kreise, 1,000 Gemeinden, "
        "1,200 integration managers). Never on a production database."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the whole Land")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same data again)")

    def handle(self, *args: Any, scale: float, seed: int, **options: Any) -> None:
        if not 0 < scale <= 5:
            raise CommandError("--scale must lie in (0, 5].")
        began = time.perf_counter()
        result = synthetic_land_seed(scale=scale, now=timezone.now(), seed=seed)
        took = time.perf_counter() - began
        summary = ", ".join(f"{name} {count:,}" for name, count in result.counts.items())
        self.stdout.write(
            f"Synthetic Land {result.first_year}-{result.last_year} in {took:.1f} s: {summary}"
        )
