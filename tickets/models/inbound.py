"""Mail taken in by ``manage.py ingest_email``: one row per message that made a ticket or
a reply, so a message delivered twice (a mail server retrying after a timeout) is taken
in once.

A message is its Message-ID *and* its sender: the Message-ID is whatever the sending
client wrote, so a stranger who sends one first (by mistake, or having read it in a
customer's forwarded mail) must not make the customer's own message a "duplicate"."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from tickets.models.activity import TicketMessage
from tickets.models.tickets import Ticket


class InboundEmail(models.Model):
    # RFC 5322 allows a header line of 998 characters; a Message-ID is one header.
    message_id = models.CharField(max_length=998, blank=True)
    sender = models.EmailField()
    # Null only inside the transaction that claims the Message-ID before it writes the
    # ticket (see tickets.services.inbound); a committed row always names its ticket.
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="inbound_emails"
    )
    reply = models.ForeignKey(
        TicketMessage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inbound_emails",
        help_text="The reply it became; empty when it opened the ticket.",
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "sender"],
                condition=~Q(message_id=""),
                name="inbound_email_once_per_message_id_and_sender",
                violation_error_message="This e-mail was already taken in.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or '(no Message-ID)'} from {self.sender}"
