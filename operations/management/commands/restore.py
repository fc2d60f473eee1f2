from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder into the empty database of DATABASE_URL and MEDIA_ROOT, "
        "then verify the audit chains and every table's row count against the manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a folder written by manage.py backup")

    def handle(self, *args, **options):
        try:
            report = backup_restore(folder=Path(options["folder"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for table, (expected, found) in report.count_mismatches.items():
            self.stderr.write(f"{table}: {expected} rows in the backup, {found} restored")
        for chain in report.broken_chains:
            self.stderr.write(f"audit chain broken: {chain}")
        if not report.ok:
            raise CommandError("The restored database does not match the backup.")
        self.stdout.write(
            f"Restored {report.tables} tables ({report.rows} rows) and "
            f"{report.media_files} files; all audit chains intact, all counts match."
        )
        self.stdout.write(
            "Next: manage.py db_roles --app-role <role> as the owner (grants are not restored)."
        )
