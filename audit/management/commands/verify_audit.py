from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit hash chains; name the first broken link of each."

    def add_arguments(self, parser):
        parser.add_argument("--chain", default=None, help="only this chain, e.g. case:12")

    def handle(self, *args: object, **options: object) -> None:
        broken = audit_chain_verify(chain_key=options["chain"])  # type: ignore[arg-type]
        if broken:
            for link in broken:
                self.stderr.write(
                    f"{link.chain_key} #{link.seq} (event {link.event_id}): {link.problem}"
                )
            raise CommandError(f"{len(broken)} audit chain(s) broken.")
        self.stdout.write("All audit chains intact.")
