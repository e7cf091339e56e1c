"""Webhooks against a real HTTP receiver on loopback: signed per Standard Webhooks and
delivered once, never queued twice, retried with backoff, failed after the limit with
the last response, 410 deactivates the endpoint, replay, subscriptions, and nothing
sent for a rolled-back change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import TestCase
from standardwebhooks.webhooks import WebhookVerificationError

from outbox.models import WebhookDelivery, WebhookEndpoint
from outbox.services import (
    webhook_deliver,
    webhook_dispatch_overdue,
    webhook_emit,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_replay,
)
from outbox.tasks import webhook_flush
from outbox.webhooks import registered_events

DATA = {"id": 7, "amount": "200.00", "currency": "USD", "status": "approved"}


@pytest.fixture
def endpoint(admin_user, webhook_receiver) -> WebhookEndpoint:
    return webhook_endpoint_create(
        actor=admin_user,
        url=webhook_receiver.url,
        events=["credit.approved", "credit.rejected"],
        description="Billing",
    )


def emit(key: str = "credit:7:approved", event: str = "credit.approved", send=True) -> int:
    """Emit in a transaction that commits; its on-commit dispatch runs the send task
    (eager here) unless ``send`` is false, when the delivery stays queued."""
    with TestCase.captureOnCommitCallbacks(execute=send), transaction.atomic():
        return webhook_emit(event=event, data=DATA, dedupe_key=key)


def test_every_issue_14_event_is_registered_with_a_payload_serializer():
    assert set(registered_events()) >= {
        "statement.issued",
        "credit.pending",
        "credit.approved",
        "credit.rejected",
        "credit.applied",
        "credit_note.issued",
        "invoice.adjusted",
    }


def test_an_event_is_delivered_once_signed_per_standard_webhooks(
    db, endpoint, webhook_receiver, celery_eager, frozen_now
):
    assert emit() == 1
    [request] = webhook_receiver.received
    assert request.path == "/hooks/billing"
    assert request.headers["content-type"] == "application/json"
    payload = request.verified(endpoint.secret)
    assert payload == {"type": "credit.approved", "timestamp": frozen_now.isoformat(), "data": DATA}
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.message_id
    assert delivery.message_id.startswith("msg_")
    assert request.headers["webhook-timestamp"] == str(int(frozen_now.timestamp()))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at == frozen_now
    # Another secret does not verify: the signature is really the endpoint's.
    with pytest.raises(WebhookVerificationError):
        request.verified("whsec_" + "QUJD" * 8)
    # Sending it again sends nothing.
    assert webhook_deliver(delivery_id=delivery.pk).status == "skipped"
    assert len(webhook_receiver.received) == 1


def test_the_same_change_twice_queues_and_sends_one_delivery(
    db, endpoint, webhook_receiver, celery_eager
):
    assert emit() == 1
    assert emit() == 0
    assert WebhookDelivery.objects.count() == 1
    assert len(webhook_receiver.received) == 1


def test_an_unknown_event_is_refused(db, endpoint):
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhook_emit(event="credit.approvd", data=DATA, dedupe_key="x")
    assert WebhookDelivery.objects.count() == 0


def test_only_subscribed_events_reach_an_endpoint(
    db, admin_user, endpoint, webhook_receiver, celery_eager
):
    statements_only = webhook_endpoint_create(
        actor=admin_user, url=webhook_receiver.url + "?s", events=["statement.issued"]
    )
    assert emit(event="credit.pending", key="credit:7:pending") == 0  # nobody subscribed
    assert emit() == 1
    assert [d.endpoint for d in WebhookDelivery.objects.all()] == [endpoint]
    assert statements_only.deliveries.count() == 0
    assert webhook_receiver.events() == ["credit.approved"]


def test_an_inactive_endpoint_gets_nothing(
    db, admin_user, endpoint, webhook_receiver, celery_eager
):
    webhook_endpoint_deactivate(actor=admin_user, endpoint_id=endpoint.pk, reason="Migrating")
    assert emit() == 0
    assert webhook_receiver.received == []


def test_a_pending_delivery_of_an_endpoint_deactivated_since_is_not_sent(
    db, admin_user, endpoint, webhook_receiver
):
    emit(send=False)
    webhook_endpoint_deactivate(actor=admin_user, endpoint_id=endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert "deactivated" in delivery.last_error
    assert webhook_receiver.received == []


def test_a_rolled_back_change_sends_nothing(db, endpoint, webhook_receiver, celery_eager):
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            webhook_emit(event="credit.approved", data=DATA, dedupe_key="credit:7:approved")
            raise RuntimeError("the change failed")
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert webhook_receiver.received == []


def test_failures_are_retried_with_exponential_backoff_then_delivered(
    db, endpoint, webhook_receiver, celery_eager, frozen_now
):
    webhook_receiver.statuses = [500, 503, 200]
    emit()  # first attempt at once: 500
    delivery = WebhookDelivery.objects.get()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == frozen_now + timedelta(seconds=30)
    assert webhook_flush.apply().get() == 0  # not due yet
    with time_machine.travel(frozen_now + timedelta(seconds=30), tick=False):
        assert webhook_flush.apply().get() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.next_attempt_at == frozen_now + timedelta(seconds=30 + 60)
    with time_machine.travel(frozen_now + timedelta(seconds=90), tick=False):
        webhook_flush.apply()
        [request] = webhook_receiver.received[2:]
        request.verified(endpoint.secret)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    # Every attempt carried the same message id, so the receiver can drop duplicates.
    assert {r.headers["webhook-id"] for r in webhook_receiver.received} == {delivery.message_id}


def test_after_the_last_attempt_the_delivery_fails_showing_the_last_response(
    db, endpoint, webhook_receiver, frozen_now, settings
):
    webhook_receiver.statuses = [500] * 7 + [422]
    webhook_receiver.body = '{"error": "unknown customer 7"}'
    emit(send=False)
    delivery = WebhookDelivery.objects.get()
    delays, at = [], frozen_now
    for _ in range(8):
        with time_machine.travel(at, tick=False):
            result = webhook_deliver(delivery_id=delivery.pk)
        delays.append(result.retry_in)
        at += result.retry_in or timedelta(0)
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920)] + [None]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 8, 422)
    assert delivery.last_response == '{"error": "unknown customer 7"}'
    assert "422" in delivery.last_error
    assert len(webhook_receiver.received) == 8
    assert webhook_dispatch_overdue(now=at + timedelta(days=1)) == 0  # failed is final


def test_the_backoff_is_capped_at_an_hour(db, endpoint, settings):
    from outbox.services.webhooks import backoff

    assert [backoff(n) for n in (1, 7, 8, 12)] == [
        timedelta(seconds=30),
        timedelta(seconds=1920),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_a_timeout_and_a_refused_connection_are_retried(
    db, admin_user, endpoint, webhook_receiver, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    webhook_receiver.delay = 1.5
    emit(send=False)
    delivery = WebhookDelivery.objects.get()
    result = webhook_deliver(delivery_id=delivery.pk)
    assert (result.status, result.retry_in) == ("pending", timedelta(seconds=30))
    delivery.refresh_from_db()
    assert "Timeout" in delivery.last_error and delivery.last_status_code is None

    from tests.support.smtp import free_port

    nowhere = webhook_endpoint_create(
        actor=admin_user, url=f"http://127.0.0.1:{free_port()}/", events=["credit.rejected"]
    )
    emit(event="credit.rejected", key="credit:8:rejected", send=False)
    other = nowhere.deliveries.get()
    assert webhook_deliver(delivery_id=other.pk).status == "pending"
    other.refresh_from_db()
    assert "ConnectionError" in other.last_error


def test_410_gone_fails_at_once_and_deactivates_the_endpoint(
    db, endpoint, webhook_receiver, celery_eager
):
    from audit.models import AuditEntry

    webhook_receiver.statuses = [410]
    emit()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 410)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "410 Gone" in endpoint.deactivated_reason
    entry = AuditEntry.objects.get(action="webhook_endpoint.deactivate")
    assert entry.actor is None and entry.changes["is_active"] == {"before": True, "after": False}
    assert emit(key="credit:9:approved") == 0


def test_replay_sends_a_delivered_event_again_with_the_same_message_id(
    db, admin_user, endpoint, webhook_receiver, celery_eager
):
    from audit.models import AuditEntry

    emit()
    delivery = WebhookDelivery.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_replay(delivery_id=delivery.pk, actor=admin_user)
    first, second = webhook_receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert json.loads(first.body) == second.verified(endpoint.secret)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert AuditEntry.objects.filter(action="webhook_delivery.replay", actor=admin_user).exists()


def test_replay_of_a_failed_delivery_is_a_new_round(
    db, admin_user, endpoint, webhook_receiver, celery_eager, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    webhook_receiver.statuses = [500]
    emit()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_replay(delivery_id=delivery.pk, actor=admin_user)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert len(webhook_receiver.received) == 2
