"""Watchers: colleagues of the requester who get a ticket's public messages (CC).

A customer person adds or removes people of their own organisation on their
organisation's tickets (support staff may too); an inbound e-mail that CCs registered
colleagues adds them (``watchers_from_cc``). Nobody from another organisation, no one
inactive, and not the requester (who gets everything anyway).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError

from contracts.models import User
from tickets.models import Ticket
from tickets.selectors import is_support_staff
from tickets.services._common import require_party


def watcher_candidates(ticket: Ticket) -> list[User]:
    """Who may still be added: the organisation's active people, not yet watching."""
    if not ticket.customer_id:
        return []
    people = User.objects.filter(customer_id=ticket.customer_id, is_active=True)
    people = people.exclude(pk=ticket.requester_id).exclude(watched_tickets=ticket)
    return list(people.order_by("first_name", "last_name", "username"))


def _check_actor(ticket: Ticket, actor: User) -> None:
    require_party(actor, ticket)
    if not (actor.customer_id or is_support_staff(actor)):
        raise PermissionDenied("Only the customer's people and support staff change watchers.")


def ticket_watcher_add(*, ticket: Ticket, actor: User, person: User) -> Ticket:
    """``person`` gets the ticket's public messages from now on."""
    _check_actor(ticket, actor)
    if ticket.status == Ticket.Status.CLOSED:
        raise ValidationError({"person": ["This ticket is closed."]})
    if not ticket.customer_id or person.customer_id != ticket.customer_id:
        raise ValidationError({"person": ["Add someone from the ticket's organisation."]})
    if not person.is_active:
        raise ValidationError({"person": ["That person's account is not active."]})
    if person.pk == ticket.requester_id:
        raise ValidationError({"person": ["The requester gets every reply already."]})
    ticket.watchers.add(person)
    return ticket


def ticket_watcher_remove(*, ticket: Ticket, actor: User, person: User) -> Ticket:
    """``person`` stops getting the ticket's messages (anyone may remove themselves)."""
    if actor.pk != person.pk:
        _check_actor(ticket, actor)
    ticket.watchers.remove(person)
    return ticket


def watchers_from_cc(ticket: Ticket, addresses: Iterable[str]) -> list[User]:
    """Registered, active people of the ticket's organisation among ``addresses`` (an
    inbound e-mail's Cc) become watchers; the ones added."""
    wanted = {a.strip().lower() for a in addresses if a and "@" in a}
    if not wanted or not ticket.customer_id or ticket.status == Ticket.Status.CLOSED:
        return []
    people = User.objects.filter(customer_id=ticket.customer_id, is_active=True)
    people = people.filter(email__in=wanted).exclude(pk=ticket.requester_id)
    added = list(people.exclude(watched_tickets=ticket))
    ticket.watchers.add(*added)
    return added
