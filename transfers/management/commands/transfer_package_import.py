"""Take over a transfer package from another installation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from cases.services import PossibleDuplicate
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
        answer = parser.add_mutually_exclusive_group()
        answer.add_argument(
            "--known-person",
            type=int,
            help="After a duplicate warning: it is this known person (their id).",
        )
        answer.add_argument(
            "--not-known",
            action="store_true",
            help="After a duplicate warning: it is none of the persons proposed.",
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
                content=content,
                actor=actor,
                now=timezone.now(),
                owner=owner,
                known_person_id=options["known_person"],
                not_known=options["not_known"],
            )
        except PossibleDuplicate as duplicate:
            lines = [
                f"  {c.kind} {c.object_id}: {c.family_name}, {c.given_names} "
                f"({c.date_of_birth or '?'})"
                for found in duplicate.candidates.values()
                for c in found
            ]
            raise CommandError(
                f"{duplicate.code}: {duplicate.message}\n" + "\n".join(lines) + "\n"
                "Run again with --known-person <id> or --not-known."
            ) from None
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(
            f"Case {record.case_id} taken over from {record.source_installation} "
            f"(package {record.package_id}, key {record.key_id})."
        )
