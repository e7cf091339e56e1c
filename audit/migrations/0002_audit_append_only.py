"""Audit entries are append-only, enforced by the database itself (as the credits ledger):
any UPDATE or DELETE of an entry raises, whichever code (ORM, admin, raw SQL) attempts it."""

from django.db import migrations

from slaportal.append_only import AUDIT, append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only(*AUDIT)]
