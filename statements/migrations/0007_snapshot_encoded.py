"""The snapshot's encoder writes a pre-assembled text (``slaportal.encoded_json``).

An encoder is Python only: the column is unchanged, so this alters the model's state
and not the table. (On SQLite an ``AlterField`` would rebuild the table, dropping the
triggers that keep an issued statement from changing: migration 0002.)
"""

from django.db import migrations, models

import slaportal.encoded_json


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0006_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="statement",
                    name="snapshot",
                    field=models.JSONField(
                        encoder=slaportal.encoded_json.EncodedJSONEncoder,
                        help_text="The terms and figures the statement used.",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
