"""Working a ticket: replies and internal notes, statuses and pauses, reclassification,
assignment, and the e-mails (through the outbox) that customers get."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from outbox.models import OutboxMessage
from tests.support.factories import CustomerUserFactory, StaffFactory, uploaded_file
from tickets.models import Attachment, TicketEvent, TicketMessage, TicketPause
from tickets.selectors import messages_visible_to, ticket_clocks, ticket_states
from tickets.services import (
    ticket_assign,
    ticket_file,
    ticket_from_unregistered_sender,
    ticket_reclassify,
    ticket_reply,
    ticket_set_status,
    ticket_take,
)

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 8, 10, tzinfo=ET)  # Monday: S2 response due 14:00, S3 18:00


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def ticket(customer_user, ticket_service):
    return ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500.",
        severity=2,
        now=NOW,
    )


def mails() -> list[OutboxMessage]:
    """What the customer is e-mailed after filing (the receipt and the desk's alert on
    filing are tests/tickets/test_notifications.py's)."""
    told = OutboxMessage.objects.exclude(dedupe_key__startswith="ticket-receipt:")
    return list(told.exclude(dedupe_key__startswith="ticket-new:").order_by("pk"))


# ---------------------------------------------------------------- replies


def test_the_first_public_staff_reply_is_the_response_and_is_e_mailed(ticket, agent, customer_user):
    reply = ticket_reply(ticket=ticket, actor=agent, body="Looking now.", now=et(2026, 6, 8, 11))
    ticket.refresh_from_db()
    assert (ticket.responded_at, ticket.status) == (et(2026, 6, 8, 11), "open")
    assert ticket_states(ticket, et(2026, 6, 9)).response == "met"
    assert not ticket.response_breached
    assert ticket.next_due_at == ticket.resolution_due_at  # only resolution still runs
    [mail] = mails()
    assert mail.to == [customer_user.email]
    assert mail.dedupe_key.startswith(f"ticket-reply:{reply.pk}:")
    assert mail.subject == f"[{ticket.reference}] New reply: Publishing fails"
    assert "Looking now." in mail.body
    ticket_reply(ticket=ticket, actor=agent, body="Found it.", now=et(2026, 6, 8, 12))
    ticket.refresh_from_db()
    assert ticket.responded_at == et(2026, 6, 8, 11)  # the first one stays the response
    assert len(mails()) == 2


def test_a_late_first_response_is_flagged_as_breached(ticket, agent):
    ticket_reply(ticket=ticket, actor=agent, body="Sorry.", now=et(2026, 6, 8, 14, 5))
    ticket.refresh_from_db()
    assert ticket.response_breached and not ticket.resolution_breached
    assert ticket_states(ticket, et(2026, 6, 9)).response == "breached"


def test_internal_notes_are_never_shown_or_e_mailed_to_the_customer(ticket, agent, customer_user):
    note = ticket_reply(ticket=ticket, actor=agent, body="Customer on old build.", public=False)
    ticket.refresh_from_db()
    assert ticket.responded_at is None and ticket.status == "new"
    assert mails() == []
    assert note not in messages_visible_to(ticket, customer_user)
    assert note in messages_visible_to(ticket, agent)


def test_a_customer_cannot_post_an_internal_note(ticket, customer_user):
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, actor=customer_user, body="psst", public=False)
    assert not TicketMessage.objects.exists()


def test_a_reply_to_a_closed_ticket_is_refused_and_saves_nothing(
    ticket, agent, customer_user, media
):
    ticket_set_status(ticket=ticket, status="closed", actor=agent, now=et(2026, 6, 8, 11))
    before = OutboxMessage.objects.count()
    for actor in (customer_user, agent):
        with pytest.raises(ValidationError) as refused:
            ticket_reply(
                ticket=ticket,
                actor=actor,
                body="One more thing",
                attachments=[uploaded_file("more.txt")],
                now=et(2026, 6, 8, 12),
            )
        assert "closed" in refused.value.messages[0]
    assert not TicketMessage.objects.exists() and not Attachment.objects.exists()
    assert OutboxMessage.objects.count() == before
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_an_empty_reply_or_a_refused_file_is_refused(ticket, customer_user):
    with pytest.raises(ValidationError) as refused:
        ticket_reply(ticket=ticket, actor=customer_user, body="  ")
    assert refused.value.message_dict == {"body": ["Write a message."]}
    with pytest.raises(ValidationError) as refused:
        ticket_reply(
            ticket=ticket, actor=customer_user, body="see", attachments=[uploaded_file("a.exe")]
        )
    assert "not accepted" in refused.value.message_dict["attachments"][0]
    assert not TicketMessage.objects.exists()


