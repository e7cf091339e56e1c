"""A ticket's e-mails as one thread in the reader's mail client, and a reply found by it.

Every e-mail about a ticket names the ticket's thread: the first one (the receipt) has
the thread's own Message-ID, and every later one answers it (``In-Reply-To`` and
``References``), after the customer's own first message when the ticket came by e-mail.
Mail clients thread them, and a reply to any of them carries the thread's id in its
``References`` (or its ``In-Reply-To``), so it lands on the ticket even when the subject
lost the ``T-000123`` reference.

A thread id names the ticket with a keyed tag (HMAC of ``SECRET_KEY``), so no one can
make up a header that files their mail on someone else's ticket by number; the inbound
rules (who may write on the ticket) apply as for a reference in the subject.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from django.conf import settings

from outbox.services import mail_domain
from tickets.models import Ticket

THREAD_ID = re.compile(r"^<ticket-(\d{1,12})\.([0-9a-f]{16})(?:\.[0-9a-f]{1,32})?@[^<>@\s]+>$")


def _tag(pk: int) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"ticket-thread:{pk}".encode(), hashlib.sha256).hexdigest()[:16]


def thread_root(ticket: Ticket) -> str:
    """The ticket's thread id: its receipt's Message-ID."""
    return f"<ticket-{ticket.pk}.{_tag(ticket.pk)}@{mail_domain()}>"


def message_id_for(ticket: Ticket) -> str:
    """A new Message-ID in the ticket's thread (each e-mail its own)."""
    return f"<ticket-{ticket.pk}.{_tag(ticket.pk)}.{secrets.token_hex(8)}@{mail_domain()}>"


def thread_headers(
    ticket: Ticket, *, first: bool = False, origin: str = ""
) -> tuple[str, dict[str, str]]:
    """``(Message-ID, headers)`` of an e-mail about ``ticket``: the receipt (``first``)
    starts the thread, after the customer's own message when they wrote in (``origin``,
    while the ticket is being filed; later found on the ticket); every other e-mail
    answers the receipt. Replies go to the support address."""
    origin = _valid(origin) or _origin(ticket)
    root = thread_root(ticket)
    headers = {"Reply-To": settings.SUPPORT_EMAIL}
    if first:
        if origin:
            headers |= {"In-Reply-To": origin, "References": origin}
        return root, headers
    headers |= {"In-Reply-To": root, "References": " ".join(filter(None, [origin, root]))}
    return message_id_for(ticket), headers


def _origin(ticket: Ticket) -> str:
    """The Message-ID of the customer's e-mail that opened the ticket, if one did."""
    first = ticket.inbound_emails.filter(reply__isnull=True).order_by("pk").first()
    return _valid(first.message_id) if first else ""


def _valid(message_id: str) -> str:
    return message_id if re.fullmatch(r"<[^<>\s]{1,500}>", message_id or "") else ""


def ticket_pk_from_thread(ids: Iterable[str]) -> int | None:
    """The ticket a reply answers, from its In-Reply-To and References ids: the first of
    ours whose tag is right. None when it answers none of our e-mails."""
    for value in ids:
        found = THREAD_ID.match(value.strip())
        if found and hmac.compare_digest(found[2], _tag(int(found[1]))):
            return int(found[1])
    return None
