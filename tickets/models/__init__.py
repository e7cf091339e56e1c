"""Support tickets with their SLA clocks; see ``tickets.models.tickets`` for why the clock
columns are stored."""

from tickets.models.activity import (
    Attachment,
    Escalation,
    TicketEvent,
    TicketMessage,
    TicketPause,
    attachment_path,
)
from tickets.models.inbound import InboundEmail
from tickets.models.intake import IdempotencyKey, SavedFilter
from tickets.models.tickets import REFERENCE_RE, Channel, Ticket, ticket_pk_from_reference

__all__ = [
    "REFERENCE_RE",
    "Attachment",
    "Channel",
    "Escalation",
    "IdempotencyKey",
    "InboundEmail",
    "SavedFilter",
    "Ticket",
    "TicketEvent",
    "TicketMessage",
    "TicketPause",
    "attachment_path",
    "ticket_pk_from_reference",
]
