"""Status page subscriptions by e-mail: subscribe (double opt-in), confirm, change the
services followed, unsubscribe. Anyone may act, without an account: the token in the
links we e-mail is the only proof of owning the address, so every change but the first
request needs it.

Subscribing never says whether the address was subscribed already (the page is the same
either way), and never lets whoever types an address change what a confirmed subscriber
follows: a confirmed address is sent a link to manage its subscription instead. An
address that is not active (never confirmed, or unsubscribed) gets the chosen services
and a confirmation link; it receives nothing else until the link is used. Either e-mail
goes at most once an hour per address (``status.notify``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from contracts.models import Service
from status import notify
from status.models import Subscriber

TOKEN_BYTES = 32  # 43 URL-safe characters


def normalised_email(email: str) -> str:
    """One subscription per mailbox, however the address is capitalised."""
    return (email or "").strip().lower()


def _checked(email: str, services: Iterable[Service]) -> tuple[str, list[Service]]:
    errors: dict[str, list[str]] = {}
    address = normalised_email(email)
    try:
        validate_email(address)
    except ValidationError:
        errors["email"] = ["Enter a valid e-mail address."]
    chosen = _checked_services(services, errors)
    if errors:
        raise ValidationError(errors)
    return address, chosen


def _checked_services(services: Iterable[Service], errors: dict[str, list[str]]) -> list[Service]:
    chosen = list({s.pk: s for s in services}.values())
    if not chosen:
        errors["services"] = ["Choose at least one service."]
    elif Service.objects.filter(pk__in=[s.pk for s in chosen]).count() != len(chosen):
        errors["services"] = ["Choose services from the list."]
    return chosen


def subscriber_by_token(token: str) -> Subscriber | None:
    if not token or len(token) > 64:
        return None
    return Subscriber.objects.filter(token=token).first()


@transaction.atomic
def subscriber_subscribe(
    *, email: str, services: Iterable[Service], now: datetime | None = None
) -> Subscriber:
    """Ask to follow ``services`` at ``email``: a confirmation link for an address that is
    not active (its services replaced by these), a link to manage the subscription for
    one that is (its services left alone)."""
    now = now or timezone.now()
    address, chosen = _checked(email, services)
    # The row is locked: two requests for one address queue one e-mail and agree on it.
    subscriber, created = Subscriber.objects.select_for_update().get_or_create(
        email=address,
        defaults={"token": secrets.token_urlsafe(TOKEN_BYTES), "created_at": now},
    )
    if not created and subscriber.active:
        notify.notify_manage(subscriber, now)
        return subscriber
    subscriber.services.set(chosen)
    notify.notify_confirm(subscriber, now)
    return subscriber


@transaction.atomic
def subscriber_confirm(*, subscriber: Subscriber, now: datetime | None = None) -> Subscriber:
    """The owner of the address followed the link: e-mail starts (again, after an
    unsubscribe). Confirming an active subscription changes nothing."""
    now = now or timezone.now()
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.active:
        return subscriber
    if not subscriber.services.exists():
        raise ValidationError({"services": ["Choose at least one service first."]})
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return subscriber


@transaction.atomic
def subscriber_change_services(
    *, subscriber: Subscriber, services: Iterable[Service]
) -> Subscriber:
    """Follow these services from now on (the manage page, through the link)."""
    errors: dict[str, list[str]] = {}
    chosen = _checked_services(services, errors)
    if errors:
        raise ValidationError(errors)
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    subscriber.services.set(chosen)
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, subscriber: Subscriber, now: datetime | None = None) -> Subscriber:
    """Stop every e-mail to the address at once; unsubscribing twice is unsubscribing."""
    now = now or timezone.now()
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = now
        subscriber.save(update_fields=["unsubscribed_at"])
    return subscriber
