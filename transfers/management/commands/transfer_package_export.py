"""Export a case file as a signed transfer package (as the case's manager)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError
from transfers.services import transfer_package_export


class Command(BaseCommand):
    help = "Export the case file of a case as a signed transfer package for another installation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("case_id", help="The case's number.")
        parser.add_argument("--user", required=True, help="User name of the case's manager.")
        parser.add_argument("--target", required=True, help="The receiving installation's name.")
        parser.add_argument("--output", required=True, help="The package file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError("There is no active user with this name.")
        try:
            exported = transfer_package_export(
                case_id=options["case_id"], actor=user, now=timezone.now(), target=options["target"]
            )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        Path(options["output"]).write_bytes(exported.content)
        self.stdout.write(
            f"Package {exported.record.package_id} for {exported.record.target_installation} "
            f"written to {options['output']} (key {exported.record.key_id})."
        )
