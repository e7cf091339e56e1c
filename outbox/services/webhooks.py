"""Queue webhook events in the outbox, and deliver one queued delivery.

``webhook_emit`` writes one delivery per active endpoint subscribed to the event, in the
caller's transaction, and dispatches the send task once that transaction commits (a
rolled-back change notifies nobody). ``webhook_deliver`` POSTs one delivery under a row
lock, signed per the Standard Webhooks specification: a 2xx delivers it; anything else
is retried with exponential backoff up to ``WEBHOOK_MAX_ATTEMPTS``; a 410 Gone fails it
at once and deactivates the endpoint, as the specification asks.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from outbox.models import WebhookDelivery, WebhookEndpoint
from outbox.services.email import Delivery
from outbox.signals import webhook_changed
from outbox.webhooks import is_registered
from slaportal.transactions import after_commit

log = logging.getLogger(__name__)

# What is kept of a receiver's answer: enough to read an error page's message.
RESPONSE_KEPT = 2000
USER_AGENT = "SLA-Portal-Webhooks/1.0"


def new_message_id() -> str:
    return f"msg_{secrets.token_urlsafe(18)}"


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, the same on every attempt."""
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _dispatch(delivery_id: int) -> None:
    from outbox.tasks import webhook_send  # the task module imports this one

    webhook_send.delay(delivery_id)


def active_endpoints() -> list[WebhookEndpoint]:
    """The endpoints events go to (a caller emitting many events reads them once)."""
    return list(WebhookEndpoint.objects.filter(is_active=True))


def webhook_emit(
    *,
    event: str,
    data: dict[str, Any],
    dedupe_key: str,
    now: datetime | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> int:
    """Queue ``event`` for every active endpoint subscribed to it; returns how many
    deliveries were created.

    ``dedupe_key`` names the occurrence (``credit:7:approved``): an endpoint that already
    has a delivery with that key gets nothing new, so a change run twice notifies once.
    ``endpoints``: ``active_endpoints()`` as the caller read them in this transaction
    (a statement run emits several events per statement).
    """
    if not is_registered(event):
        raise ValueError(f"Unknown webhook event {event!r}: register it first.")
    if not dedupe_key:
        raise ValueError("Give the webhook event a dedupe key.")
    now = now or timezone.now()
    # A JSON list lookup is not portable (SQLite has no JSON containment): filter here;
    # there are a handful of endpoints.
    if endpoints is None:
        endpoints = active_endpoints()
    endpoints = [e for e in endpoints if event in e.events]
    if not endpoints:
        return 0
    # Plain JSON now, so what is stored is exactly what is sent on every attempt.
    payload = json.loads(
        body_bytes({"type": event, "timestamp": now.isoformat(), "data": data}).decode()
    )
    done = set(
        WebhookDelivery.objects.filter(dedupe_key=dedupe_key, endpoint__in=endpoints).values_list(
            "endpoint_id", flat=True
        )
    )
    created = 0
    for endpoint in endpoints:
        if endpoint.pk in done:
            continue
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint,
                    event=event,
                    message_id=new_message_id(),
                    payload=payload,
                    dedupe_key=dedupe_key,
                    # Due at once by the clock, whatever instant the caller's change
                    # is dated (a job may date it at the end of a month).
                    next_attempt_at=timezone.now(),
                    created_at=now,
                )
        except IntegrityError:
            # Another transaction queued the same key for this endpoint first.
            continue
        created += 1
        # robust: a broker outage must not undo the change; webhook_flush finds it.
        after_commit(_dispatch, delivery.pk)
    return created


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, then doubling, capped at an hour."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    seconds = min(base * 2 ** (attempts - 1), settings.WEBHOOK_MAX_BACKOFF_SECONDS)
    return timedelta(seconds=seconds)


def signed_headers(endpoint: WebhookEndpoint, delivery: WebhookDelivery, body: bytes, at: datetime):
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(delivery.message_id, at, body),
    }


def _deactivate_gone(endpoint: WebhookEndpoint, now: datetime) -> None:
    reason = f"The receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, deactivated_reason=reason, updated_at=now
    )
    webhook_changed.send(
        sender=WebhookEndpoint,
        actor=None,
        action="webhook_endpoint.deactivate",
        obj=endpoint,
        changes={"is_active": {"before": True, "after": False}},
        reason=reason,
    )


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> Delivery:
    """POST one due, pending delivery to its endpoint and record the outcome.

    The row stays locked (``FOR UPDATE SKIP LOCKED``) while it is sent: another worker
    given the same id skips it instead of sending it a second time. A delivery not yet
    due (its retry is later) is left for then.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id)
            .first()
        )
        now = now or timezone.now()
        if (
            delivery is None
            or delivery.status != WebhookDelivery.Status.PENDING
            or delivery.next_attempt_at > now
        ):
            log.info(
                "webhook %s: nothing to send (gone, done, not due or in progress)", delivery_id
            )
            return Delivery("skipped")
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        fields = ["attempts", "status", "next_attempt_at", "delivered_at", "last_status_code",
                  "last_response", "last_error"]  # fmt: skip
        if not endpoint.is_active:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = "Not sent: the endpoint is deactivated."
            delivery.save(update_fields=fields)
            return Delivery(delivery.status)
        delivery.attempts += 1
        body = body_bytes(delivery.payload)
        try:
            response = requests.post(
                endpoint.url,
                data=body,
                headers=signed_headers(endpoint, delivery, body, now),
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                # A redirect is not an answer: following it would turn the POST into a GET.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            delivery.last_status_code = None
            delivery.last_response = ""
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:RESPONSE_KEPT]
            code = None
        else:
            code = response.status_code
            delivery.last_status_code = code
            delivery.last_response = response.text[:RESPONSE_KEPT]
            delivery.last_error = "" if 200 <= code < 300 else f"HTTP {code} {response.reason}"
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.save(update_fields=fields)
            return Delivery(delivery.status)
        if code == 410:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.save(update_fields=fields)
            _deactivate_gone(endpoint, now)
            log.warning("webhook %s: 410 Gone, endpoint %s deactivated", delivery.pk, endpoint.pk)
            return Delivery(delivery.status)
        if delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
            delay = backoff(delivery.attempts)
            delivery.next_attempt_at = now + delay
            delivery.save(update_fields=fields)
            log.warning(
                "webhook %s: attempt %s failed, retry in %s: %s",
                delivery.pk,
                delivery.attempts,
                delay,
                delivery.last_error,
            )
            return Delivery(delivery.status, delay)
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(update_fields=fields)
        log.error("webhook %s: failed for good: %s", delivery.pk, delivery.last_error)
        return Delivery(delivery.status)


def webhook_dispatch_overdue(*, now: datetime | None = None) -> int:
    """Dispatch the send task for every pending delivery that is due: a retry whose
    countdown task was lost, or a first attempt whose dispatch failed."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    for delivery_id in ids:
        _dispatch(delivery_id)
    return len(ids)
