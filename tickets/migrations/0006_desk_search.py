"""The desk's search and sorts (tickets/views/desk.py, ``tickets.search``,
``tickets.selectors.desk_queue``).

Full-text search, PostgreSQL only: GIN indexes on ``to_tsvector`` of each ticket's
subject, description and sender address, and of each message's body, so a word in a
ticket's third message is found with an index lookup, not by reading 200,000 messages.
The expressions are built by Django from ``SearchVector``, as the search builds them
(``tickets.search.TICKET_DOCUMENT`` / ``MESSAGE_DOCUMENT``): PostgreSQL uses an
expression index only for the same expression. SQLite has neither GIN nor to_tsvector;
there the search reads the tables (icontains).

The sorts' orders (``tickets.selectors.desk_queue``), each read from an index in order
on both databases, as tests/slaportal/test_list_indexes.py checks: severity, newest or
oldest, and last update, over the open tickets (a tenth of the table, partial) and over
every ticket. The customer sort reads the customers' name index and each customer's
existing queue or list index.

None of them is in ``Meta.indexes`` (as contracts 0009's trigram index is not): the
GIN ones are PostgreSQL's alone, and the model modules were not this change's to edit;
the B-tree ones can move there with a ``SeparateDatabaseAndState``.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models
from django.db.models import Q

OPEN = Q(status__in=["new", "open", "waiting_on_customer"])
SEARCH_CONFIG = "english"


def _btree() -> list[tuple[str, models.Index]]:
    return [
        (
            "ticket",
            models.Index(
                fields=["severity", "next_due_at", "id"],
                name="ticket_open_severity_idx",
                condition=OPEN,
            ),
        ),
        (
            "ticket",
            models.Index(fields=["severity", "-created_at", "-id"], name="ticket_severity_idx"),
        ),
        (
            "ticket",
            models.Index(
                fields=["-created_at", "-id"], name="ticket_open_newest_idx", condition=OPEN
            ),
        ),
        (
            "ticket",
            models.Index(
                fields=["-updated_at", "-id"], name="ticket_open_updated_idx", condition=OPEN
            ),
        ),
        ("ticket", models.Index(fields=["-updated_at", "-id"], name="ticket_updated_idx")),
    ]


def _gin() -> list[tuple[str, models.Index]]:
    return [
        (
            "ticket",
            GinIndex(
                SearchVector("subject", "description", "sender_email", config=SEARCH_CONFIG),
                name="ticket_text_search_idx",
            ),
        ),
        (
            "ticketmessage",
            GinIndex(SearchVector("body", config=SEARCH_CONFIG), name="ticket_message_search_idx"),
        ),
    ]


def _indexes(schema_editor) -> list[tuple[str, models.Index]]:
    if schema_editor.connection.vendor == "postgresql":
        return _btree() + _gin()
    return _btree()


def create(apps, schema_editor) -> None:
    for model, index in _indexes(schema_editor):
        schema_editor.add_index(apps.get_model("tickets", model), index)
    if schema_editor.connection.vendor == "postgresql":
        # Statistics on the new expressions now, not at the next autovacuum: the search
        # asks PostgreSQL how common a word is (tickets.search._common).
        schema_editor.execute("ANALYZE tickets_ticket, tickets_ticketmessage")


def drop(apps, schema_editor) -> None:
    for model, index in _indexes(schema_editor):
        schema_editor.remove_index(apps.get_model("tickets", model), index)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_helpdesk")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
