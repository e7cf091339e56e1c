"""Subscribing to the status page by e-mail, as a visitor does it: the form, the
confirmation link (double opt-in), the manage page, one-click unsubscribe. No login
anywhere; the token in the e-mailed links is the only key."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from outbox.models import OutboxMessage
from status.models import Subscriber
from tests.support.factories import ServiceFactory

SUBSCRIBE = "/status/subscribe/"
SENT = "/status/subscribe/sent/"


@pytest.fixture
def publishing(db):
    return ServiceFactory(name="Publishing")


@pytest.fixture
def search(db):
    return ServiceFactory(name="Search")


def subscribe(client: Client, email: str, *services):
    return client.post(SUBSCRIBE, {"email": email, "services": [s.pk for s in services]})


def mails_to(address: str) -> list[OutboxMessage]:
    return [m for m in OutboxMessage.objects.order_by("pk") if m.to == [address]]


def link(message: OutboxMessage, ending: str) -> str:
    """The path of the link in the e-mail's text that ends with ``ending``."""
    [url] = set(re.findall(rf"https?://\S+{re.escape(ending)}", message.body))
    assert url.startswith(settings.PORTAL_URL), "e-mailed links are absolute"
    return urlsplit(url).path


def followed(address: str) -> list[str]:
    return sorted(Subscriber.objects.get(email=address).services.values_list("name", flat=True))


def test_the_subscribe_page_is_public_and_lists_the_services(client, publishing, search):
    html = client.get(SUBSCRIBE).content.decode()
    assert "Subscribe to updates by e-mail" in html
    assert "Publishing" in html and "Search" in html
    assert 'type="checkbox"' in html and "csrfmiddlewaretoken" in html


def test_subscribing_sends_a_confirmation_link_and_the_link_confirms_only_by_its_button(
    client, publishing, search
):
    response = subscribe(client, "  Ada@Example.TEST ", publishing)
    assert response.status_code == 302 and response["Location"] == SENT
    assert "Check your inbox" in client.get(SENT).content.decode()

    [confirmation] = mails_to("ada@example.test")
    assert "Confirm your subscription" in confirmation.subject
    assert "Publishing" in confirmation.body and "Search" not in confirmation.body
    confirm = link(confirmation, "/confirm/")
    assert confirm in confirmation.html_body
    assert not Subscriber.objects.get().active

    # Opening the link (as a mail scanner's prefetch does) confirms nothing.
    page = Client().get(confirm)
    assert page.status_code == 200 and "Confirm my subscription" in page.content.decode()
    assert not Subscriber.objects.get().active

    # Its button does; the page then shows the subscription.
    browser = Client()
    browser.get(confirm)
    response = browser.post(confirm, follow=True)
    assert response.status_code == 200
    assert "Subscription confirmed" in response.content.decode()
    assert Subscriber.objects.get().active
    assert followed("ada@example.test") == ["Publishing"]


def test_the_answer_is_the_same_whether_or_not_the_address_is_subscribed(client, publishing):
    first = subscribe(client, "ada@example.test", publishing)
    again = subscribe(Client(), "ada@example.test", publishing)
    stranger = subscribe(Client(), "bob@example.test", publishing)
    assert first.status_code == again.status_code == stranger.status_code == 302
    assert first["Location"] == again["Location"] == stranger["Location"] == SENT


def test_a_stranger_cannot_change_a_confirmed_subscription_the_owner_gets_a_manage_link(
    client, publishing, search
):
    subscribe(client, "ada@example.test", publishing)
    [confirmation] = mails_to("ada@example.test")
    Client().post(link(confirmation, "/confirm/"))

    with time_machine.travel(timedelta(hours=2)):
        response = subscribe(Client(), "ADA@example.test", search)
    assert response["Location"] == SENT
    assert followed("ada@example.test") == ["Publishing"]  # unchanged
    manage_mail = mails_to("ada@example.test")[-1]
    assert "already" in manage_mail.body and "Publishing" in manage_mail.body
    manage = link(manage_mail, f"/status/subscriptions/{Subscriber.objects.get().token}/")
    assert "Save services" in Client().get(manage).content.decode()