def test_a_reply_keeps_its_attachments(ticket, customer_user):
    message = ticket_reply(
        ticket=ticket, actor=customer_user, body="Screenshot", attachments=[uploaded_file("s.png")]
    )
    attachment = message.attachments.get()
    assert (attachment.ticket, attachment.content_type, attachment.public) == (
        ticket,
        "image/png",
        True,
    )
    assert mails() == []  # the customer's own words are not e-mailed back


def test_people_of_another_customer_cannot_reply(ticket):
    stranger = CustomerUserFactory()
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, actor=stranger, body="hello")


# ---------------------------------------------------------------- status and pauses


def test_waiting_on_the_customer_pauses_both_clocks_until_they_reply(ticket, agent, customer_user):
    ticket_set_status(
        ticket=ticket, status="waiting_on_customer", actor=agent, now=et(2026, 6, 8, 11)
    )
    ticket.refresh_from_db()
    assert ticket_states(ticket, et(2026, 6, 8, 15)).response == "paused"
    assert (ticket.response_due_at, ticket.next_due_at) == (None, None)
    ticket_reply(ticket=ticket, actor=customer_user, body="Here it is.", now=et(2026, 6, 8, 13))
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.response_due_at == et(2026, 6, 8, 16)  # two paused hours added
    assert ticket.resolution_due_at == et(2026, 6, 10, 12)
    pause = TicketPause.objects.get()
    assert (pause.started_at, pause.ended_at) == (et(2026, 6, 8, 11), et(2026, 6, 8, 13))
    clocks = ticket_clocks(ticket, et(2026, 6, 8, 14))
    assert clocks.response.elapsed == timedelta(hours=2)


def test_status_changes_are_e_mailed_to_the_customer(ticket, agent, customer_user):
    ticket_set_status(ticket=ticket, status="waiting_on_customer", actor=agent, now=NOW)
    [mail] = mails()
    assert mail.to == [customer_user.email]
    assert "Waiting on customer" in mail.subject
    assert "paused" in mail.body
    event = ticket.events.get(kind="status_changed")
    assert (event.from_status, event.to_status, event.actor) == (
        "new",
        "waiting_on_customer",
        agent,
    )
    assert mail.dedupe_key.startswith(f"ticket-status:{event.pk}:")


def test_a_customer_may_resolve_and_reopen_but_not_close(ticket, customer_user, agent):
    ticket_set_status(ticket=ticket, status="resolved", actor=customer_user, now=et(2026, 6, 8, 11))
    ticket.refresh_from_db()
    assert ticket.resolved_at == et(2026, 6, 8, 11) and ticket.next_due_at is None
    assert ticket_states(ticket, et(2026, 6, 20)).resolution == "met"
    assert mails() == []  # they did it themselves
    ticket_set_status(ticket=ticket, status="open", actor=customer_user, now=et(2026, 6, 8, 15))
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    # The four resolved hours are a pause: the clocks go on from where they stopped.
    assert ticket.response_due_at == et(2026, 6, 8, 18)
    assert TicketPause.objects.get().kind == "resolved"
    with pytest.raises(PermissionDenied):
        ticket_set_status(ticket=ticket, status="closed", actor=customer_user)
    with pytest.raises(PermissionDenied):
        ticket_set_status(ticket=ticket, status="waiting_on_customer", actor=customer_user)


