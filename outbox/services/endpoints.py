"""Webhook endpoints, managed by administrators: create, change, deactivate, rotate the
secret, and replay a delivery. Every change is announced with ``webhook_changed`` in its
transaction (the portal writes the audit entry); a secret is never put in it."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from outbox.models import WebhookDelivery, WebhookEndpoint
from outbox.services.webhooks import _dispatch
from outbox.signals import webhook_changed
from outbox.webhooks import registered_events
from slaportal import roles
from slaportal.transactions import after_commit

AUDITED = ("url", "description", "events", "is_active", "deactivated_reason")


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def url_problem(url: str) -> str | None:
    """What is wrong with a webhook URL, or None: it must be http(s) and fit the column."""
    if len(url) > 500:
        return "Keep the URL to 500 characters."
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "Give an http:// or https:// URL."
    return None


def _require_admin(actor) -> None:
    if not roles.has_role(actor, roles.ADMIN):
        raise PermissionDenied("Only administrators manage webhooks.")


def _clean(url: str, events: Sequence[str], description: str) -> tuple[str, list[str], str]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    if problem := url_problem(url):
        errors["url"] = [problem]
    known = registered_events()
    chosen = list(dict.fromkeys(events or ()))
    unknown = [e for e in chosen if e not in known]
    if unknown:
        errors["events"] = [f"Unknown event: {', '.join(unknown)}."]
    elif not chosen:
        errors["events"] = ["Choose at least one event."]
    description = " ".join((description or "").split())
    if len(description) > 200:
        errors["description"] = ["Keep the description to 200 characters."]
    if errors:
        raise ValidationError(errors)
    return url, sorted(chosen), description


def _values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {name: getattr(endpoint, name) for name in AUDITED}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"before": before.get(name), "after": after[name]}
        for name in after
        if before.get(name) != after[name]
    }


def _announce(actor, action: str, obj, changes: dict, reason: str = "") -> None:
    webhook_changed.send(
        sender=type(obj), actor=actor, action=action, obj=obj, changes=changes, reason=reason
    )


def _locked(endpoint_id: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor,
    url: str,
    events: Sequence[str],
    description: str = "",
    now: datetime | None = None,
) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret (``endpoint.secret``: show it once)."""
    _require_admin(actor)
    url, events, description = _clean(url, events, description)
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        description=description,
        events=events,
        secret=new_secret(),
        created_at=now,
        updated_at=now,
    )
    _announce(actor, "webhook_endpoint.create", endpoint, _changes({}, _values(endpoint)))
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor,
    endpoint_id: int,
    url: str,
    events: Sequence[str],
    description: str = "",
    is_active: bool | None = None,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Change the URL, description and events; ``is_active=True`` reactivates an endpoint
    (clearing why it was deactivated), ``False`` deactivates it."""
    _require_admin(actor)
    url, events, description = _clean(url, events, description)
    endpoint = _locked(endpoint_id)
    before = _values(endpoint)
    endpoint.url, endpoint.events, endpoint.description = url, events, description
    if is_active is True and not endpoint.is_active:
        endpoint.is_active, endpoint.deactivated_reason = True, ""
    elif is_active is False and endpoint.is_active:
        endpoint.is_active = False
        endpoint.deactivated_reason = "Deactivated by an administrator."
    changes = _changes(before, _values(endpoint))
    if changes:
        endpoint.updated_at = now or timezone.now()
        endpoint.save()
        _announce(actor, "webhook_endpoint.change", endpoint, changes)
    return endpoint


@transaction.atomic
def webhook_endpoint_deactivate(
    *, actor, endpoint_id: int, reason: str = "", now: datetime | None = None
) -> WebhookEndpoint:
    """Stop sending to the endpoint; its pending deliveries fail instead of being sent."""
    _require_admin(actor)
    endpoint = _locked(endpoint_id)
    if not endpoint.is_active:
        return endpoint
    reason = " ".join((reason or "").split())[:300] or "Deactivated by an administrator."
    before = _values(endpoint)
    endpoint.is_active, endpoint.deactivated_reason = False, reason
    endpoint.updated_at = now or timezone.now()
    endpoint.save()
    _announce(
        actor, "webhook_endpoint.deactivate", endpoint, _changes(before, _values(endpoint)), reason
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor, endpoint_id: int, now: datetime | None = None
) -> WebhookEndpoint:
    """A fresh secret, used from the next attempt on (``endpoint.secret``: show it once)."""
    _require_admin(actor)
    endpoint = _locked(endpoint_id)
    endpoint.secret = new_secret()
    endpoint.updated_at = now or timezone.now()
    endpoint.save(update_fields=["secret", "updated_at"])
    # The secret itself never reaches the audit log.
    _announce(
        actor,
        "webhook_endpoint.rotate_secret",
        endpoint,
        {"secret": {"before": "(previous secret)", "after": "(new secret)"}},
    )
    return endpoint


@transaction.atomic
def webhook_replay(*, delivery_id: int, actor, now: datetime | None = None) -> WebhookDelivery:
    """Send a failed or delivered delivery again, now, with the same message id (so a
    receiver that kept the first can drop the copy), as a new round of attempts with the
    usual retries. Its endpoint must be active."""
    _require_admin(actor)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise ValidationError({"delivery": ["This delivery is still pending; it will be sent."]})
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if not endpoint.is_active:
        raise ValidationError({"delivery": ["Reactivate the endpoint before replaying."]})
    now = now or timezone.now()
    before = delivery.status
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.delivered_at = None
    delivery.next_attempt_at = now
    # A replay starts a new round: its first attempt now, the usual retries after it.
    delivery.attempts = 0
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "attempts"])
    _announce(
        actor,
        "webhook_delivery.replay",
        delivery,
        {"status": {"before": before, "after": WebhookDelivery.Status.PENDING.value}},
    )
    after_commit(_dispatch, delivery.pk)
    return delivery
