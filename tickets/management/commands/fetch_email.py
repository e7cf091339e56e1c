"""``manage.py fetch_email``: take in every message waiting in the ``IMAP_URL`` mailbox
once (rules: ``tickets.mailbox``; the ``tickets.tasks.fetch_email`` tick does the same
every minute). One line per message, then a summary.

Exit status 0 whatever became of the messages (refused ones are in the rejected folder;
ones the database could not take yet are still in the inbox); 1 only when the mailbox
cannot be reached or fails a command, so a cron wrapper or a person sees the outage.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tickets.mailbox import MailboxUnavailable, mailbox_fetch


class Command(BaseCommand):
    help = (
        "Take in every e-mail in the IMAP_URL mailbox as a ticket or a reply, then move "
        "it to IMAP_PROCESSED_FOLDER (refused mail: IMAP_REJECTED_FOLDER)."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args, **options):
        try:
            result = mailbox_fetch(report=self.stdout.write)
        except MailboxUnavailable as exc:
            raise CommandError(f"Mailbox unavailable: {exc}") from None
        self.stdout.write(f"Mailbox: {result}.")
