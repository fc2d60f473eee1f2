"""Check that the open work of every case fits its state; optionally repair."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.models import Case
from workflows.invariants import cases_with_problems
from workflows.services import case_flow_repair


class Command(BaseCommand):
    help = "Check that every case's open guided work fits the case's state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Restart the flow of each case whose open work does not fit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = cases_with_problems(Case.objects.order_by("pk"))
        for case_id, found in problems.items():
            for problem in found:
                self.stderr.write(f"case {case_id}: {problem}")
        if problems and options["repair"]:
            for case_id in problems:
                case_flow_repair(case_id=case_id, now=timezone.now())
            problems = cases_with_problems(Case.objects.filter(pk__in=list(problems)))
            self.stdout.write(f"Restarted the flows; {len(problems)} cases still do not fit.")
        if problems:
            raise CommandError(f"{len(problems)} cases have open work that does not fit.")
        self.stdout.write("The open work of every case fits its state.")
