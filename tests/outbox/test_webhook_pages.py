"""The back-office webhook pages: administrators only, form errors, the secret shown
once, deliveries filtered, a delivery's detail and its replay."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse

from audit.models import AuditEntry
from outbox.models import WebhookDelivery, WebhookEndpoint
from outbox.services import webhook_emit, webhook_endpoint_create
from tests.support.page_helpers import h1

DATA = {"id": 7, "amount": "200.00", "currency": "USD"}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def endpoint(admin_user, webhook_receiver) -> WebhookEndpoint:
    return webhook_endpoint_create(
        actor=admin_user, url=webhook_receiver.url, events=["credit.approved"], description="Lago"
    )


def text(response) -> str:
    return response.content.decode()


def test_the_list_says_there_are_no_endpoints_yet_and_the_back_office_links_to_it(db, admin_client):
    home = admin_client.get(reverse("backoffice-home"))
    assert reverse("webhook-endpoints") in text(home)
    page = admin_client.get(reverse("webhook-endpoints"))
    assert page.status_code == 200
    assert "No webhook endpoints yet" in text(page)
    assert "credit_note.issued" in text(page)  # the events it can subscribe to


@pytest.mark.parametrize("role", ["agent", "operations", "account_manager"])
def test_other_staff_are_refused_every_webhook_page(db, client, role, endpoint):
    from tests.support.factories import StaffFactory

    client.force_login(StaffFactory(role=role))
    with TestCase.captureOnCommitCallbacks(execute=False):
        webhook_emit(event="credit.approved", data=DATA, dedupe_key="k")
    delivery = WebhookDelivery.objects.get()
    for name, args in [
        ("webhook-endpoints", []),
        ("webhook-endpoint-new", []),
        ("webhook-endpoint", [endpoint.pk]),
        ("webhook-endpoint-edit", [endpoint.pk]),
        ("webhook-deliveries", []),
        ("webhook-delivery", [delivery.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    for name, args in [
        ("webhook-endpoint-deactivate", [endpoint.pk]),
        ("webhook-endpoint-rotate-secret", [endpoint.pk]),
        ("webhook-delivery-replay", [delivery.pk]),
    ]:
        assert client.post(reverse(name, args=args)).status_code == 403, name
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_a_customer_is_refused_and_a_visitor_sent_to_sign_in(db, client, customer_user):
    url = reverse("webhook-endpoints")
    assert client.get(url).status_code == 302
    client.force_login(customer_user)
    assert client.get(url).status_code == 403


def test_the_form_names_each_bad_field(db, admin_client):
    response = admin_client.post(
        reverse("webhook-endpoint-new"), {"url": "ftp://billing.example.com/x", "events": []}
    )
    assert response.status_code == 200
    assert "Give an http:// or https:// URL." in text(response)
    assert "This field is required." in text(response) or "Choose at least one event" in text(
        response
    )
    bogus = admin_client.post(
        reverse("webhook-endpoint-new"), {"url": "https://x.example.com", "events": ["nope"]}
    )
    assert bogus.status_code == 200 and "Select a valid choice" in text(bogus)
    assert WebhookEndpoint.objects.count() == 0


def test_registering_shows_the_secret_once(db, admin_client, admin_user):
    response = admin_client.post(
        reverse("webhook-endpoint-new"),
        {
            "url": "https://billing.example.com/hooks",
            "description": "Kill Bill",
            "events": ["credit.approved", "credit_note.issued"],
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["credit.approved", "credit_note.issued"]
    assert endpoint.secret in text(response)
    again = admin_client.get(reverse("webhook-endpoint", args=[endpoint.pk]))
    assert endpoint.secret not in text(again)
    entry = AuditEntry.objects.get(action="webhook_endpoint.create")
    assert entry.actor == admin_user
    assert endpoint.secret not in str(entry.changes)


def test_rotating_the_secret_shows_the_new_one_once_and_audits_without_it(
    db, admin_client, endpoint
):
    old = endpoint.secret
    response = admin_client.post(
        reverse("webhook-endpoint-rotate-secret", args=[endpoint.pk]), follow=True
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in text(response)
    assert old not in text(response)
    entry = AuditEntry.objects.get(action="webhook_endpoint.rotate_secret")
    assert endpoint.secret not in str(entry.changes) and old not in str(entry.changes)


def test_editing_and_deactivating_an_endpoint(db, admin_client, endpoint):
    edit = reverse("webhook-endpoint-edit", args=[endpoint.pk])
    assert admin_client.get(edit).status_code == 200
    bad = admin_client.post(edit, {"url": "not a url", "events": ["credit.approved"]})
    assert "Give an http:// or https:// URL." in text(bad)
    admin_client.post(
        edit,
        {
            "url": "https://lago.example.com/h",
            "events": ["credit.approved", "invoice.adjusted"],
            "is_active": "on",
        },
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://lago.example.com/h"
    assert endpoint.events == ["credit.approved", "invoice.adjusted"]
    change = AuditEntry.objects.get(action="webhook_endpoint.change")
    assert change.changes["events"]["after"] == ["credit.approved", "invoice.adjusted"]
    admin_client.post(
        reverse("webhook-endpoint-deactivate", args=[endpoint.pk]), {"reason": "Moved to Stripe"}
    )
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.deactivated_reason) == (False, "Moved to Stripe")
    page = admin_client.get(reverse("webhook-endpoints"))
    assert "Inactive" in text(page)


def test_deliveries_are_listed_filtered_and_replayed_from_their_page(
    db, admin_client, endpoint, webhook_receiver, celery_eager
):
    webhook_receiver.statuses = [500]
    webhook_receiver.body = "upstream down"
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_emit(event="credit.approved", data=DATA, dedupe_key="credit:7:approved")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    listing = admin_client.get(reverse("webhook-deliveries"))
    assert delivery.message_id in text(listing)
    delivered_only = admin_client.get(reverse("webhook-deliveries"), {"status": "delivered"})
    assert delivery.message_id not in text(delivered_only)
    assert "No deliveries match" in text(delivered_only)
    nonsense = admin_client.get(reverse("webhook-deliveries"), {"status": "bogus", "page": "x"})
    assert nonsense.status_code == 200
    per_endpoint = admin_client.get(
        reverse("webhook-endpoint", args=[endpoint.pk]), {"event": "credit.approved"}
    )
    assert delivery.message_id in text(per_endpoint)

    detail = admin_client.get(reverse("webhook-delivery", args=[delivery.pk]))
    assert h1(detail).startswith("<code>credit.approved</code>")
    assert "HTTP 500" in text(detail) and "upstream down" in text(detail)
    assert "&quot;amount&quot;: &quot;200.00&quot;" in text(detail)  # the payload
    assert "Replay" not in text(detail)  # still pending: it will be retried

    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    assert "Replay" in text(admin_client.get(reverse("webhook-delivery", args=[delivery.pk])))
    with TestCase.captureOnCommitCallbacks(execute=True):
        replayed = admin_client.post(
            reverse("webhook-delivery-replay", args=[delivery.pk]), follow=True
        )
    assert "Replay queued" in text(replayed)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(webhook_receiver.received) == 2


def test_replay_needs_post(db, admin_client, endpoint):
    with TestCase.captureOnCommitCallbacks(execute=False):
        webhook_emit(event="credit.approved", data=DATA, dedupe_key="k")
    delivery = WebhookDelivery.objects.get()
    assert (
        admin_client.get(reverse("webhook-delivery-replay", args=[delivery.pk])).status_code == 405
    )
    assert admin_client.get(reverse("webhook-delivery", args=[delivery.pk + 99])).status_code == 404
