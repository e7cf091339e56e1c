"""Invoices get a kind (subscription or professional services); policies say which kinds a
credit may go to (``credit_invoice_kinds``, the default first) and whether a credit may
ever be paid out (``credits_cash_refundable``, formerly ``credits_redeemable_for_cash``:
one term, one name)."""

import json
from pathlib import Path

from django.db import migrations, models

import contracts.models.policies

CATALOG = Path(__file__).resolve().parents[1] / "data" / "sla_catalog.json"


def catalog_invoice_kinds(apps, schema_editor):
    """Existing catalog policies get the invoice kinds the catalog now names, so loading the
    catalog again finds them unchanged (a policy in use may not change otherwise)."""
    policy_model = apps.get_model("contracts", "SLAPolicy")
    for raw in json.loads(CATALOG.read_text(encoding="utf-8"))["policies"]:
        if "credit_invoice_kinds" in raw:
            policy_model.objects.filter(code=raw["code"], version=raw.get("version", 1)).update(
                credit_invoice_kinds=raw["credit_invoice_kinds"]
            )


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0004_contract_in_force_help_text"),
    ]

    operations = [
        migrations.RenameField(
            model_name="slapolicy",
            old_name="credits_redeemable_for_cash",
            new_name="credits_cash_refundable",
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="credits_cash_refundable",
            field=models.BooleanField(
                default=False,
                help_text="A credit may be paid out in cash; off: it never becomes a payout.",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="credit_invoice_kinds",
            field=models.JSONField(
                default=contracts.models.policies.default_credit_invoice_kinds,
                help_text="The kinds of invoice a credit may be applied to, the default first, "
                'e.g. ["subscription", "professional_services"].',
                validators=[contracts.models.policies.validate_invoice_kinds],
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="kind",
            field=models.CharField(
                choices=[
                    ("subscription", "Subscription services"),
                    ("professional_services", "Professional services"),
                ],
                default="subscription",
                max_length=30,
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["subscription", "professional_services"])),
                name="invoice_known_kind",
                violation_error_message="Unknown invoice kind.",
            ),
        ),
        migrations.RunPython(catalog_invoice_kinds, migrations.RunPython.noop),
    ]
