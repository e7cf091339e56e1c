"""A trigram index on customer names (PostgreSQL): the desk's customer search, the log
form's and the API's ``?name=`` match part of a name in any case (``icontains``, which
Django writes as ``UPPER(name::text) LIKE UPPER('%…%')``), and a GIN trigram index on
that expression answers it without reading every customer. It also gives PostgreSQL
statistics on the expression, so it no longer guesses that one customer matches.

Not in ``Customer.Meta.indexes``: SQLite has neither pg_trgm nor GIN, and there the
search reads the table (icontains), as before."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "customer_name_trgm_idx"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON contracts_customer "
            "USING gin (UPPER(name::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("contracts", "0008_list_indexes")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop, elidable=False),
    ]
