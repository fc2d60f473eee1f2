from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, seed_organisation


class Command(BaseCommand):
    help = "Load the synthetic demo organisation and users (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        users = seed_organisation()
        self.stdout.write(
            f"Demo data ready: users {', '.join(sorted(users))} "
            f"(password '{DEMO_PASSWORD}', demo only)."
        )
