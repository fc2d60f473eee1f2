"""Import a caseload file from the command line (as the supervisor named)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from caseload import services
from config.errors import ApplicationError


class Command(BaseCommand):
    help = "Import the existing caseload of a team from a CSV or XLSX file (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file in the layout of the template")
        parser.add_argument("--user", required=True, help="user name of the team's supervisor")
        parser.add_argument("--dry-run", action="store_true", help="only check, save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            actor = User.objects.get(username=options["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user {options['user']!r}.") from None
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        try:
            report = services.caseload_import(
                actor=actor,
                now=timezone.now(),
                content=content,
                filename=path.name,
                dry_run=options["dry_run"],
            )
        except services.ImportInvalid as error:
            for problem in error.report.as_dict()["errors"]:
                self.stderr.write(
                    f"Zeile {problem['line']}, {problem['field']}: {problem['message']}"
                )
            raise CommandError(str(error.message)) from None
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        body = report.as_dict()
        states = ", ".join(f"{key}: {count}" for key, count in body["states"].items())
        verb = "would import" if report.dry_run else "imported"
        self.stdout.write(
            f"{verb} {len(body['cases'])} cases ({states}), {body['persons']} persons, "
            f"{body['households']} households; {len(body['skipped'])} rows imported before."
        )
