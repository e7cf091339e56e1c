"""A partial index over the statements still owed their delivery (``UNDELIVERED`` in
``statements.models``): the hourly tick's sweep reads it instead of every statement."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0002_statement_immutable"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(
                condition=models.Q(
                    models.Q(
                        ("status", "issued"),
                        models.Q(("pdf", ""), ("emailed_at__isnull", True), _connector="OR"),
                    ),
                    models.Q(("pdf", ""), ("status", "superseded")),
                    _connector="OR",
                ),
                fields=["issued_at"],
                name="statement_undelivered_idx",
            ),
        ),
    ]
