"""Escalations: at 75 % of a target the assignee (or every agent) is e-mailed, at breach
the customer's account managers; each level once per ticket and target, however often
and however concurrently the every-minute job runs."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from outbox.models import OutboxMessage
from tests.support.factories import StaffFactory
from tickets.models import Escalation, Ticket
from tickets.services import (
    ticket_file,
    ticket_reply,
    ticket_set_status,
    ticket_take,
    tickets_escalate,
    tickets_refresh_breaches,
)
from tickets.tasks import escalate_tickets

ET = ZoneInfo("America/New_York")
RECEIVED = datetime(2026, 6, 8, 10, tzinfo=ET)  # S2: response at risk 13:00, due 14:00


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


@pytest.fixture
def ticket(customer_user, ticket_service, account_manager, customer):
    customer.account_managers.add(account_manager)
    return ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500.",
        severity=2,
        now=RECEIVED,
    )


def escalation_mails() -> list[OutboxMessage]:
    """The escalation e-mails (filing also queues the receipt and the desk's alert), one
    per recipient."""
    mails = OutboxMessage.objects.filter(dedupe_key__startswith="ticket-escalation:")
    return list(mails.order_by("pk"))


def escalations() -> list[tuple[str, str]]:
    return list(Escalation.objects.order_by("pk").values_list("target", "level"))


def test_nothing_escalates_before_75_percent(ticket, agent):
    assert tickets_escalate(now=et(2026, 6, 8, 12, 59)) == 0
    assert escalations() == [] and not escalation_mails()


def test_at_75_percent_every_agent_hears_of_an_unassigned_ticket_once(ticket, agent):
    other = StaffFactory(role="agent")
    assert tickets_escalate(now=et(2026, 6, 8, 13)) == 1
    assert tickets_escalate(now=et(2026, 6, 8, 13, 1)) == 0  # the second run sends nothing
    assert escalations() == [("response", "at_risk")]
    mails = escalation_mails()
    assert sorted(m.to[0] for m in mails) == sorted([agent.email, other.email])
    assert all("75 %" in m.subject and ticket.reference in m.subject for m in mails)
    ticket.refresh_from_db()
    assert ticket.next_escalation_at == et(2026, 6, 8, 14)  # next: the response breach


def test_at_75_percent_an_assigned_ticket_goes_to_its_assignee(ticket, agent):
    StaffFactory(role="agent")
    ticket_take(ticket=ticket, actor=agent, now=et(2026, 6, 8, 10, 5))
    tickets_escalate(now=et(2026, 6, 8, 13, 30))
    [mail] = escalation_mails()
    assert mail.to == [agent.email]


def test_at_breach_the_account_managers_hear_of_it_once(ticket, agent, account_manager):
    assert tickets_escalate(now=et(2026, 6, 8, 14, 1)) == 2  # 75 % and breach, both due
    assert tickets_escalate(now=et(2026, 6, 8, 14, 2)) == 0
    assert escalations() == [("response", "at_risk"), ("response", "breach")]
    breach = OutboxMessage.objects.get(dedupe_key__contains=":response:breach:")
    assert breach.to == [account_manager.email]
    assert "breached" in breach.subject
    ticket.refresh_from_db()
    assert ticket.response_breached and not ticket.resolution_breached
    # Next: 75 % of the resolution target (34 h; 25.5 h in: Tuesday 18:30).
    assert ticket.next_escalation_at == et(2026, 6, 9, 18, 30)


def test_a_ticket_answered_in_time_escalates_nothing_for_its_response(ticket, agent):
    ticket_reply(ticket=ticket, actor=agent, body="On it", now=et(2026, 6, 8, 11))
    assert tickets_escalate(now=et(2026, 6, 8, 15)) == 0
    ticket.refresh_from_db()
    assert ticket.next_escalation_at == et(2026, 6, 9, 18, 30)


def test_a_paused_ticket_does_not_escalate_and_a_resolved_one_never_does(ticket, agent):
    ticket_set_status(
        ticket=ticket, status="waiting_on_customer", actor=agent, now=et(2026, 6, 8, 11)
    )
    assert tickets_escalate(now=et(2026, 6, 12)) == 0
    ticket_set_status(ticket=ticket, status="resolved", actor=agent, now=et(2026, 6, 12, 9))
    assert tickets_escalate(now=et(2026, 7, 1)) == 0
    assert escalations() == []


def test_breach_flags_are_refreshed_for_tickets_nobody_touched(ticket):
    assert tickets_refresh_breaches(now=et(2026, 6, 8, 14)) == 0  # the deadline itself is in time
    assert tickets_refresh_breaches(now=et(2026, 6, 8, 14, 1)) == 1
    assert tickets_refresh_breaches(now=et(2026, 6, 8, 14, 2)) == 0
    assert Ticket.objects.get().response_breached


def test_the_scheduled_task_run_twice_sends_nothing_new(ticket, agent):
    with time_machine.travel(et(2026, 6, 8, 14, 30), tick=False):
        first = escalate_tickets.apply().get()
        second = escalate_tickets.apply().get()
    assert (first, second) == (2, 0)
    assert len(escalation_mails()) == 2


def test_concurrent_runs_fire_each_level_once(
    postgres, transactional_db, celery_eager, ticket, agent
):
    """Two workers running the job at the same moment: row locks and the unique row keep
    it to one escalation, and one e-mail, per level."""
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = tickets_escalate(now=et(2026, 6, 8, 14, 30))
        except Exception as exc:  # noqa: BLE001 — the assertion shows what each got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 2], results
    assert escalations() == [("response", "at_risk"), ("response", "breach")]
    assert OutboxMessage.objects.filter(dedupe_key__startswith="ticket-escalation:").count() == 2


def test_the_database_keeps_one_escalation_per_ticket_target_and_level(ticket):
    fields = {"ticket": ticket, "target": "response", "level": "breach", "created_at": RECEIVED}
    Escalation.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(**fields)


@pytest.mark.edges
def test_at_any_instant_round_the_clock_targets_escalate_by_real_elapsed_time(
    customer_user, ticket_service, account_manager, customer, agent, frozen_now
):
    """Severity 1 runs around the clock (first response due in 30 minutes). At the
    suite's instant the scheduled job warns of a ticket filed 25 real minutes before
    (past 75 %), reports one filed 31 minutes before as breached and leaves one filed 20
    minutes before alone: across a DST change or a month's end, where local clock times
    are an hour off, as everywhere else."""
    customer.account_managers.add(account_manager)
    tickets = {
        age: ticket_file(
            actor=customer_user,
            service=ticket_service,
            subject=f"Down for {age} minutes",
            description="Nothing loads.",
            severity=1,
            now=frozen_now - timedelta(minutes=age),
        )
        for age in (20, 25, 31)
    }
    assert escalate_tickets.apply().get() == 3
    assert escalate_tickets.apply().get() == 0
    fired = {
        age: list(ticket.escalations.order_by("pk").values_list("target", "level"))
        for age, ticket in tickets.items()
    }
    assert fired == {
        20: [],
        25: [("response", "at_risk")],
        31: [("response", "at_risk"), ("response", "breach")],
    }
    following = {20: timedelta(minutes=22, seconds=30), 25: timedelta(minutes=30)}
    for age, ticket in tickets.items():
        ticket.refresh_from_db()
        assert ticket.response_due_at == ticket.received_at + timedelta(minutes=30)
        assert ticket.response_breached == (age == 31)
        # Next: the response breach, or 75 % of the 8-hour resolution target.
        assert ticket.next_escalation_at == ticket.received_at + following.get(
            age, timedelta(hours=6)
        )
