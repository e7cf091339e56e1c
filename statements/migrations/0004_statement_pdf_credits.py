"""The credits' states a final PDF was rendered with (``pdf_credits``) and when staff last
re-rendered a missing or altered PDF (``pdf_restored_at``), and the immutability
triggers of migration 0002 re-installed for them.

On an issued or superseded row the triggers now allow: status issued → superseded;
``pdf``, ``pdf_sha256``, ``pdf_rendered_at`` and ``pdf_credits`` set once from empty
(never cleared; ``pdf_rendered_at`` and ``pdf_credits`` never change after that);
``pdf`` and ``pdf_sha256`` replaced only together with a new, later ``pdf_restored_at``
(a restore whose re-render differs from the stored bytes, see
``statements.services.restore``); ``emailed_at`` set once from empty. PostgreSQL still
compares the whole row less those columns; SQLite names the frozen columns, so its
trigger is recreated here with the new ones. Messages carry no apostrophe (SQL literal).
"""

from django.db import migrations, models

TABLE = "statements_statement"
MUTABLE = [
    "status",
    "pdf",
    "pdf_sha256",
    "pdf_rendered_at",
    "pdf_credits",
    "pdf_restored_at",
    "emailed_at",
]
MESSAGE = "an issued statement cannot be changed or deleted: issue a new revision instead"

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
        OR (OLD.pdf <> '' AND (NEW.pdf = ''
            OR NEW.pdf_rendered_at IS DISTINCT FROM OLD.pdf_rendered_at
            OR NEW.pdf_credits IS DISTINCT FROM OLD.pdf_credits))
        OR (OLD.pdf <> '' AND (NEW.pdf, NEW.pdf_sha256) IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256)
            AND NOT (NEW.pdf_restored_at IS NOT NULL
                     AND NEW.pdf_restored_at IS DISTINCT FROM OLD.pdf_restored_at))
        OR (NEW.pdf = '' AND (NEW.pdf_credits IS NOT NULL OR NEW.pdf_restored_at IS NOT NULL))
        OR (OLD.pdf_restored_at IS NOT NULL
            AND (NEW.pdf_restored_at IS NULL OR NEW.pdf_restored_at < OLD.pdf_restored_at))
        OR (OLD.emailed_at IS NOT NULL AND NEW.emailed_at IS DISTINCT FROM OLD.emailed_at)
    THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# 0002's function, for going back.
POSTGRES_DOWN = f"""
CREATE OR REPLACE FUNCTION statements_statement_guard() RETURNS trigger AS $$
DECLARE
    mutable text[] := ARRAY{["status", "pdf", "pdf_sha256", "pdf_rendered_at", "emailed_at"]!r};
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
"""


def sqlite_sql(statement_model) -> list[str]:
    frozen = [
        f.column for f in statement_model._meta.concrete_fields if f.column not in MUTABLE
    ]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen)
    return [
        "DROP TRIGGER IF EXISTS statements_statement_no_edit;",
        f"CREATE TRIGGER statements_statement_no_edit BEFORE UPDATE ON {TABLE} "
        f"WHEN OLD.status <> 'draft' AND ({changed}"
        " OR NOT (NEW.status = OLD.status OR (OLD.status = 'issued' AND NEW.status = 'superseded'))"
        " OR (OLD.pdf <> '' AND (NEW.pdf = '' OR NEW.pdf_rendered_at IS NOT OLD.pdf_rendered_at"
        " OR NEW.pdf_credits IS NOT OLD.pdf_credits))"
        " OR (OLD.pdf <> '' AND (NEW.pdf IS NOT OLD.pdf OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256)"
        " AND NOT (NEW.pdf_restored_at IS NOT NULL"
        " AND NEW.pdf_restored_at IS NOT OLD.pdf_restored_at))"
        " OR (NEW.pdf = '' AND (NEW.pdf_credits IS NOT NULL OR NEW.pdf_restored_at IS NOT NULL))"
        " OR (OLD.pdf_restored_at IS NOT NULL"
        " AND (NEW.pdf_restored_at IS NULL OR NEW.pdf_restored_at < OLD.pdf_restored_at))"
        " OR (OLD.emailed_at IS NOT NULL AND NEW.emailed_at IS NOT OLD.emailed_at))"
        f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    ]


def sqlite_down(statement_model) -> list[str]:
    old = ["status", "pdf", "pdf_sha256", "pdf_rendered_at", "emailed_at"]
    frozen = [f.column for f in statement_model._meta.concrete_fields if f.column not in old]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen)
    return [
        "DROP TRIGGER IF EXISTS statements_statement_no_edit;",
        f"CREATE TRIGGER statements_statement_no_edit BEFORE UPDATE ON {TABLE} "
        f"WHEN OLD.status <> 'draft' AND ({changed}"
        " OR NOT (NEW.status = OLD.status OR (OLD.status = 'issued' AND NEW.status = 'superseded'))"
        " OR (OLD.pdf <> '' AND (NEW.pdf IS NOT OLD.pdf OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256"
        " OR NEW.pdf_rendered_at IS NOT OLD.pdf_rendered_at))"
        " OR (OLD.emailed_at IS NOT NULL AND NEW.emailed_at IS NOT OLD.emailed_at))"
        f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
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
        for statement in sqlite_down(apps.get_model("statements", "Statement")):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("statements", "0003_statement_undelivered_idx")]

    operations = [
        migrations.AddField(
            model_name="statement",
            name="pdf_credits",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="statement",
            name="pdf_restored_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When staff last re-rendered a missing or altered PDF.",
                null=True,
            ),
        ),
        migrations.RunPython(install, remove),
    ]
