"""``statement.issued``: a monthly statement (or a re-issue) was issued; its PDF and e-mail
follow once its credits are decided."""

from __future__ import annotations

from datetime import datetime

from rest_framework import serializers

from credits.webhooks import CustomerRefSerializer
from outbox.models import WebhookEndpoint
from outbox.services import webhook_emit
from outbox.webhooks import register_event
from statements.models import Statement


class StatementPayloadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer = CustomerRefSerializer()
    contract = serializers.CharField(help_text="The contract's reference.")
    contract_id = serializers.IntegerField()
    month = serializers.CharField(help_text="YYYY-MM")
    revision = serializers.IntegerField()
    supersedes = serializers.CharField(allow_null=True, help_text="The replaced statement.")
    credit_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    credit_ids = serializers.ListField(child=serializers.IntegerField())
    issued_at = serializers.DateTimeField()
    pdf_url = serializers.CharField(help_text="API path of the PDF.")


def register() -> None:
    register_event(
        "statement.issued",
        serializer=StatementPayloadSerializer,
        description="A monthly availability statement was issued (or re-issued).",
    )


def emit_issued(
    statement: Statement,
    credit_ids: list[int],
    *,
    now: datetime,
    endpoints: list[WebhookEndpoint] | None = None,
) -> None:
    contract = statement.contract
    webhook_emit(
        event="statement.issued",
        data={
            "id": statement.pk,
            "number": statement.number,
            "customer": {"id": contract.customer_id, "name": contract.customer.name},
            "contract": contract.reference,
            "contract_id": contract.pk,
            "month": f"{statement.month:%Y-%m}",
            "revision": statement.revision,
            "supersedes": statement.supersedes.number if statement.supersedes_id else None,
            "credit_amount": str(statement.credit_amount),
            "currency": statement.currency,
            "credit_ids": credit_ids,
            "issued_at": statement.issued_at.isoformat(),
            "pdf_url": f"/api/v1/statements/{statement.pk}/pdf/",
        },
        dedupe_key=f"statement:{statement.pk}",
        now=now,
        endpoints=endpoints,
    )
