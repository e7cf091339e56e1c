"""Issued records refuse TRUNCATE too (row triggers do not fire on it): a statement-level
trigger on PostgreSQL (slaportal.append_only.no_truncate)."""

from django.db import migrations

from slaportal.append_only import no_truncate


class Migration(migrations.Migration):
    dependencies = [("contracts", "0006_invoice_immutable")]

    operations = [no_truncate("contracts_invoice", "contracts_invoiceline")]
