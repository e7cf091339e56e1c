"""E-mail about incidents, through the outbox: each public update of an incident or a
maintenance window, one message per recipient, and the subscription e-mails (confirm,
manage). Templates under ``templates/status/email/``: subject, text and HTML on one
inline-styled layout, as ticket e-mail.

Who hears of an update (``eligible_updates``, the one home of the rule):

* An outage the public may see (the status page's ``public_outages``, and
  ``outages.selectors.PUBLISHED``: neither dismissed nor opened by an alert that
  operations have not confirmed): every **active subscriber** of its service, and
  nobody else. Customers' people subscribe like anyone else if they want these.
* An outage **scoped to chosen customers** (and published): every active person of each
  of those (active) customers, with a link to their portal's incidents page. Never a
  subscriber, never another customer's people.
* Public updates only: internal ones never leave the building.
* Once visible: started, or announced ahead of time, by now. A maintenance update posted
  before its announcement goes out once the announcement time has passed (the sweep).
* Recent only: an update that became visible more than ``HORIZON`` ago is never sent.
  Without it the sweep would mail old news: a lost task found late, an alert confirmed
  long after it fired, an outage recorded after the fact with an old ``now``, and, on
  the day this ships, every update ever posted. Recipients are whoever is active when
  their batch runs: someone who subscribes during an incident hears its next updates.

Batches: ``update_fanout_batch`` queues at most ``BATCH_SIZE`` messages in one
transaction, recipients in id order after ``after``, and says where the next batch
starts; the task dispatches it. The dedupe keys (``status-update:<update>:sub:<id>``,
``incident-update:<update>:user:<id>``) make a retried, repeated or concurrent batch
queue nothing twice. The last batch records ``UpdateFanout``; the sweep
(``updates_fanout_owed``) finds eligible updates without one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contracts.models import User
from outages.models import Outage, OutageUpdate
from outages.selectors import PUBLISHED
from outbox.models import OutboxMessage
from outbox.services import outbox_enqueue
from status.models import Subscriber, UpdateFanout
from status.selectors import public_outages

log = logging.getLogger(__name__)

BATCH_SIZE = 500
HORIZON = timedelta(hours=24)
# Updates the sweep hands out per tick; the rest wait for the next (5 minutes).
SWEEP_LIMIT = 200
SUBSCRIBER_KEY = "status-update:{update}:sub:{recipient}"
PERSON_KEY = "incident-update:{update}:user:{recipient}"
# At most one confirmation (or "manage your subscription") e-mail per address per hour,
# however often the form is sent: the dedupe key carries the hour.
MAIL_BUCKET = "%Y%m%d%H"
UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"  # RFC 8058


def absolute(name: str, *args: object) -> str:
    """A link for an e-mail: the portal's public address (``PORTAL_URL``) and the path."""
    return settings.PORTAL_URL.rstrip("/") + reverse(name, args=args)


def subscriber_links(subscriber: Subscriber) -> dict[str, str]:
    token = subscriber.token
    return {
        "manage_url": absolute("status-subscription", token),
        "confirm_url": absolute("status-subscription-confirm", token),
        "unsubscribe_url": absolute("status-subscription-unsubscribe", token),
    }


def _zone(*names: str) -> ZoneInfo:
    for name in names:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _render(kind: str, context: dict, zone: ZoneInfo) -> tuple[str, str, str]:
    context = {"provider": settings.PROVIDER_NAME, "zone": zone.key, **context}
    with timezone.override(zone):
        subject = render_to_string(f"status/email/{kind}_subject.txt", context)
        text = render_to_string(f"status/email/{kind}.txt", context)
        html = render_to_string(f"status/email/{kind}.html", context)
    return " ".join(subject.split()), text, html


# ---------------------------------------------------------------- who hears of what


def eligible_updates(now: datetime) -> QuerySet[OutageUpdate]:
    """The public updates that may be sent at ``now`` (the module docstring's rules)."""
    since = now - HORIZON
    public = public_outages(now).filter(PUBLISHED).values("pk")
    scoped = (
        Outage.objects.filter(PUBLISHED, scope=Outage.Scope.CUSTOMERS)
        .filter(Q(started_at__lte=now) | Q(announced_at__lte=now))
        .values("pk")
    )
    # Visible since the earlier of its start and its announcement; sent while the later
    # of that and its posting is within the horizon.
    recent = Q(posted_at__gte=since) | (
        Q(outage__started_at__gte=since)
        & (Q(outage__announced_at__isnull=True) | Q(outage__announced_at__gte=since))
    )
    return OutageUpdate.objects.filter(
        Q(outage__in=public) | Q(outage__in=scoped), recent, public=True, posted_at__lte=now
    )


def updates_fanout_owed(now: datetime | None = None) -> list[int]:
    """The eligible updates not fanned out yet, oldest first: their task was lost, they
    were posted before their maintenance was announced, or before their alert was
    confirmed. At most ``SWEEP_LIMIT``; the next tick takes the rest."""
    now = now or timezone.now()
    done = UpdateFanout.objects.filter(update_id=OuterRef("pk"))
    owed = eligible_updates(now).filter(~Exists(done)).order_by("posted_at", "pk")
    return list(owed.values_list("pk", flat=True)[:SWEEP_LIMIT])


def _subscribers(update: OutageUpdate, after: int, size: int) -> list[Subscriber]:
    return list(
        Subscriber.objects.filter(
            confirmed_at__isnull=False,
            unsubscribed_at__isnull=True,
            services=update.outage.service_id,
            pk__gt=after,
        ).order_by("pk")[:size]
    )


