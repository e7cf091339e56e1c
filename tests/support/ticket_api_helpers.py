"""Shared by the tickets API tests (test_ticket_api*.py): a frozen clock, tickets of two
customers, and what was saved."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.support.factories import CustomerUserFactory, ticket_contract, uploaded_file
from tickets.models import Attachment, Ticket, TicketMessage
from tickets.services import ticket_file

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 8, 14, tzinfo=UTC)  # Monday 10:00 on the help desk's clock
MB = 1024 * 1024


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def counts() -> tuple[int, int, int]:
    return Ticket.objects.count(), TicketMessage.objects.count(), Attachment.objects.count()


def filed_ticket(person, service) -> Ticket:
    """A severity 2 ticket filed by ``person`` at ``NOW``, with one file (trace.log)."""
    return ticket_file(
        actor=person,
        service=service,
        subject="Publishing fails",
        description="Every publish job ends with error 500.",
        severity=2,
        attachments=[uploaded_file("trace.log")],
        now=NOW,
    )


def foreign_ticket_of(other_customer) -> Ticket:
    """Another organisation's severity 3 ticket, with one file (globex.log); load the
    catalog first."""
    contract = ticket_contract(other_customer, reference="GLOBEX-1")
    return ticket_file(
        actor=CustomerUserFactory(customer=other_customer),
        service=contract.lines.first().service,
        subject="Globex cannot log in",
        description="Nobody at Globex can log in.",
        severity=3,
        attachments=[uploaded_file("globex.log")],
        now=NOW,
    )
