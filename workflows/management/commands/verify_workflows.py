"""Check that the open work of every case fits its state."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from workflows.invariants import cases_with_problems


class Command(BaseCommand):
    help = "Check that every case's open guided work fits the case's state."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = cases_with_problems(Case.objects.order_by("pk"))
        for case_id, found in problems.items():
            for problem in found:
                self.stderr.write(f"case {case_id}: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} cases have open work that does not fit.")
        self.stdout.write("The open work of every case fits its state.")
