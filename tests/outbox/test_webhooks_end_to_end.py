"""The producers' events reach a real receiver: approving a credit tells the billing
system ``credit.approved``, ``credit.applied``, ``credit_note.issued`` and
``invoice.adjusted``, each once and signed; on PostgreSQL two workers sending the same
due delivery at once send it once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import TestCase

from contracts.models import User
from credits.models import CreditNote
from credits.services import credit_approve, credit_compute, credits_apply
from outbox.models import WebhookDelivery
from outbox.services import webhook_deliver, webhook_emit, webhook_endpoint_create
from tests.support.concurrency import run_concurrently
from tests.support.credit_cases import ET, contract_with_lines, record_down
from tests.support.factories import InvoiceFactory

JUNE = date(2026, 6, 1)
EVENTS = [
    "credit.pending",
    "credit.approved",
    "credit.applied",
    "credit_note.issued",
    "invoice.adjusted",
]


@pytest.fixture
def heretto(catalog, customer, account_manager):
    customer.account_managers.add(account_manager)
    contract = contract_with_lines(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00", "Cloud Publishing": "1500.00"}
    )
    record_down(contract, "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    return contract


def test_approving_a_credit_sends_each_credit_event_once_with_a_valid_signature(
    heretto, account_manager, admin_user, webhook_receiver, celery_eager
):
    endpoint = webhook_endpoint_create(actor=admin_user, url=webhook_receiver.url, events=EVENTS)
    invoice = InvoiceFactory(
        contract=heretto,
        amount=Decimal("1000.00"),
        issued_on=date(2026, 7, 1),
        due_on=date(2026, 7, 31),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        (credit,) = credit_compute(contract=heretto, month=JUNE, statement_number="ST-X-1")
    with TestCase.captureOnCommitCallbacks(execute=True):
        credit_approve(credit=credit, actor=account_manager)
    # Running the application again changes and sends nothing.
    with TestCase.captureOnCommitCallbacks(execute=True):
        credits_apply(customer=heretto.customer, currency=heretto.currency)

    payloads = {}
    for request in webhook_receiver.received:
        payload = request.verified(endpoint.secret)  # raises on a bad signature
        payloads.setdefault(payload["type"], []).append(payload["data"])
    assert sorted(payloads) == sorted(EVENTS)
    assert all(len(sent) == 1 for sent in payloads.values()), payloads
    assert payloads["credit.approved"][0]["id"] == credit.pk
    assert payloads["credit.approved"][0]["amount"] == "200.00"
    assert payloads["credit.approved"][0]["status"] == "approved"
    note = CreditNote.objects.get()
    assert payloads["credit_note.issued"][0]["number"] == note.number
    assert payloads["credit.applied"][0]["invoice"] == {"id": invoice.pk, "number": invoice.number}
    assert payloads["invoice.adjusted"][0]["total"] == "800.00"
    assert WebhookDelivery.objects.filter(status="delivered").count() == len(EVENTS)


def test_two_workers_sending_the_same_delivery_at_once_send_it_once(
    postgres, transactional_db, admin_user, webhook_receiver
):
    endpoint = webhook_endpoint_create(
        actor=admin_user, url=webhook_receiver.url, events=["credit.approved"]
    )
    webhook_emit(event="credit.approved", data={"id": 1}, dedupe_key="credit:1:approved")
    delivery = WebhookDelivery.objects.get()
    webhook_receiver.delay = 0.5  # the first sender holds the row lock while it waits

    results = run_concurrently(lambda _: webhook_deliver(delivery_id=delivery.pk).status, 4)

    assert sorted(results) == ["delivered", "skipped", "skipped", "skipped"], results
    [request] = webhook_receiver.received
    request.verified(endpoint.secret)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_a_due_retry_claimed_by_two_workers_is_sent_once(
    postgres, transactional_db, admin_user, webhook_receiver, frozen_now
):
    webhook_endpoint_create(actor=admin_user, url=webhook_receiver.url, events=["credit.approved"])
    webhook_receiver.statuses = [500]
    webhook_emit(event="credit.approved", data={"id": 2}, dedupe_key="credit:2:approved")
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk).status == "pending"
    webhook_receiver.delay = 0.5
    later = frozen_now + timedelta(seconds=30)
    results = run_concurrently(
        lambda _: webhook_deliver(delivery_id=delivery.pk, now=later).status, 3
    )
    assert sorted(results) == ["delivered", "skipped", "skipped"], results
    assert len(webhook_receiver.received) == 2
