"""An incident scoped to chosen customers reaches their people by e-mail, each update
once, in their own time zone, with a link to their portal; never another customer's
people, never a subscriber, never an internal note."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from outages.services import outage_close, outage_post_update, outage_record
from outbox.models import OutboxMessage
from status.models import UpdateFanout
from status.subscriptions import subscriber_confirm, subscriber_subscribe
from status.tasks import fanout_sweep_task, fanout_update_task
from tests.support.factories import (
    ContractLineFactory,
    CustomerFactory,
    CustomerUserFactory,
    make_contract,
)


@pytest.fixture
def live(celery_eager, django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def world(db):
    """Two customers of one service, each with people; a subscriber of that service."""
    acme = CustomerFactory(name="Acme")
    globex = CustomerFactory(name="Globex")
    service = make_contract(acme, reference="C-ACME").services.get()
    ContractLineFactory(
        contract=make_contract(globex, reference="C-GLOBEX", fees=()), service=service
    )
    people = {
        "ada": CustomerUserFactory(customer=acme, email="ada@acme.test"),
        "pierre": CustomerUserFactory(
            customer=acme, email="pierre@acme.test", time_zone="Europe/Paris"
        ),
        "gone": CustomerUserFactory(customer=acme, email="gone@acme.test", is_active=False),
        "gil": CustomerUserFactory(customer=globex, email="gil@globex.test"),
    }
    subscriber = subscriber_subscribe(email="fan@example.test", services=[service])
    subscriber_confirm(subscriber=subscriber)
    return {"acme": acme, "globex": globex, "service": service, **people}


def scoped(world, **kw):
    return outage_record(
        service=world["service"],
        started_at=timezone.now() - timedelta(minutes=20),
        category="internal",
        title="Acme's tenant unreachable",
        scope="customers",
        customers=[world["acme"]],
        actor=None,
        **kw,
    )


def delivered() -> dict[str, list[str]]:
    """Subjects of the incident e-mails delivered, by address."""
    found: dict[str, list[str]] = {}
    for message in mail.outbox:
        found.setdefault(message.to[0], []).append(message.subject)
    return found


def test_the_customers_people_get_each_public_update_of_an_incident_scoped_to_them(world, live):
    outage = live(scoped, world)
    live(
        outage_post_update,
        outage=outage,
        text="Failover to the standby.",
        public=True,
        stage="identified",
        actor=None,
    )
    live(
        outage_post_update,
        outage=outage,
        text="Internal: standby lags 4 min",
        public=False,
        actor=None,
    )
    live(outage_close, outage=outage, ended_at=timezone.now(), actor=None)

    subjects = [
        "[Investigating] {s}: Acme's tenant unreachable",
        "[Identified] {s}: Acme's tenant unreachable",
        "[Resolved] {s}: Acme's tenant unreachable",
    ]
    expected = [s.format(s=world["service"].name) for s in subjects]
    assert delivered() == {"ada@acme.test": expected, "pierre@acme.test": expected}
    assert not any("standby lags" in m.body for m in mail.outbox)


def test_the_email_links_to_the_portal_and_shows_times_in_the_persons_zone(world, live, frozen_now):
    outage = live(scoped, world)
    by_address = {m.to[0]: m for m in mail.outbox}
    portal = f"{settings.PORTAL_URL}/portal/incidents/#incident-{outage.pk}"
    for address in ("ada@acme.test", "pierre@acme.test"):
        message = by_address[address]
        assert portal in message.body and portal in message.alternatives[0][0]
        assert "This incident affects Acme" in message.body
        assert "List-Unsubscribe" not in message.extra_headers
        assert "/status/incidents/" not in message.body  # a scoped incident has no public page
    paris = frozen_now.astimezone(ZoneInfo("Europe/Paris"))
    assert (
        f"Posted: {paris:%a} {paris.day} {paris:%b %Y, %H:%M} (Europe/Paris)"
        in by_address["pierre@acme.test"].body
    )
    assert "(UTC)" in by_address["ada@acme.test"].body


def test_an_incident_of_every_customer_is_for_subscribers_not_for_customers_people(world, live):
    live(
        outage_record,
        service=world["service"],
        started_at=timezone.now() - timedelta(minutes=5),
        category="internal",
        title="Everyone's outage",
        actor=None,
    )
    assert list(delivered()) == ["fan@example.test"]


def test_a_retried_incident_fanout_sends_nothing_twice(world, live):
    outage = live(scoped, world)
    update = outage.updates.get()
    fanout_update_task(update.pk)
    UpdateFanout.objects.all().delete()
    live(fanout_update_task, update.pk)
    live(fanout_sweep_task)
    assert (
        OutboxMessage.objects.filter(dedupe_key__startswith=f"incident-update:{update.pk}:").count()
        == 2
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@acme.test", "pierre@acme.test"]
    assert UpdateFanout.objects.get(update=update).messages == 2


def test_an_inactive_customers_people_get_nothing(world, live):
    world["acme"].is_active = False
    world["acme"].save()
    live(scoped, world)
    assert delivered() == {}
