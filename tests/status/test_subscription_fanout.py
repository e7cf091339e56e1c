"""Subscribers get each public update of the incidents and maintenance of their services,
once, through the outbox: posted updates reach them by themselves (after commit, in
batches), retries send nothing twice, and the sweep catches what becomes public later."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outages.models import Outage
from outages.services import outage_change, outage_close, outage_post_update, outage_record
from outbox.models import OutboxMessage
from status import notify
from status.models import Subscriber, UpdateFanout
from status.subscriptions import subscriber_confirm, subscriber_subscribe
from status.tasks import fanout_sweep_task, fanout_update_task
from tests.support.factories import CustomerFactory, ServiceFactory, make_contract


@pytest.fixture
def publishing(db):
    return ServiceFactory(name="Publishing")


@pytest.fixture
def search(db):
    return ServiceFactory(name="Search")


@pytest.fixture
def live(celery_eager, django_capture_on_commit_callbacks):
    """Run what commits would set off: the fan-out task, then the outbox's sends."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def subscribed(email: str, *services, confirm: bool = True) -> Subscriber:
    subscriber = subscriber_subscribe(email=email, services=services)
    return subscriber_confirm(subscriber=subscriber) if confirm else subscriber


def record(service, *, title="Publishing is down", **kw) -> Outage:
    """An outage of ``service`` that started ten minutes ago (its first update: now)."""
    fields = {"category": "internal", "started_at": timezone.now() - timedelta(minutes=10), **kw}
    return outage_record(service=service, title=title, actor=None, **fields)


def updates_to(address: str) -> list:
    """The status-update e-mails delivered to ``address`` (not the confirmation)."""
    return [m for m in mail.outbox if m.to == [address] and "subscription" not in m.subject]


def queued(prefix: str = "status-update:") -> int:
    return OutboxMessage.objects.filter(dedupe_key__startswith=prefix).count()


def test_a_subscriber_confirmed_by_link_gets_one_email_per_public_update_of_their_service(
    client, publishing, search, live
):
    client.post("/status/subscribe/", {"email": "ada@example.test", "services": [publishing.pk]})
    confirm = OutboxMessage.objects.get(to=["ada@example.test"])
    path = re.search(r"/status/subscriptions/\S+/confirm/", confirm.body).group(0)
    Client().post(path)
    subscribed("sam@example.test", search)
    subscribed("pending@example.test", publishing, confirm=False)
    customer = CustomerFactory()
    contract = make_contract(customer)

    outage = live(record, publishing, description="Publishing jobs fail.")
    live(
        outage_post_update,
        outage=outage,
        text="Internal: the disk on db-3 is full",
        public=False,
        actor=None,
    )
    live(
        outage_post_update,
        outage=outage,
        text="We found the cause.",
        public=True,
        stage="identified",
        actor=None,
    )
    live(outage_close, outage=outage, ended_at=outage.started_at + timedelta(minutes=5), actor=None)
    live(record, search, title="Search is slow")
    live(
        record,
        contract.services.get(),
        title="Only one customer's tenant",
        scope="customers",
        customers=[customer],
    )

    ada = updates_to("ada@example.test")
    assert [m.subject for m in ada] == [
        "[Investigating] Publishing: Publishing is down",
        "[Identified] Publishing: Publishing is down",
        "[Resolved] Publishing: Publishing is down",
    ]
    assert "We found the cause." in ada[1].body
    assert not any("disk on db-3" in m.body or "disk on db-3" in str(m.alternatives) for m in ada)
    assert [m.subject for m in updates_to("sam@example.test")] == [
        "[Investigating] Search: Search is slow"
    ]
    assert updates_to("pending@example.test") == []
    assert not any("Only one customer" in m.subject for m in mail.outbox)


