"""Shared availability facts (``outages.shared_facts``): the stored facts of a service's
month, and the per-service stamp that says whether they are still current.

Triggers on every table the facts are made of bump the service's stamp in the same
transaction as the write, whichever code makes it (PostgreSQL and SQLite):

* ``outages_outage``: a new or deleted outage, or a change to what the engine reads of one;
* ``outages_outage_customers``: an outage's scope (its customers, and so their count);
* ``contracts_contractline``: a line added, removed or moved (the service's customers);
* ``contracts_contract``: its customer or its days in force changed (every service it has);
* ``contracts_service``: whether the service is critical.

SQLite drops a table's triggers when a migration rebuilds the table (an ``AlterField`` of
one of these models, say): such a migration must run ``install`` again
(``tests/outages/test_shared_facts.py`` fails while a trigger is missing).
"""

import django.db.models.deletion
from django.db import migrations, models

# A stamp's version is a token, new on every change and never given twice, not a count: a
# process keeps the facts it decoded by version, and a count would hand out the same
# number again after a rollback (PostgreSQL: a sequence, which a rollback does not undo;
# SQLite: a random 64-bit number).
SEQUENCE = "outages_facts_version"
TOKEN = {"postgresql": f"nextval('{SEQUENCE}')", "sqlite": "random()"}
BUMP = (
    "INSERT INTO outages_factsstamp (service_id, version) {rows} "
    "ON CONFLICT (service_id) DO UPDATE SET version = {token}"
)
OUTAGE_FIELDS = ["service_id", "started_at", "ended_at", "confirmed_at", "category", "scope", "title"]
CONTRACT_FIELDS = ["customer_id", "start_date", "end_date", "terminated_on"]


def _changed(fields: list[str], distinct: str) -> str:
    return " OR ".join(f"OLD.{f} {distinct} NEW.{f}" for f in fields)


def _triggers(vendor: str) -> list[tuple[str, str, str, list[str]]]:
    """(table, event, WHEN condition or "", statements); NEW/OLD as each event has them."""
    token = TOKEN[vendor]
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"

    def _of_service(column: str) -> str:
        return BUMP.format(rows=f"VALUES ({column}, {token})", token=token)

    def _of_outage(column: str) -> str:
        rows = f"SELECT service_id, {token} FROM outages_outage WHERE id = {column}"
        return BUMP.format(rows=rows, token=token)

    def _of_contract(column: str) -> str:
        rows = (
            f"SELECT service_id, {token} FROM (SELECT DISTINCT service_id FROM "
            f"contracts_contractline WHERE contract_id = {column}) AS lines WHERE true"
        )
        return BUMP.format(rows=rows, token=token)

    return [
        ("outages_outage", "INSERT", "", [_of_service("NEW.service_id")]),
        ("outages_outage", "DELETE", "", [_of_service("OLD.service_id")]),
        (
            "outages_outage",
            "UPDATE",
            _changed(OUTAGE_FIELDS, distinct),
            [_of_service("OLD.service_id"), _of_service("NEW.service_id")],
        ),
        ("outages_outage_customers", "INSERT", "", [_of_outage("NEW.outage_id")]),
        ("outages_outage_customers", "DELETE", "", [_of_outage("OLD.outage_id")]),
        (
            "outages_outage_customers",
            "UPDATE",
            "",
            [_of_outage("OLD.outage_id"), _of_outage("NEW.outage_id")],
        ),
        ("contracts_contractline", "INSERT", "", [_of_service("NEW.service_id")]),
        ("contracts_contractline", "DELETE", "", [_of_service("OLD.service_id")]),
        (
            "contracts_contractline",
            "UPDATE",
            _changed(["service_id", "contract_id"], distinct),
            [_of_service("OLD.service_id"), _of_service("NEW.service_id")],
        ),
        (
            "contracts_contract",
            "UPDATE",
            _changed(CONTRACT_FIELDS, distinct),
            [_of_contract("NEW.id")],
        ),
        ("contracts_service", "UPDATE", _changed(["critical"], distinct), [_of_service("NEW.id")]),
    ]


def _name(table: str, event: str) -> str:
    return f"outages_facts_{table.split('_', 1)[1]}_{event.lower()}"


def _postgres_up() -> list[str]:
    statements = [f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE};"]
    for table, event, when, body in _triggers("postgresql"):
        name = _name(table, event)
        statements.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
            + " ".join(f"{statement};" for statement in body)
            + " RETURN NULL; END; $$ LANGUAGE plpgsql;"
        )
        condition = f" WHEN ({when})" if when else ""
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} "
            f"EXECUTE FUNCTION {name}();"
        )
    return statements


def _postgres_down() -> list[str]:
    statements = []
    for table, event, _, _ in _triggers("postgresql"):
        name = _name(table, event)
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table};")
        statements.append(f"DROP FUNCTION IF EXISTS {name}();")
    return [*statements, f"DROP SEQUENCE IF EXISTS {SEQUENCE};"]


def _sqlite_up() -> list[str]:
    statements = []
    for table, event, when, body in _triggers("sqlite"):
        # SQLite reads "ON CONFLICT" as the upsert only after "INSERT … SELECT … WHERE".
        condition = f" WHEN {when}" if when else ""
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {_name(table, event)} AFTER {event} ON {table}"
            f"{condition} BEGIN " + " ".join(f"{s};" for s in body) + " END;"
        )
    return statements


def _sqlite_down() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {_name(t, e)};" for t, e, _, _ in _triggers("sqlite")]


STATEMENTS = {
    "postgresql": (_postgres_up, _postgres_down),
    "sqlite": (_sqlite_up, _sqlite_down),
}


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(f"no availability facts triggers for {vendor}")
    for statement in STATEMENTS[vendor][0]():
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in STATEMENTS[vendor][1]() if vendor in STATEMENTS else []:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0007_no_truncate'),
        ('outages', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='FactsStamp',
            fields=[
                ('service_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('version', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='ServiceMonthFacts',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text='First day of the month.')),
                ('version', models.BigIntegerField(help_text="The service's FactsStamp it was computed at.")),
                ('customers', models.PositiveIntegerField(help_text='Customers of the service in the month.')),
                ('outages', models.JSONField(help_text="The month's outages of the service as engine facts.")),
                ('computed_at', models.DateTimeField()),
                ('service', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contracts.service')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('service', 'month'), name='facts_one_per_service_month'), models.CheckConstraint(condition=models.Q(('month__day', 1)), name='facts_month_first_day', violation_error_message='A month is given by its first day.')],
            },
        ),
        migrations.RunPython(install, remove),
    ]
