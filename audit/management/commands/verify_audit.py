from django.core.management.base import BaseCommand, CommandError

from audit.anchors import audit_anchors_verify
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
        for link in broken:
            where = f"event {link.event_id}" if link.event_id is not None else "no event"
            self.stderr.write(f"{link.chain_key} #{link.seq} ({where}): {link.problem}")
        # The signed anchors (LOTSE_AUDIT_ANCHOR_DIR): deleted chains, cut
        # tails, rewritten tails and deleted read-log rows.
        missing = [] if options["chain"] else audit_anchors_verify()
        for problem in missing:
            where = f" #{problem.seq}" if problem.seq is not None else ""
            self.stderr.write(f"{problem.chain_key}{where}: {problem.problem}")
        if broken or missing:
            raise CommandError(
                f"{len(broken)} audit chain(s) broken, "
                f"{len(missing)} finding(s) against the anchors."
            )
        self.stdout.write("All audit chains intact.")
