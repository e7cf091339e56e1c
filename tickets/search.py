"""The desk's search (a read, as ``tickets.selectors``; its own module for its size): a
ticket by its reference, the words of its subject, description or sender's address, of
any message the reader may see (internal notes: support staff only), its requester's
name or e-mail, its customer's name.

On PostgreSQL words match as full-text search does (``websearch_to_tsquery``: stems,
"quoted phrases", -exclusions), read from GIN indexes on the very expressions below
(tickets/migrations/0006); on SQLite, as part of the text.

Two plans, because no one plan is fast for both a rare word and a common one:

* A rare word (a name, an error code, a word of one ticket's third message): the few
  matching ids, from one union of index lookups (the ticket's and the messages' GIN
  indexes, the customers' trigram index, the requester's foreign key), joined to the
  queue. 200,000 tickets: about 10 ms.
* A word in more than a tenth of the messages: the queue read in its order, each ticket
  checked in turn (its own words, then its messages by the thread index) until the page
  is full. The union would gather and join every match first: 0.9 s for a word in half
  the messages, where the walk takes 0.15 s. PostgreSQL cannot choose between them (it
  guesses 200 distinct ids out of any union), so its own estimate of the matching
  messages, from the full-text statistics of the GIN index, chooses here.
"""

from __future__ import annotations

import json

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery

from contracts.models import User
from tickets.models import Ticket, TicketMessage, ticket_pk_from_reference
from tickets.selectors import customer_ids_named, is_support_staff

SEARCH_CONFIG = "english"
# What the GIN indexes of tickets/migrations/0006 hold: the very same expressions, or
# PostgreSQL reads every row instead.
TICKET_DOCUMENT = ("subject", "description", "sender_email")
MESSAGE_DOCUMENT = ("body",)
PEOPLE_LISTED = 1000  # as selectors.NAMED_CUSTOMERS_LISTED
COMMON_SHARE = 0.1  # a word in more messages than this share: the walk (see above)


def _people_ids_named(text: str) -> list[int] | QuerySet[User]:
    """Customer people whose name or e-mail holds every word of ``text`` (any case)."""
    people = User.objects.filter(customer__isnull=False)
    for word in text.split()[:5]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    named = people.values_list("pk", flat=True)
    ids = list(named[: PEOPLE_LISTED + 1])
    return named if len(ids) > PEOPLE_LISTED else ids


def _reference_pk(text: str) -> int | None:
    """``T-000123`` anywhere, or a bare ticket number (``123``)."""
    pk = ticket_pk_from_reference(text.upper())
    if pk is None and text.isdigit() and len(text) <= 12:
        pk = int(text)
    return pk


def _messages(user: User) -> QuerySet[TicketMessage]:
    messages = TicketMessage.objects.all()
    return messages if is_support_staff(user) else messages.filter(public=True)


def _query(text: str) -> SearchQuery:
    return SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")


def _matching_messages(text: str, user: User) -> QuerySet[TicketMessage]:
    if connection.vendor != "postgresql":
        return _messages(user).filter(body__icontains=text)
    body = SearchVector(*MESSAGE_DOCUMENT, config=SEARCH_CONFIG)
    return _messages(user).alias(document=body).filter(document=_query(text))


def _owners(text: str) -> list[Q]:
    """The reference, the requesters and the customers ``text`` names, as filters."""
    found = []
    pk = _reference_pk(text)
    if pk is not None:
        found.append(Q(pk=pk))
    people = _people_ids_named(text)
    if not isinstance(people, list) or people:
        found.append(Q(requester_id__in=people))
    customers = customer_ids_named(text)
    if not isinstance(customers, list) or customers:
        found.append(Q(customer_id__in=customers))
    return found


def _own_words(text: str) -> tuple[dict, Q]:
    """The alias and filter of a ticket's own words (subject, description, sender)."""
    if connection.vendor != "postgresql":
        words = Q(subject__icontains=text) | Q(description__icontains=text)
        return {}, words | Q(sender_email__icontains=text)
    return {"document": SearchVector(*TICKET_DOCUMENT, config=SEARCH_CONFIG)}, Q(
        document=_query(text)
    )


def ticket_ids_matching(text: str, *, user: User) -> QuerySet:
    """The ids of the tickets ``text`` finds, as one union of index lookups."""
    text = " ".join(text.split())
    alias, words = _own_words(text)
    parts = [Ticket.objects.alias(**alias).filter(words).values("pk")]
    parts.append(_matching_messages(text, user).values("ticket_id"))
    parts += [Ticket.objects.filter(owner).values("pk") for owner in _owners(text)]
    first, *rest = (part.order_by() for part in parts)  # no ORDER BY inside a UNION
    return first.union(*rest)


def _common(messages: QuerySet[TicketMessage]) -> bool:
    """Whether PostgreSQL expects ``messages`` to be more than COMMON_SHARE of them all
    (its estimates, no rows read)."""
    if connection.vendor != "postgresql":
        return False

    def rows(queryset: QuerySet) -> float:
        return json.loads(queryset.explain(format="json"))[0]["Plan"]["Plan Rows"]

    return rows(messages) > COMMON_SHARE * max(rows(TicketMessage.objects.all()), 1)


def tickets_matching(tickets: QuerySet[Ticket], text: str, *, user: User) -> QuerySet[Ticket]:
    """``tickets`` that ``text`` finds (see the module docstring), in their own order."""
    text = " ".join(text.split())
    messages = _matching_messages(text, user)
    if not _common(messages):
        return tickets.filter(pk__in=ticket_ids_matching(text, user=user))
    # A scalar subquery rather than EXISTS, which PostgreSQL would hash: every match.
    first = Subquery(messages.filter(ticket=OuterRef("pk")).values("pk")[:1])
    alias, words = _own_words(text)
    found = Q()
    for condition in [*_owners(text), words, Q(message_found__isnull=False)]:
        found |= condition
    return tickets.alias(**alias, message_found=first).filter(found)
