"""Incidents: alert intake (sources, the label-to-service routes, alerts), an outage's
impact, source and dismissal, and the stage of every public update.

A dismissed outage never counts, so ``dismissed_at`` joins the columns whose change
bumps the service's facts stamp (migration 0002). SQLite rebuilds ``outages_outage``
here, which breaks the triggers that name it: they are dropped first and installed
again at the end.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

facts = importlib.import_module("outages.migrations.0002_availability_facts")
FIELDS = [*facts.OUTAGE_FIELDS, "dismissed_at"]
TRIGGER = "outages_facts_outage_update"


def _sqlite_up(fields: list[str]) -> list[str]:
    before, after = facts._changed(facts.OUTAGE_FIELDS, "IS NOT"), facts._changed(fields, "IS NOT")
    return [statement.replace(before, after) for statement in facts._sqlite_up()]


def _postgres_when(fields: list[str]) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON outages_outage;",
        f"CREATE TRIGGER {TRIGGER} AFTER UPDATE ON outages_outage FOR EACH ROW WHEN "
        f"({facts._changed(fields, 'IS DISTINCT FROM')}) EXECUTE FUNCTION {TRIGGER}();",
    ]


def _run(statements: list[str], schema_editor) -> None:
    for statement in statements:
        schema_editor.execute(statement, params=None)


def before(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        _run(facts._sqlite_down(), schema_editor)


def before_undo(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        _run(facts._sqlite_up(), schema_editor)
    elif schema_editor.connection.vendor == "postgresql":
        _run(_postgres_when(facts.OUTAGE_FIELDS), schema_editor)


def after(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        _run(_sqlite_up(FIELDS), schema_editor)
    elif schema_editor.connection.vendor == "postgresql":
        _run(_postgres_when(FIELDS), schema_editor)


def after_undo(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        _run(facts._sqlite_down(), schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0010_helpdesk'),
        ('outages', '0003_list_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(before, before_undo),
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('fingerprint', models.CharField(max_length=100)),
                ('starts_at', models.DateTimeField()),
                ('ends_at', models.DateTimeField(blank=True, help_text='Set once it resolved.', null=True)),
                ('labels', models.JSONField(default=dict)),
                ('annotations', models.JSONField(default=dict)),
                ('received_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['-starts_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='AlertRoute',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(default='service', max_length=100)),
                ('value', models.CharField(max_length=200)),
                ('category', models.CharField(choices=[('internal', 'Internal fault'), ('third_party', 'Third-party app or provider'), ('external_network', 'External network or equipment'), ('performance_degradation', 'Slow but usable'), ('beta_feature', 'Pilot, alpha or beta feature'), ('non_critical_workflow', 'Non-critical workflow / has workaround'), ('reporting_config', 'Reporting, configuration or user management'), ('scheduled_maintenance', 'Scheduled maintenance'), ('customer_authorized', 'Authorised by the customer (excused)')], default='internal', max_length=30)),
                ('impact', models.CharField(choices=[('degraded', 'Degraded performance'), ('partial_outage', 'Partial outage'), ('major_outage', 'Major outage')], default='major_outage', max_length=20)),
                ('position', models.PositiveIntegerField(default=100)),
            ],
            options={
                'ordering': ['position', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='AlertSource',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('token_sha256', models.CharField(max_length=64, unique=True)),
                ('active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='outage',
            name='dismiss_reason',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='outage',
            name='dismissed_at',
            field=models.DateTimeField(blank=True, help_text='Dismissed (a false alarm): it never counts anywhere.', null=True),
        ),
        migrations.AddField(
            model_name='outage',
            name='dismissed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='outage',
            name='impact',
            field=models.CharField(choices=[('degraded', 'Degraded performance'), ('partial_outage', 'Partial outage'), ('major_outage', 'Major outage')], default='major_outage', max_length=20),
        ),
        migrations.AddField(
            model_name='outage',
            name='source',
            field=models.CharField(choices=[('manual', 'Recorded by operations'), ('alert', 'Opened by a monitoring alert')], default='manual', max_length=10),
        ),
        migrations.AddField(
            model_name='outageupdate',
            name='stage',
            field=models.CharField(blank=True, choices=[('investigating', 'Investigating'), ('identified', 'Identified'), ('monitoring', 'Monitoring'), ('resolved', 'Resolved'), ('scheduled', 'Scheduled'), ('in_progress', 'In progress'), ('verifying', 'Verifying'), ('completed', 'Completed')], max_length=20),
        ),
        # Every public update gets the stage it stood at: the last public update of an
        # ended incident (posted at or after its end) resolved it; the others were
        # investigating. Maintenance: announced before it began, under way, completed.
        migrations.RunSQL(
            """
            UPDATE outages_outageupdate AS u SET stage = CASE
              WHEN o.category = 'scheduled_maintenance' THEN CASE
                WHEN o.ended_at IS NOT NULL AND u.posted_at >= o.ended_at THEN 'completed'
                WHEN u.posted_at < o.started_at THEN 'scheduled'
                ELSE 'in_progress' END
              WHEN o.ended_at IS NOT NULL AND u.posted_at >= o.ended_at THEN 'resolved'
              ELSE 'investigating' END
            FROM outages_outage AS o
            WHERE o.id = u.outage_id AND u.public
            """,
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            """
            UPDATE outages_outage SET impact = 'degraded' WHERE category IN
              ('performance_degradation', 'beta_feature', 'non_critical_workflow',
               'reporting_config')
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='outage',
            index=models.Index(condition=models.Q(('confirmed_at__isnull', True), ('dismissed_at__isnull', True), ('source', 'alert')), fields=['-started_at'], name='outage_unconfirmed_idx'),
        ),
        migrations.AddConstraint(
            model_name='outage',
            constraint=models.CheckConstraint(condition=models.Q(('impact__in', ['degraded', 'partial_outage', 'major_outage'])), name='outage_known_impact', violation_error_message='Unknown impact.'),
        ),
        migrations.AddConstraint(
            model_name='outage',
            constraint=models.CheckConstraint(condition=models.Q(('source__in', ['manual', 'alert'])), name='outage_known_source', violation_error_message='Unknown outage source.'),
        ),
        migrations.AddConstraint(
            model_name='outage',
            constraint=models.CheckConstraint(condition=models.Q(('dismissed_at__isnull', True), models.Q(('dismiss_reason', ''), _negated=True), _connector='OR'), name='outage_dismissed_with_reason', violation_error_message='Say why the outage is dismissed.'),
        ),
        migrations.AddConstraint(
            model_name='outageupdate',
            constraint=models.CheckConstraint(condition=models.Q(('public', False), ('stage__in', ['investigating', 'identified', 'monitoring', 'resolved', 'scheduled', 'in_progress', 'verifying', 'completed']), _connector='OR'), name='outage_update_public_has_stage', violation_error_message="A public update gives the incident's stage."),
        ),
        migrations.AddField(
            model_name='alert',
            name='outage',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='outages.outage'),
        ),
        migrations.AddField(
            model_name='alertroute',
            name='service',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contracts.service'),
        ),
        migrations.AddField(
            model_name='alert',
            name='route',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='outages.alertroute'),
        ),
        migrations.AddField(
            model_name='alertroute',
            name='source',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='routes', to='outages.alertsource'),
        ),
        migrations.AddField(
            model_name='alert',
            name='source',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='outages.alertsource'),
        ),
        migrations.AddConstraint(
            model_name='alertroute',
            constraint=models.UniqueConstraint(condition=models.Q(('source__isnull', False)), fields=('source', 'label', 'value'), name='alert_route_unique', violation_error_message='A route for this label and value exists already.'),
        ),
        migrations.AddConstraint(
            model_name='alertroute',
            constraint=models.UniqueConstraint(condition=models.Q(('source__isnull', True)), fields=('label', 'value'), name='alert_route_unique_any_source', violation_error_message='A route for this label and value exists already.'),
        ),
        migrations.AddConstraint(
            model_name='alertroute',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('label', ''), _negated=True), models.Q(('value', ''), _negated=True)), name='alert_route_label_value', violation_error_message='Give the label and the value to match.'),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.UniqueConstraint(fields=('source', 'fingerprint', 'starts_at'), name='alert_one_per_firing'),
        ),
        migrations.RunPython(after, after_undo),
    ]
