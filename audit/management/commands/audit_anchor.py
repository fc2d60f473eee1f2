from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.anchors import audit_anchor_write


class Command(BaseCommand):
    help = "Write a signed anchor of the audit trail (chain registry, row counts)."

    def handle(self, *args: object, **options: object) -> None:
        path = audit_anchor_write(now=timezone.now())
        self.stdout.write(f"Anchor written: {path}")
