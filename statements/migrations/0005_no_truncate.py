"""Issued records refuse TRUNCATE too (row triggers do not fire on it): a statement-level
trigger on PostgreSQL (slaportal.append_only.no_truncate)."""

from django.db import migrations

from slaportal.append_only import no_truncate


class Migration(migrations.Migration):
    dependencies = [("statements", "0004_statement_pdf_credits")]

    operations = [no_truncate("statements_statement", "statements_statementcredit")]
