"""Filing safely repeated: a filing's key (the form's one-time token, or the API's
``Idempotency-Key`` header) files one ticket however often it is sent. Going Back after
filing and submitting again, or a script retrying after a timeout, gets the first
ticket back (``ticket.replayed`` is True), never a second one."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contracts.models import User
from tickets.models import IdempotencyKey, Ticket

KEY_LENGTH = IdempotencyKey._meta.get_field("key").max_length


def clean_key(key: str, field: str = "idempotency_key") -> str:
    """The key as stored; a ``ValidationError`` when it is too long or not plain text."""
    key = (key or "").strip()
    if len(key) > KEY_LENGTH or not key.isprintable():
        raise ValidationError({field: [f"Use a key of at most {KEY_LENGTH} plain characters."]})
    return key


def earlier_filing(actor: User, key: str) -> Ticket | None:
    """The ticket ``actor`` filed with ``key`` before, marked ``replayed``."""
    if not key:
        return None
    found = IdempotencyKey.objects.filter(user=actor, key=key).select_related("ticket").first()
    if found is None:
        return None
    found.ticket.replayed = True
    return found.ticket


def filed_once(actor: User, key: str, create: Callable[[], Ticket]) -> Ticket:
    """``create()`` the ticket and record ``key`` with it, in one transaction; a key
    recorded meanwhile by a concurrent request wins, and its ticket is returned."""
    if not key:
        return create()
    try:
        with transaction.atomic():
            ticket = create()
            IdempotencyKey.objects.create(
                user=actor, key=key, ticket=ticket, created_at=ticket.created_at
            )
    except IntegrityError:
        earlier = earlier_filing(actor, key)
        if earlier is None:
            raise
        return earlier
    ticket.replayed = False
    return ticket
