"""An issued statement is never edited or deleted, enforced by the database itself
(PostgreSQL and SQLite), whatever code path tries: ORM, admin, raw SQL.

On an issued or superseded row the triggers allow only the document's life cycle:
status issued → superseded; pdf, pdf_sha256 and pdf_rendered_at set once from empty;
emailed_at set once from empty. A draft stays editable and deletable. The links to a
statement's credits are append-only.

PostgreSQL compares the whole row less those columns, so a column added later is
frozen too. SQLite names the frozen columns: a migration that adds a column to
Statement must recreate the SQLite trigger (``sqlite_sql`` below takes the model).
"""

from django.db import migrations

TABLE = "statements_statement"
LINKS = "statements_statementcredit"
MUTABLE = ["status", "pdf", "pdf_sha256", "pdf_rendered_at", "emailed_at"]
MESSAGE = "an issued statement cannot be changed or deleted: issue a new revision instead"
LINK_MESSAGE = "the credits of a statement are append-only"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION statements_statement_guard() RETURNS trigger AS $$
DECLARE
    mutable text[] := ARRAY{MUTABLE!r};
BEGIN
    IF OLD.status = 'draft' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE'
        OR (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable)
        OR NOT (NEW.status = OLD.status OR (OLD.status = 'issued' AND NEW.status = 'superseded'))
        OR (OLD.pdf <> '' AND (NEW.pdf, NEW.pdf_sha256, NEW.pdf_rendered_at)
            IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256, OLD.pdf_rendered_at))
        OR (OLD.emailed_at IS NOT NULL AND NEW.emailed_at IS DISTINCT FROM OLD.emailed_at)
    THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER statements_statement_no_edit BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION statements_statement_guard();

CREATE OR REPLACE FUNCTION statements_links_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{LINK_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER statements_links_no_edit BEFORE UPDATE OR DELETE ON {LINKS}
    FOR EACH ROW EXECUTE FUNCTION statements_links_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS statements_statement_no_edit ON {TABLE};
DROP FUNCTION IF EXISTS statements_statement_guard();
DROP TRIGGER IF EXISTS statements_links_no_edit ON {LINKS};
DROP FUNCTION IF EXISTS statements_links_append_only();
"""


def sqlite_sql(statement_model) -> list[str]:
    frozen = [
        f.column for f in statement_model._meta.concrete_fields if f.column not in MUTABLE
    ]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen)
    return [
        f"CREATE TRIGGER statements_statement_no_delete BEFORE DELETE ON {TABLE} "
        f"WHEN OLD.status <> 'draft' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        f"CREATE TRIGGER statements_statement_no_edit BEFORE UPDATE ON {TABLE} "
        f"WHEN OLD.status <> 'draft' AND ({changed}"
        " OR NOT (NEW.status = OLD.status OR (OLD.status = 'issued' AND NEW.status = 'superseded'))"
        " OR (OLD.pdf <> '' AND (NEW.pdf IS NOT OLD.pdf OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256"
        " OR NEW.pdf_rendered_at IS NOT OLD.pdf_rendered_at))"
        " OR (OLD.emailed_at IS NOT NULL AND NEW.emailed_at IS NOT OLD.emailed_at))"
        f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        f"CREATE TRIGGER statements_links_no_update BEFORE UPDATE ON {LINKS} "
        f"BEGIN SELECT RAISE(ABORT, '{LINK_MESSAGE}'); END;",
        f"CREATE TRIGGER statements_links_no_delete BEFORE DELETE ON {LINKS} "
        f"BEGIN SELECT RAISE(ABORT, '{LINK_MESSAGE}'); END;",
    ]


SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS statements_statement_no_delete;",
    "DROP TRIGGER IF EXISTS statements_statement_no_edit;",
    "DROP TRIGGER IF EXISTS statements_links_no_update;",
    "DROP TRIGGER IF EXISTS statements_links_no_delete;",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for statement in sqlite_sql(apps.get_model("statements", "Statement")):
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no statement immutability trigger for {vendor}")


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("statements", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
