from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from contracts.demo import DEMO_PASSWORD, demo_build
from contracts.models import User
from outages.demo import demo_incidents, demo_outages
from outbox.models import OutboxMessage
from statements.demo import demo_statements
from tickets.demo import demo_tickets


class Command(BaseCommand):
    help = "Build the demo data set (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        now = timezone.now()
        today = timezone.localdate(now)
        logins = demo_build(today=today)
        outages = demo_outages(
            today=today, operator=User.objects.get(username="ops@provider.example")
        )
        self.stdout.write(f"Demo outages recorded: {outages}.")
        token = demo_incidents(now=now, operator=User.objects.get(username="ops@provider.example"))
        if token:
            self.stdout.write(
                f"Alert intake: POST Alertmanager webhooks to /hooks/alertmanager/ with "
                f"'Authorization: Bearer {token}' (shown once; routes at /ops/alerts/)."
            )
        mails = OutboxMessage.objects.count()
        tickets = demo_tickets(today=today, now=now)
        mails = OutboxMessage.objects.count() - mails
        self.stdout.write(
            f"Demo tickets filed: {tickets} (their notifications and escalations: {mails} "
            "e-mails in the outbox)."
        )
        made = demo_statements(today=today, now=now)
        self.stdout.write(
            f"Statements: {made.issued} issued ({made.pdfs} PDFs), {made.drafts} current-month "
            f"drafts, {made.pending} credits pending approval."
        )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for login in logins:
            self.stdout.write(f"  {login.username:<28} {login.role:<16} {login.organisation}")
        if not settings.REQUIRE_TWO_FACTOR:
            self.stdout.write(
                "Two-factor sign-in is off in the demo (REQUIRE_TWO_FACTOR=0); in production "
                "account managers and administrators set up an authenticator app at first sign-in."
            )
