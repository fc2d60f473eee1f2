from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from operations.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a consistent backup (pg_dump custom format of one snapshot, the uploaded "
        "files, a manifest with row counts, audit chain heads and the key material to keep)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            default=settings.LOTSE_BACKUP_DIR,
            help="folder to write the backup folder into (default LOTSE_BACKUP_DIR)",
        )

    def handle(self, *args, **options):
        try:
            folder = backup_create(target=Path(options["to"]), now=timezone.localtime())
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup written: {folder}")
        self.stdout.write(
            "Keep SECRET_KEY and the audit chain heads of manifest.json apart from the backup."
        )
