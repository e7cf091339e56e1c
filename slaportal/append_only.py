"""One migration operation for tables whose rows may never change: ``append_only(table,
name, message)`` installs BEFORE UPDATE and BEFORE DELETE triggers (PostgreSQL and SQLite)
that raise ``message``, whichever code (ORM, admin, raw SQL) attempts the change. Used by
the credits ledger and the audit log; statements have their own, conditional trigger."""

from __future__ import annotations

from typing import NamedTuple

from django.db import migrations


class AppendOnly(NamedTuple):
    table: str
    name: str  # prefixes the function and trigger names
    message: str


LEDGER = AppendOnly(
    "credits_ledgerentry",
    "credits_ledger",
    "credits ledger entries are append-only: post a reversal instead",
)
AUDIT = AppendOnly("audit_auditentry", "audit_entry", "audit entries are append-only")
CREDIT_NOTES = AppendOnly(
    "credits_creditnote", "credits_credit_note", "a credit note cannot be changed: issue a reversal"
)
CREDIT_NOTE_FILES = AppendOnly(
    "credits_creditnotefile", "credits_credit_note_file", "the PDF of a credit note is stored once"
)
INVOICE_LINES = AppendOnly(
    "contracts_invoiceline",
    "contracts_invoice_line",
    "invoice lines cannot be changed or deleted: add a correcting line instead",
)
# An invoice's row may change in part (contracts migration 0006 installs that trigger), but
# its delete trigger is this plain one, so a test can lift it like the others.
INVOICES = AppendOnly("contracts_invoice", "contracts_invoice", "an invoice cannot be deleted")
# Emptied after a transactional test in this order: each table's rows reference the next.
TABLES = (CREDIT_NOTE_FILES, CREDIT_NOTES, LEDGER, INVOICE_LINES, INVOICES, AUDIT)


def sql(table: str, name: str, message: str) -> dict[str, list[str]]:
    """The statements per vendor and direction (``name`` prefixes the trigger names)."""
    postgres_up = f"""
CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {name}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}_append_only();
CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}_append_only();
"""
    postgres_down = f"""
DROP TRIGGER IF EXISTS {name}_no_update ON {table};
DROP TRIGGER IF EXISTS {name}_no_delete ON {table};
DROP FUNCTION IF EXISTS {name}_append_only();
"""
    return {
        "postgresql_up": [postgres_up],
        "postgresql_down": [postgres_down],
        "sqlite_up": [
            f"CREATE TRIGGER {name}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            for event in ("UPDATE", "DELETE")
        ],
        "sqlite_down": [
            f"DROP TRIGGER IF EXISTS {name}_no_{event};" for event in ("update", "delete")
        ],
    }


def append_only(table: str, name: str, message: str) -> migrations.RunPython:
    statements = sql(table, name, message)

    def run(direction: str):
        def apply(apps, schema_editor) -> None:
            vendor = schema_editor.connection.vendor
            key = f"{vendor}_{direction}"
            if key not in statements:
                if direction == "up":
                    raise RuntimeError(f"no append-only trigger for {vendor}")
                return
            for statement in statements[key]:
                schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run("up"), run("down"))


def sqlite_empty(cursor, table: AppendOnly) -> None:
    """Delete every row of an append-only table on SQLite, the delete trigger lifted for
    that one statement (tests: a live server's test ends by emptying every table, which
    SQLite does with DELETE; PostgreSQL truncates, which fires no row trigger)."""
    cursor.execute(f"DROP TRIGGER IF EXISTS {table.name}_no_delete")
    cursor.execute(f"DELETE FROM {table.table}")
    cursor.execute(sql(*table)["sqlite_up"][1])


# ---------------------------------------------------------------- TRUNCATE

# Row triggers do not fire on TRUNCATE, so every table whose rows are issued records also
# refuses TRUNCATE with a statement-level trigger (PostgreSQL; SQLite has no TRUNCATE).
# The application's database role has no TRUNCATE privilege either (``db_grant_app_role``);
# this stops the owner, and a TRUNCATE … CASCADE from a table above.
NO_TRUNCATE = (
    "audit_auditentry",
    "contracts_invoice",
    "contracts_invoiceline",
    "credits_ledgerentry",
    "credits_creditnote",
    "credits_creditnotefile",
    "statements_statement",
    "statements_statementcredit",
)

_REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION slaportal_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = TG_TABLE_NAME || ' holds issued records: it cannot be truncated',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def truncate_trigger(table: str) -> str:
    return f"{table}_no_truncate"


def no_truncate(*tables: str) -> migrations.RunPython:
    """A migration operation: ``tables`` refuse TRUNCATE (PostgreSQL)."""
    unknown = set(tables) - set(NO_TRUNCATE)
    if unknown:
        raise ValueError(f"list {sorted(unknown)} in NO_TRUNCATE first")

    def up(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_REFUSE_TRUNCATE)
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {truncate_trigger(table)} BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION slaportal_refuse_truncate()"
            )

    def down(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {truncate_trigger(table)} ON {table}")

    return migrations.RunPython(up, down)


def flush_sql_with_truncate_allowed(statements: list[str]) -> list[str]:
    """Tests only: a transactional test ends with Django's flush, one TRUNCATE of every
    table. As the tables' owner, lift the TRUNCATE triggers around it, in its transaction
    (PostgreSQL DDL is transactional), so nothing stays lifted."""
    if not statements:
        return statements
    lift = [f"ALTER TABLE {t} DISABLE TRIGGER {truncate_trigger(t)};" for t in NO_TRUNCATE]
    keep = [f"ALTER TABLE {t} ENABLE TRIGGER {truncate_trigger(t)};" for t in NO_TRUNCATE]
    return lift + statements + keep
