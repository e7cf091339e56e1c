"""Credit notes and their stored PDFs are append-only, enforced by the database itself
(PostgreSQL and SQLite): any UPDATE or DELETE raises, whichever code attempts it. A
correction is a reversal: a new note that names the one it reverses."""

from django.db import migrations

from slaportal.append_only import CREDIT_NOTE_FILES, CREDIT_NOTES, append_only


class Migration(migrations.Migration):
    dependencies = [("credits", "0003_credit_notes")]

    operations = [append_only(*CREDIT_NOTES), append_only(*CREDIT_NOTE_FILES)]
