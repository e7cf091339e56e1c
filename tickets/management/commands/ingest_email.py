"""``manage.py ingest_email``: one RFC 822 message on standard input becomes a ticket or a
reply (rules: ``tickets.services.inbound``; mail server set-up: README "Inbound e-mail").

The exit status is what a mail server's pipe delivery understands (sysexits.h): 0 taken
in, or deliberately dropped (a duplicate delivery, an auto-reply); 65 (EX_DATAERR) the
message is refused as it stands (bad data included: a NUL byte, undecodable text, a
message the parser chokes on), and the server bounces it with the one line we print; 75
(EX_TEMPFAIL) something on our side failed (the database is unavailable, the disk, a
bug), and the server keeps the message and tries again later rather than losing it.
Bad data never reaches the 75 branch: the service turns it into a refusal.
"""

from __future__ import annotations

import logging
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from tickets.services import InboundRejected, ticket_ingest_email

EX_DATAERR = 65
EX_TEMPFAIL = 75

log = logging.getLogger("tickets.inbound")


class Command(BaseCommand):
    help = (
        "Read one e-mail (RFC 822) on standard input and file it as a new ticket, or as a "
        "reply when its subject carries a ticket reference. Exit 65 when the message is "
        "refused, 75 when it should be delivered again later."
    )
    # Tests hand the message over with call_command("ingest_email", stdin=BytesIO(...)).
    stealth_options = ("stdin",)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", help="Read the message from this file instead of standard input."
        )

    def handle(self, *args, **options):
        raw = self._read(options)
        try:
            outcome = ticket_ingest_email(raw=raw)
        except InboundRejected as exc:
            # One line: the mail server quotes it in the bounce.
            reason = " ".join(str(exc).split())
            raise CommandError(f"Message refused: {reason}", returncode=EX_DATAERR) from None
        except (OperationalError, InterfaceError) as exc:
            # The database is down or went away: nothing to debug in our code.
            reason = " ".join(str(exc).split())
            log.error("inbound mail not taken in (database unavailable: %s); retry later", reason)
            raise CommandError(
                "Temporary failure (database unavailable); try again later.",
                returncode=EX_TEMPFAIL,
            ) from None
        except Exception as exc:
            log.exception("inbound mail not taken in; the mail server will retry")
            raise CommandError(
                f"Temporary failure ({exc.__class__.__name__}); try again later.",
                returncode=EX_TEMPFAIL,
            ) from exc
        self.stdout.write(outcome.detail)
        for line in outcome.left_out:
            self.stdout.write(f"attachment not kept: {line}")

    def _read(self, options) -> bytes:
        if options.get("file"):
            with open(options["file"], "rb") as handle:
                return handle.read()
        stream = options.get("stdin") or sys.stdin.buffer
        data = stream.read()
        return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
