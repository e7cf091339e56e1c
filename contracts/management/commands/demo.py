from django.core.management.base import BaseCommand

from contracts.demo import DEMO_PASSWORD, demo_build


class Command(BaseCommand):
    help = "Build the demo data set (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins = demo_build()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for login in logins:
            self.stdout.write(f"  {login.username:<28} {login.role:<16} {login.organisation}")
