"""Replies and internal notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import File

from contracts.models import User
from tickets.attachments import check_uploads, store_uploads
from tickets.models import Channel, Ticket, TicketMessage
from tickets.notifications import notify_customer_reply, notify_public_reply
from tickets.selectors import is_support_staff
from tickets.services._common import (
    atomic_with_files,
    clean_text,
    locked,
    now_or,
    require_party,
    save_clocks,
)
from tickets.services.workflow import change_status

CLOSED_MESSAGE = "This ticket is closed and takes no more replies; file a new ticket instead."


def ticket_reply(
    *,
    ticket: Ticket,
    actor: User | None,
    body: str,
    public: bool = True,
    attachments: Sequence[File] = (),
    channel: str = Channel.PORTAL,
    sender_email: str = "",
    now: datetime | None = None,
) -> TicketMessage:
    """Add a public reply or (support staff only) an internal note.

    - A customer person may write only public replies (an internal note raises
      ``PermissionDenied``); so may the unregistered sender of the ticket by e-mail
      (``actor=None`` with their ``sender_email``). A customer's reply to a ticket waiting on them reopens it
      and the clocks run again.
    - The first public staff reply is the first response: it stops the response clock
      and settles its breach flag. A new ticket becomes open.
    - A public staff reply is e-mailed to the customer; an internal note never is.
    - A closed ticket takes no replies (``ValidationError``); neither does an empty
      body or a refused attachment. Nothing is saved then, files included.
    """
    now = now_or(now)
    if actor is None:
        # Mail from an unregistered sender may only continue that sender's own ticket.
        sender = clean_text(sender_email).lower()
        if not sender or sender != ticket.sender_email.lower():
            raise PermissionDenied("Only the ticket's sender may reply without an account.")
    else:
        require_party(actor, ticket)
    staff = is_support_staff(actor)
    if not public and not staff:
        raise PermissionDenied("Only support staff write internal notes.")
    if channel not in Channel.values:
        raise ValidationError({"channel": ["Unknown channel."]})
    if ticket.status == Ticket.Status.CLOSED:
        raise ValidationError({NON_FIELD_ERRORS: [CLOSED_MESSAGE]})
    errors: dict[str, list[str]] = {}
    body = clean_text(body)
    if not body:
        errors["body"] = ["Write a message."]
    uploads, upload_errors = check_uploads(attachments)
    if upload_errors:
        errors["attachments"] = upload_errors
    if errors:
        raise ValidationError(errors)

    with atomic_with_files() as stored:
        ticket = locked(ticket)
        if ticket.status == Ticket.Status.CLOSED:  # closed while we were checking
            raise ValidationError({NON_FIELD_ERRORS: [CLOSED_MESSAGE]})
        message = TicketMessage.objects.create(
            ticket=ticket,
            author=actor,
            author_email="" if actor is not None else clean_text(sender_email),
            from_staff=staff,
            body=body,
            public=public,
            channel=channel,
            created_at=now,
        )
        store_uploads(uploads, ticket=ticket, message=message, actor=actor, now=now, stored=stored)
        if staff and public:
            _staff_replied(ticket, actor, now)
            notify_public_reply(message)
        elif not staff and ticket.status == Ticket.Status.WAITING:
            # The customer answered: the wait is over and the clocks run again.
            change_status(ticket, Ticket.Status.OPEN, actor=actor, now=now, notify=False)
        if not staff:
            notify_customer_reply(message)
    return message


def _staff_replied(ticket: Ticket, actor: User, now: datetime) -> None:
    """The first public staff reply stops the response clock (unless resolution already
    did); a new ticket becomes open."""
    extra: tuple[str, ...] = ()
    if ticket.responded_at is None and ticket.status not in Ticket.DONE_STATUSES:
        ticket.responded_at = now
        extra = ("responded_at",)
    if ticket.status == Ticket.Status.NEW:
        change_status(ticket, Ticket.Status.OPEN, actor=actor, now=now, notify=False, extra=extra)
    elif extra:
        save_clocks(ticket, now=now, extra=extra)
