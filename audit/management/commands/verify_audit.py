from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit hash chains; name the first broken link of each."

    def add_arguments(self, parser):
        parser.add_argument("--chain", default=None, help="only this chain, e.g. case:12")
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="CHAIN=HASH",
            help="a chain head kept elsewhere that the chain must reach, e.g. case:12=ab12...",
        )

    def handle(self, *args: object, **options: object) -> None:
        heads = {}
        for item in options["head"]:  # type: ignore[attr-defined]
            chain, _, head = str(item).partition("=")
            if not head:
                raise CommandError(f"--head needs CHAIN=HASH, not {item!r}")
            heads[chain] = head
        broken = audit_chain_verify(chain_key=options["chain"], heads=heads)  # type: ignore[arg-type]
        if broken:
            for link in broken:
                where = f"event {link.event_id}" if link.event_id is not None else "no event"
                self.stderr.write(f"{link.chain_key} #{link.seq} ({where}): {link.problem}")
            raise CommandError(f"{len(broken)} audit chain(s) broken.")
        self.stdout.write("All audit chains intact.")
