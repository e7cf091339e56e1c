"""Issued records refuse TRUNCATE too (row triggers do not fire on it): a statement-level
trigger on PostgreSQL (slaportal.append_only.no_truncate)."""

from django.db import migrations

from slaportal.append_only import no_truncate


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_audit_append_only")]

    operations = [no_truncate("audit_auditentry")]
