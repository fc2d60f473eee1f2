"""Make this installation's signing key for transfer packages, or show the
public key and its id to hand to the other installations."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from transfers import signing


class Command(BaseCommand):
    help = (
        "Make an Ed25519 key pair for transfer packages (--new), or print the public key "
        "of the configured LOTSE_TRANSFER_SIGNING_KEY for the other installations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new",
            action="store_true",
            help="Make a new key pair and print the private key (for the setting) and the "
            "public key (for the other installations).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new"]:
            key = signing.key_generate()
            self.stdout.write(f"LOTSE_TRANSFER_SIGNING_KEY={signing.private_key_text(key)}")
            self.stdout.write(
                "# Keep the private key secret (like SECRET_KEY); give the other "
                "installations the public key below."
            )
        else:
            try:
                key = signing.signing_key()
            except signing.KeyNotConfigured as error:
                raise CommandError(f"{error}; make one with --new") from None
        public = key.public_key()
        name = signing.installation_name() or "<LOTSE_INSTALLATION_NAME>"
        self.stdout.write(f"installation: {name}")
        self.stdout.write(f"public key:   {signing.public_key_text(public)}")
        self.stdout.write(f"key id:       {signing.key_id_of(public)}")
        self.stdout.write(
            "# On the other installation, add to LOTSE_TRANSFER_TRUSTED_KEYS: "
            f'{{"{name}": "{signing.public_key_text(public)}"}}'
        )