def test_each_update_carries_one_click_unsubscribe_headers_and_links(publishing, live):
    ada = subscribed("ada@example.test", publishing)
    mail.outbox.clear()
    outage = live(record, publishing)
    [message] = updates_to("ada@example.test")
    unsubscribe = f"{settings.PORTAL_URL}/status/subscriptions/{ada.token}/unsubscribe/"
    sent = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    # (A long header is folded onto a second line; unfolded, it is the link.)
    assert sent["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in message.body
    html = message.alternatives[0][0]
    assert unsubscribe in html and "<table" in html
    assert f"{settings.PORTAL_URL}/status/subscriptions/{ada.token}/" in message.body
    assert f"{settings.PORTAL_URL}/status/incidents/{outage.pk}/" in message.body


def test_after_the_one_click_unsubscribe_no_more_email_comes(publishing, live):
    ada = subscribed("ada@example.test", publishing)
    outage = live(record, publishing)
    url = reverse("status-subscription-unsubscribe", args=[ada.token])
    assert Client(enforce_csrf_checks=True).post(url).status_code == 200
    live(outage_post_update, outage=outage, text="Still on it.", public=True, actor=None)
    assert len(updates_to("ada@example.test")) == 1


def test_a_retried_fanout_queues_nothing_twice(publishing, live):
    for n in range(3):
        subscribed(f"s{n}@example.test", publishing)
    outage = live(record, publishing)
    update = outage.updates.get()
    assert queued() == 3 and UpdateFanout.objects.get(update=update).messages == 3

    # The task delivered twice, and once more as if its record had been lost.
    fanout_update_task(update.pk)
    UpdateFanout.objects.all().delete()
    fanout_update_task(update.pk)
    fanout_sweep_task()
    assert queued() == 3
    assert len(mail.outbox) == 3
    assert UpdateFanout.objects.get(update=update).messages == 3


def test_a_large_fanout_goes_in_batches_and_each_address_gets_one(publishing, live, monkeypatch):
    subscribers = [subscribed(f"s{n}@example.test", publishing) for n in range(5)]
    monkeypatch.setattr(notify, "BATCH_SIZE", 2)
    outage = live(record, publishing)
    update = outage.updates.get()
    updates = OutboxMessage.objects.filter(dedupe_key__startswith="status-update:")
    assert sorted(m.to[0] for m in updates) == sorted(s.email for s in subscribers)
    assert UpdateFanout.objects.get(update=update).messages == 5

    # One batch at a time: each says where the next starts; the last records the fan-out.
    UpdateFanout.objects.all().delete()
    batch = notify.update_fanout_batch(update_id=update.pk, size=2)
    assert batch.queued == 0 and batch.next_after == subscribers[1].pk
    batch = notify.update_fanout_batch(update_id=update.pk, after=batch.next_after, size=2)
    assert batch.next_after == subscribers[3].pk
    batch = notify.update_fanout_batch(update_id=update.pk, after=batch.next_after, size=2)
    assert batch.next_after is None and UpdateFanout.objects.filter(update=update).exists()


def test_nothing_goes_for_a_dismissed_or_unconfirmed_alert_until_operations_confirm_it(
    publishing, live, frozen_now
):
    subscribed("ada@example.test", publishing)
    started = frozen_now - timedelta(minutes=30)
    alert = live(record, publishing, title="Probe failed", source="alert", started_at=started)
    false_alarm = live(
        record, publishing, title="Flapping probe", source="alert", started_at=started
    )
    Outage.objects.filter(pk=false_alarm.pk).update(
        dismissed_at=frozen_now, dismiss_reason="Probe bug"
    )
    live(fanout_sweep_task)
    assert updates_to("ada@example.test") == []

    with time_machine.travel(frozen_now + timedelta(minutes=5)):
        live(outage_change, outage=alert, actor=None, confirmed_at=frozen_now)
        live(fanout_sweep_task)
        live(fanout_sweep_task)
    assert [m.subject for m in updates_to("ada@example.test")] == [
        "[Investigating] Publishing: Probe failed"
    ]


def test_maintenance_posted_before_its_announcement_goes_out_when_announced(
    publishing, live, frozen_now
):
    subscribed("ada@example.test", publishing)
    window = live(
        outage_record,
        service=publishing,
        category="scheduled_maintenance",
        title="Database upgrade",
        started_at=frozen_now + timedelta(days=3),
        ended_at=frozen_now + timedelta(days=3, hours=2),
        announced_at=frozen_now + timedelta(hours=1),
        actor=None,
    )
    live(fanout_sweep_task)
    assert updates_to("ada@example.test") == []

    with time_machine.travel(frozen_now + timedelta(hours=1, minutes=5)):
        live(fanout_sweep_task)
    [message] = updates_to("ada@example.test")
    assert message.subject == "[Scheduled] Publishing: Database upgrade"
    assert "Planned start" in message.body
    assert UpdateFanout.objects.filter(update__outage=window).count() == 1


def test_updates_older_than_the_horizon_are_never_sent(publishing, live, frozen_now):
    subscribed("ada@example.test", publishing)
    # Recorded after the fact: its update is dated two days back.
    live(
        record,
        publishing,
        started_at=frozen_now - timedelta(days=2, hours=1),
        ended_at=frozen_now - timedelta(days=2),
        now=frozen_now - timedelta(days=2),
    )
    live(fanout_sweep_task)
    assert updates_to("ada@example.test") == []
    assert notify.updates_fanout_owed() == []


def test_customer_authorised_work_is_never_sent_to_subscribers(publishing, live):
    subscribed("ada@example.test", publishing)
    live(record, publishing, title="Agreed downtime", category="customer_authorized")
    live(fanout_sweep_task)
    assert updates_to("ada@example.test") == []
