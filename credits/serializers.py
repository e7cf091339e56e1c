"""Shapes of the credits API. Read serializers render rows; the decision input only parses
its shape: whether a reason is needed, and whether the credit can still be decided, is the
services' rule, reaching the client as a 400 through ``slaportal.api.exception_handler``."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import Invoice
from credits.models import Balance, Credit, CreditEvent, LedgerEntry
from credits.selectors import credit_states
from credits.services.application import target_kind


class CreditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditEvent
        fields = ["action", "actor", "at", "note"]
        read_only_fields = fields


STATE_STATUSES = [
    ("pending", "Pending approval"),
    ("approved", "Approved, held on the account (on no invoice yet)"),
    ("partly_applied", "Approved, part of it applied"),
    ("applied", "Applied to invoices by credit notes"),
    ("expired", "Expired on termination"),
    ("withdrawn", "Withdrawn (a later revision or a reversal)"),
    ("rejected", "Rejected"),
    ("ineligible", "Not eligible"),
]


class ApplicationSerializer(serializers.Serializer):
    invoice_number = serializers.CharField()
    credit_note_number = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    at = serializers.DateTimeField()
    reversed_by = serializers.CharField(help_text="The reversing credit note, if reversed.")


class CreditStandingSerializer(serializers.Serializer):
    """What became of a credit now, from the ledger and its credit notes."""

    status = serializers.ChoiceField(choices=STATE_STATUSES)
    label = serializers.CharField(help_text="The state in words, as the pages show it.")
    reason = serializers.CharField()
    granted = serializers.DecimalField(max_digits=14, decimal_places=2)
    remaining = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="On the account, on no invoice yet."
    )
    expired = serializers.DecimalField(max_digits=14, decimal_places=2)
    applications = ApplicationSerializer(source="applied", many=True)


class CreditListSerializer(serializers.ListSerializer):
    """Reads every listed credit's state at once (a few queries per page, not per row)."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self._context = {**self.context, "credit_states": credit_states(c.pk for c in items)}
        return super().to_representation(items)


class CreditSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)
    month = serializers.SerializerMethodField(help_text="The month credited, YYYY-MM.")
    history = CreditEventSerializer(source="events", many=True, read_only=True)
    invoice_kind = serializers.SerializerMethodField(
        help_text="The kind of invoice the credit goes to (its policy's first, unless an "
        "account manager directed it elsewhere)."
    )
    state = serializers.SerializerMethodField()

    class Meta:
        model = Credit
        fields = [
            "id",
            "customer",
            "contract",
            "service",
            "month",
            "amount",
            "currency",
            "availability_pct",
            "status",
            "reason",
            "working",
            "computed_at",
            "decided_by",
            "decided_at",
            "invoice_kind",
            "state",
            "history",
        ]
        read_only_fields = fields
        list_serializer_class = CreditListSerializer

    @extend_schema_field(OpenApiTypes.STR)
    def get_month(self, credit: Credit) -> str:
        return f"{credit.month:%Y-%m}"

    @extend_schema_field(serializers.ChoiceField(choices=Invoice.Kind.choices))
    def get_invoice_kind(self, credit: Credit) -> str:
        return target_kind(credit)

    @extend_schema_field(CreditStandingSerializer)
    def get_state(self, credit: Credit) -> dict:
        states = self.context.get("credit_states") or {}
        state = states.get(credit.pk) or credit_states([credit.pk])[credit.pk]
        return CreditStandingSerializer(state).data


class DirectInputSerializer(serializers.Serializer):
    invoice_kind = serializers.ChoiceField(
        choices=Invoice.Kind.choices, help_text="A kind of invoice the credit's policy allows."
    )


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the credit is rejected (required; shown to the customer).",
    )


class LedgerEntrySerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(
        source="invoice_line.invoice_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The invoice an applied credit was taken off.",
    )
    invoice_number = serializers.CharField(
        source="invoice_line.invoice.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "customer",
            "contract",
            "kind",
            "amount",
            "currency",
            "description",
            "credit",
            "invoice",
            "invoice_number",
            "invoice_line",
            "reverses",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class BalanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Balance
        fields = ["customer", "currency", "amount", "updated_at"]
        read_only_fields = fields
