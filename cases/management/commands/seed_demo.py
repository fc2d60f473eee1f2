from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD, seed_organisation
from cases.demo import seed_demo_cases
from handover.demo import seed_demo_handovers


class Command(BaseCommand):
    help = "Load the synthetic demo organisation, users and cases (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        users = seed_organisation()
        now = timezone.now()
        created = seed_demo_cases(owner=users["manager"], now=now)
        created += seed_demo_cases(owner=users["manager2"], now=now)
        handovers = seed_demo_handovers(sender=users["gu"], now=now)
        self.stdout.write(
            f"Demo data ready: users {', '.join(sorted(users))} "
            f"(password '{DEMO_PASSWORD}', demo only); {created} new demo cases, "
            f"{handovers} new demo handovers."
        )
