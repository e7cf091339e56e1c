"""Ledger rows are append-only, enforced by the database itself: any UPDATE or DELETE of
a ledger row raises, whichever code (ORM, admin, raw SQL) attempts it."""

from django.db import migrations

from slaportal.append_only import LEDGER, append_only


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [append_only(*LEDGER)]
