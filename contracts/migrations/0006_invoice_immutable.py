"""A recorded invoice is the billing system's document: the database itself (PostgreSQL and
SQLite) refuses to change it or delete it, whatever code path tries: ORM, admin, raw SQL.

On ``contracts_invoice`` an UPDATE may change only ``paid_at`` (a payment) and ``total``,
and ``total`` only to the sum of the invoice's lines at that moment (the credits code adds
a negative line, then sets the total to the new sum). A DELETE is refused. Invoice lines
are append-only: a correction is a new line.

PostgreSQL compares the whole row less the mutable columns, so a column added later is
frozen too. SQLite names the frozen columns: a migration that adds a column to Invoice,
or otherwise makes SQLite rebuild the table (which drops its triggers), must recreate
the SQLite triggers (``sqlite_sql`` below takes the model).
"""

from django.db import migrations

from slaportal.append_only import INVOICE_LINES, INVOICES, append_only, sql

TABLE = INVOICES.table
LINES = INVOICE_LINES.table
MUTABLE = ["total", "paid_at"]
MESSAGE = (
    "an issued invoice cannot change: only its payment (paid_at) may be recorded, "
    "and its total follows its lines"
)
TOTAL_MESSAGE = "an invoice total must equal the sum of its lines"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION contracts_invoice_guard() RETURNS trigger AS $$
DECLARE
    mutable text[] := ARRAY{MUTABLE!r};
    lines numeric;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{INVOICES.message}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.total IS DISTINCT FROM OLD.total THEN
        SELECT COALESCE(SUM(amount), 0) INTO lines FROM {LINES} WHERE invoice_id = NEW.id;
        IF NEW.total IS DISTINCT FROM lines THEN
            RAISE EXCEPTION '{TOTAL_MESSAGE} (% for invoice %, not %)', lines, OLD.number, NEW.total
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER contracts_invoice_no_edit BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION contracts_invoice_guard();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS contracts_invoice_no_edit ON {TABLE};
DROP FUNCTION IF EXISTS contracts_invoice_guard();
"""


def sqlite_sql(invoice_model) -> list[str]:
    frozen = [f.column for f in invoice_model._meta.concrete_fields if f.column not in MUTABLE]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen)
    # SQLite keeps these decimals as floating point: a sum within half a cent is the sum.
    lines = f"(SELECT COALESCE(SUM(amount), 0) FROM {LINES} WHERE invoice_id = NEW.id)"
    return [
        f"CREATE TRIGGER contracts_invoice_no_edit BEFORE UPDATE ON {TABLE} "
        f"WHEN {changed} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        f"CREATE TRIGGER contracts_invoice_total_is_lines BEFORE UPDATE OF total ON {TABLE} "
        f"WHEN NEW.total IS NOT OLD.total AND abs(NEW.total - {lines}) >= 0.005 "
        f"BEGIN SELECT RAISE(ABORT, '{TOTAL_MESSAGE}'); END;",
        # The same statement ``slaportal.append_only.sqlite_empty`` restores after a test.
        sql(*INVOICES)["sqlite_up"][1],
    ]


SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS contracts_invoice_no_edit;",
    "DROP TRIGGER IF EXISTS contracts_invoice_total_is_lines;",
    "DROP TRIGGER IF EXISTS contracts_invoice_no_delete;",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the function body uses RAISE's own % placeholders.
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_sql(apps.get_model("contracts", "Invoice")):
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no invoice immutability trigger for {vendor}")


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0005_invoice_kind_policy_credit_terms")]

    operations = [
        migrations.RunPython(install, remove),
        append_only(*INVOICE_LINES),
    ]