def _people(update: OutageUpdate, after: int, size: int) -> list[User]:
    named = Outage.customers.through.objects.filter(outage_id=update.outage_id)
    return list(
        User.objects.filter(
            customer__in=named.values("customer_id"),
            customer__is_active=True,
            is_active=True,
            pk__gt=after,
        )
        .exclude(email="")
        .select_related("customer")
        .order_by("pk")[:size]
    )


# ---------------------------------------------------------------- the fan-out


@dataclass(frozen=True)
class Batch:
    queued: int
    next_after: int | None  # the next batch's recipients have larger ids; None: done


def _update_context(update: OutageUpdate) -> dict:
    outage = update.outage
    return {
        "update": update,
        "outage": outage,
        "service": outage.service,
        "stage": update.get_stage_display(),
        "kind": "Maintenance" if outage.is_maintenance else "Incident",
        "impact": outage.get_impact_display(),
    }


def _subscriber_message(update: OutageUpdate, subscriber: Subscriber) -> tuple[dict, dict]:
    links = subscriber_links(subscriber)
    context = {
        **_update_context(update),
        **links,
        "incident_url": absolute("status-incident", update.outage_id),
    }
    subject, text, html = _render("update", context, ZoneInfo("UTC"))
    headers = {
        "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
        "List-Unsubscribe-Post": UNSUBSCRIBE_POST,
    }
    return {"subject": subject, "body": text, "html_body": html}, headers


def _person_message(update: OutageUpdate, person: User) -> tuple[dict, dict]:
    context = {
        **_update_context(update),
        "customer": person.customer,
        "incident_url": absolute("portal-incidents") + f"#incident-{update.outage_id}",
    }
    zone = _zone(person.time_zone, person.customer.time_zone)
    subject, text, html = _render("incident", context, zone)
    return {"subject": subject, "body": text, "html_body": html}, {}


def _queue(
    update: OutageUpdate,
    recipients: Sequence[Subscriber | User],
    key: str,
    message: Callable[[OutageUpdate, Subscriber | User], tuple[dict, dict]],
    now: datetime,
) -> int:
    keys = {r.pk: key.format(update=update.pk, recipient=r.pk) for r in recipients}
    # A retried batch renders nothing it has queued before: one query, not one a person.
    queued_before = set(
        OutboxMessage.objects.filter(dedupe_key__in=list(keys.values())).values_list(
            "dedupe_key", flat=True
        )
    )
    queued = 0
    for recipient in recipients:
        if keys[recipient.pk] in queued_before:
            continue
        fields, headers = message(update, recipient)
        try:
            _, created = outbox_enqueue(
                to=[recipient.email],
                dedupe_key=keys[recipient.pk],
                headers=headers,
                now=now,
                **fields,
            )
        except ValidationError as exc:
            # One malformed address must not hold up everybody else's e-mail for ever.
            log.warning("update %s: not sent as %s: %s", update.pk, keys[recipient.pk], exc)
            continue
        queued += created
    return queued


def _done(update: OutageUpdate, now: datetime) -> None:
    prefixes = [
        SUBSCRIBER_KEY.format(update=update.pk, recipient=""),
        PERSON_KEY.format(update=update.pk, recipient=""),
    ]
    messages = OutboxMessage.objects.filter(
        Q(dedupe_key__startswith=prefixes[0]) | Q(dedupe_key__startswith=prefixes[1])
    ).count()
    UpdateFanout.objects.get_or_create(
        update=update, defaults={"done_at": now, "messages": messages}
    )


def update_fanout_batch(
    *, update_id: int, after: int = 0, now: datetime | None = None, size: int = 0
) -> Batch:
    """Queue the next batch of an update's e-mails (recipients with ids above ``after``);
    the last batch records the update as fanned out. An update that is gone, internal,
    not visible yet or past the horizon queues nothing and is not recorded: if it becomes
    eligible, the sweep finds it."""
    now = now or timezone.now()
    size = size or BATCH_SIZE
    if UpdateFanout.objects.filter(update_id=update_id).exists():
        return Batch(0, None)
    update = (
        eligible_updates(now)
        .select_related("outage__service")
        .defer("outage__internal_notes")
        .filter(pk=update_id)
        .first()
    )
    if update is None:
        return Batch(0, None)
    with transaction.atomic():
        if update.outage.scope == Outage.Scope.ALL:
            recipients: list = _subscribers(update, after, size)
            queued = _queue(update, recipients, SUBSCRIBER_KEY, _subscriber_message, now)
        else:
            recipients = _people(update, after, size)
            queued = _queue(update, recipients, PERSON_KEY, _person_message, now)
        if len(recipients) == size:
            return Batch(queued, recipients[-1].pk)
        _done(update, now)
    log.info("update %s fanned out (%s new message(s) in its last batch)", update_id, queued)
    return Batch(queued, None)


# ---------------------------------------------------------------- subscription e-mail


def _subscription_mail(kind: str, subscriber: Subscriber, now: datetime) -> bool:
    services = sorted(s.name for s in subscriber.services.all())
    context = {"subscriber": subscriber, "services": services, **subscriber_links(subscriber)}
    subject, text, html = _render(kind, context, ZoneInfo("UTC"))
    hour = now.astimezone(ZoneInfo("UTC")).strftime(MAIL_BUCKET)
    _, created = outbox_enqueue(
        to=[subscriber.email],
        subject=subject,
        body=text,
        html_body=html,
        dedupe_key=f"subscription-{kind}:{subscriber.pk}:{hour}",
        now=now,
    )
    return created


def notify_confirm(subscriber: Subscriber, now: datetime) -> bool:
    """The double opt-in: a link to confirm (nothing else is ever sent before)."""
    return _subscription_mail("confirm", subscriber, now)


def notify_manage(subscriber: Subscriber, now: datetime) -> bool:
    """An address already subscribed asked again: a link to change its subscription,
    not a change made by whoever typed the address."""
    return _subscription_mail("manage", subscriber, now)