def test_closed_is_final_and_new_is_only_the_beginning(ticket, agent):
    ticket = ticket_take(ticket=ticket, actor=agent, now=et(2026, 6, 8, 10, 30))
    with pytest.raises(ValidationError) as refused:
        ticket_set_status(ticket=ticket, status="new", actor=agent)
    assert "status" in refused.value.message_dict
    with pytest.raises(ValidationError):
        ticket_set_status(ticket=ticket, status="archived", actor=agent)
    ticket_set_status(ticket=ticket, status="closed", actor=agent, now=et(2026, 6, 8, 11))
    ticket.refresh_from_db()
    assert ticket.closed_at == ticket.resolved_at == et(2026, 6, 8, 11)
    with pytest.raises(ValidationError):
        ticket_set_status(ticket=ticket, status="open", actor=agent)


# ---------------------------------------------------------------- reclassify, assign


def test_reclassification_3_to_1_recomputes_from_receipt_and_is_kept_in_history(
    customer_user, ticket_service, agent
):
    ticket = ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Site down",
        description="All pages fail.",
        severity=3,
        now=et(2026, 6, 5, 19),  # Friday evening: S3 response due Monday 10:00
    )
    assert ticket.response_due_at == et(2026, 6, 8, 10)
    ticket = ticket_reclassify(
        ticket=ticket, severity=1, reason="Whole site down", actor=agent, now=et(2026, 6, 5, 19, 10)
    )
    assert ticket.severity == 1
    assert ticket.response_due_at == et(2026, 6, 5, 19, 30)
    assert ticket.resolution_due_at == et(2026, 6, 6, 3)
    assert not ticket.response_breached
    event = ticket.events.get(kind="reclassified")
    assert (event.from_severity, event.to_severity, event.reason, event.actor) == (
        3,
        1,
        "Whole site down",
        agent,
    )


def test_reclassifying_after_the_new_target_has_passed_is_a_breach(ticket, agent):
    ticket = ticket_reclassify(
        ticket=ticket, severity=1, reason="Data loss", actor=agent, now=et(2026, 6, 8, 11)
    )
    assert ticket.response_breached  # 30 minutes from receipt at 10:00


def test_reclassification_needs_staff_a_reason_and_a_new_severity(ticket, agent, customer_user):
    with pytest.raises(PermissionDenied):
        ticket_reclassify(ticket=ticket, severity=1, reason="urgent!", actor=customer_user)
    with pytest.raises(ValidationError) as refused:
        ticket_reclassify(ticket=ticket, severity=9, reason=" ", actor=agent)
    assert set(refused.value.message_dict) == {"severity", "reason"}
    with pytest.raises(ValidationError) as refused:
        ticket_reclassify(ticket=ticket, severity=2, reason="same", actor=agent)
    assert "already severity 2" in refused.value.message_dict["severity"][0]
    assert not TicketEvent.objects.filter(kind="reclassified").exists()


def test_an_agent_takes_a_ticket_and_may_hand_it_on(ticket, agent, customer_user):
    ticket = ticket_take(ticket=ticket, actor=agent, now=et(2026, 6, 8, 10, 5))
    assert (ticket.assignee, ticket.status) == (agent, "open")
    colleague = StaffFactory(role="agent")
    ticket = ticket_assign(ticket=ticket, assignee=colleague, actor=agent)
    assert ticket.assignee == colleague
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "status_changed", "assigned"]
    with pytest.raises(ValidationError):
        ticket_assign(ticket=ticket, assignee=customer_user, actor=agent)
    with pytest.raises(PermissionDenied):
        ticket_assign(ticket=ticket, assignee=agent, actor=customer_user)


def test_an_unregistered_sender_may_continue_only_their_own_ticket(customer, tiered_contract):
    ticket = ticket_from_unregistered_sender(
        sender_email="Someone@Elsewhere.test", subject="Hi", description="?", now=NOW
    )
    message = ticket_reply(
        ticket=ticket,
        actor=None,
        sender_email="someone@elsewhere.test",
        body="More detail",
        channel="email",
        now=et(2026, 6, 8, 11),
    )
    assert (message.author, message.author_email, message.from_staff) == (
        None,
        "someone@elsewhere.test",
        False,
    )
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, actor=None, sender_email="other@x.test", body="me too")