def test_an_unconfirmed_address_takes_the_latest_choice_of_services(client, publishing, search):
    subscribe(client, "ada@example.test", publishing)
    subscribe(client, "ada@example.test", search)
    assert followed("ada@example.test") == ["Search"]
    assert not Subscriber.objects.get().active


def test_at_most_one_confirmation_an_hour_goes_to_an_address(client, publishing):
    for _ in range(5):
        subscribe(client, "ada@example.test", publishing)
    assert len(mails_to("ada@example.test")) == 1
    with time_machine.travel(timedelta(hours=1)):
        subscribe(client, "ada@example.test", publishing)
    assert len(mails_to("ada@example.test")) == 2
    # Both links work: the token stays the same.
    first, second = mails_to("ada@example.test")
    assert link(first, "/confirm/") == link(second, "/confirm/")


def test_the_form_needs_an_address_and_at_least_one_service(client, publishing):
    response = client.post(SUBSCRIBE, {"email": "ada@example.test"})
    assert response.status_code == 200
    assert "Choose at least one service." in response.content.decode()
    response = subscribe(client, "not-an-address", publishing)
    assert response.status_code == 200 and "valid e-mail address" in response.content.decode()
    assert not OutboxMessage.objects.exists() and not Subscriber.objects.exists()


def test_the_manage_page_changes_the_services_through_the_link(client, publishing, search):
    subscribe(client, "ada@example.test", publishing)
    token = Subscriber.objects.get().token
    manage = reverse("status-subscription", args=[token])
    response = Client().post(manage, {"services": [search.pk]}, follow=True)
    assert "Your services are saved." in response.content.decode()
    assert followed("ada@example.test") == ["Search"]
    response = Client().post(manage, {"services": []})
    assert (
        response.status_code == 200 and "Choose at least one service." in response.content.decode()
    )
    assert followed("ada@example.test") == ["Search"]


def test_a_link_with_an_unknown_token_is_not_found(client, publishing):
    subscribe(client, "ada@example.test", publishing)
    for name in (
        "status-subscription",
        "status-subscription-confirm",
        "status-subscription-unsubscribe",
    ):
        url = reverse(name, args=["not-the-token"])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert not Subscriber.objects.get().active


def test_unsubscribing_is_one_post_without_login_or_csrf_token(client, publishing):
    subscribe(client, "ada@example.test", publishing)
    subscriber = Subscriber.objects.get()
    Client().post(reverse("status-subscription-confirm", args=[subscriber.token]))
    url = reverse("status-subscription-unsubscribe", args=[subscriber.token])

    # The link's page asks first: opening it changes nothing.
    page = Client().get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.active

    # RFC 8058: the mail client POSTs this body, with no cookie and no token.
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert not subscriber.active and subscriber.unsubscribed_at is not None
    # Again: still a 200, still unsubscribed.
    assert strict.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200


def test_subscribing_again_after_unsubscribing_needs_the_link_again(client, publishing, search):
    subscribe(client, "ada@example.test", publishing)
    subscriber = Subscriber.objects.get()
    Client().post(reverse("status-subscription-confirm", args=[subscriber.token]))
    Client().post(reverse("status-subscription-unsubscribe", args=[subscriber.token]))
    with time_machine.travel(timedelta(hours=1)):
        subscribe(client, "ada@example.test", search)
    subscriber.refresh_from_db()
    assert not subscriber.active and followed("ada@example.test") == ["Search"]
    confirmation = mails_to("ada@example.test")[-1]
    Client().post(link(confirmation, "/confirm/"))
    subscriber.refresh_from_db()
    assert subscriber.active and subscriber.unsubscribed_at is None


def test_the_pages_behind_the_links_are_never_cached(client, publishing):
    subscribe(client, "ada@example.test", publishing)
    token = Subscriber.objects.get().token
    for name in (
        "status-subscription",
        "status-subscription-confirm",
        "status-subscription-unsubscribe",
    ):
        response = client.get(reverse(name, args=[token]))
        assert "no-store" in response["Cache-Control"]
