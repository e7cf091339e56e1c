"""Reads for the webhook pages."""

from __future__ import annotations

import json

from django.db.models import Count, Q, QuerySet

from outbox.models import WebhookDelivery, WebhookEndpoint


def endpoints_with_counts() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status="delivered")),
        pending=Count("deliveries", filter=Q(deliveries__status="pending")),
        failed=Count("deliveries", filter=Q(deliveries__status="failed")),
    ).order_by("-is_active", "pk")


def deliveries(
    *, endpoint: WebhookEndpoint | None = None, status: str = "", event: str = ""
) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-pk")
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    if event:
        rows = rows.filter(event=event)
    return rows


def payload_text(delivery: WebhookDelivery) -> str:
    """The body as an administrator reads it: indented JSON."""
    return json.dumps(delivery.payload, indent=2, ensure_ascii=False)
