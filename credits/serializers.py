"""Shapes of the credits API. Read serializers render rows; the decision input only parses
its shape: whether a reason is needed, and whether the credit can still be decided, is the
services' rule, reaching the client as a 400 through ``slaportal.api.exception_handler``."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credits.models import Balance, Credit, CreditEvent, LedgerEntry


class CreditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditEvent
        fields = ["action", "actor", "at", "note"]
        read_only_fields = fields


class CreditSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)
    month = serializers.SerializerMethodField(help_text="The month credited, YYYY-MM.")
    history = CreditEventSerializer(source="events", many=True, read_only=True)

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
            "history",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_month(self, credit: Credit) -> str:
        return f"{credit.month:%Y-%m}"


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
