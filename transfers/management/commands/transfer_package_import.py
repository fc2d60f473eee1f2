"""Take over a transfer package from another installation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError
from transfers.services import transfer_package_import


class Command(BaseCommand):
    help = (
        "Check a transfer package's signature and take the case over "
        "(the person, the case and the clock facts with their origin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The package file.")
        parser.add_argument(
            "--user", required=True, help="Who takes it over (a manager or a supervisor)."
        )
        parser.add_argument(
            "--owner", help="User name of the manager who gets the case (default: --user)."
        )

    def _user(self, name: str) -> User:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {name!r}.")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._user(options["user"])
        owner = self._user(options["owner"]) if options["owner"] else None
        path = Path(options["file"])
        try:
            with path.open("rb") as handle:
                content = handle.read(settings.LOTSE_TRANSFER_MAX_BYTES + 1)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        try:
            record = transfer_package_import(
                content=content, actor=actor, now=timezone.now(), owner=owner
            )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(
            f"Case {record.case_id} taken over from {record.source_installation} "
            f"(package {record.package_id}, key {record.key_id})."
        )
