"""Filing and logging tickets: who may, what they get (clocks, history, files), and bad
input that is refused with a message and saves nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    ServiceFactory,
    TicketFactory,
    ticket_contract,
    uploaded_file,
)
from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage
from tickets.selectors import (
    agent_queue,
    customer_tickets,
    severity_options,
    ticket_states,
    tickets_visible_to,
)
from tickets.services import ticket_file, ticket_from_unregistered_sender, ticket_log

ET = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 8, 10, tzinfo=ET)  # a Monday, help desk open
MB = 1024 * 1024


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def file_one(user, service, **kw):
    fields = {
        "actor": user,
        "service": service,
        "subject": "Publishing fails",
        "description": "Every publish job ends with error 500.",
        "severity": 2,
        "now": NOW,
    }
    return ticket_file(**(fields | kw))


def test_a_customer_files_a_ticket_and_gets_its_due_times(
    customer_user, tiered_contract, ticket_service
):
    ticket = file_one(customer_user, ticket_service, attachments=[uploaded_file("trace.log")])
    assert ticket.reference == f"T-{ticket.pk:06d}"
    assert (ticket.customer, ticket.contract, ticket.requester) == (
        customer_user.customer,
        tiered_contract,
        customer_user,
    )
    assert (ticket.status, ticket.channel, ticket.severity) == ("new", "portal", 2)
    assert ticket.received_at == NOW
    assert ticket.response_target == timedelta(hours=4)
    assert ticket.response_due_at == et(2026, 6, 8, 14)
    assert ticket.resolution_due_at == et(2026, 6, 10, 10)
    assert ticket.next_due_at == ticket.response_due_at
    assert ticket.next_escalation_at == et(2026, 6, 8, 13)  # 75 % of the response target
    assert ticket_states(ticket, NOW).response == "on_track"
    assert list(ticket.events.values_list("kind", flat=True)) == ["created"]
    attachment = ticket.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "trace.log",
        "text/plain",
        64,
    )
    assert attachment.message is None and attachment.file.read() == b"x" * 64


def test_the_filing_form_shows_the_contract_s_own_severity_descriptions(tiered_contract):
    options = severity_options(tiered_contract)
    assert [o.severity for o in options] == [1, 2, 3, 4]
    assert options[0].name == "Product unusable or data loss"
    assert options[1].description.startswith("Customer is prevented from executing")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"description": ""}, "description"),
        ({"severity": 5}, "severity"),
        ({"severity": "urgent"}, "severity"),
        ({"severity": None}, "severity"),
        ({"attachments": [uploaded_file("dump.bin", size=10 * MB + 1)]}, "attachments"),
        ({"attachments": [uploaded_file("setup.exe", content_type="text/plain")]}, "attachments"),
        ({"attachments": [uploaded_file("empty.txt", size=0)]}, "attachments"),
        (
            {"attachments": [uploaded_file("ok.log"), uploaded_file("big.pdf", 11 * MB)]},
            "attachments",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_saves_nothing(
    customer_user, ticket_service, media, change, field
):
    with pytest.raises(ValidationError) as refused:
        file_one(customer_user, ticket_service, **change)
    assert field in refused.value.message_dict
    assert refused.value.message_dict[field][0]
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists() and not TicketEvent.objects.exists()
    assert stored_files(media) == []


def test_an_attachment_of_exactly_10_mb_is_accepted(customer_user, ticket_service):
    ticket = file_one(customer_user, ticket_service, attachments=[uploaded_file("a.pdf", 10 * MB)])
    assert ticket.attachments.get().content_type == "application/pdf"


def test_every_problem_is_reported_at_once(customer_user, ticket_service):
    with pytest.raises(ValidationError) as refused:
        file_one(customer_user, ticket_service, subject="", severity=0)
    assert set(refused.value.message_dict) == {"subject", "severity"}


def test_a_service_outside_the_customer_s_contracts_is_refused(customer_user, tiered_contract):
    with pytest.raises(ValidationError) as refused:
        file_one(customer_user, ServiceFactory())
    assert "no active contract" in refused.value.message_dict["service"][0]
    with pytest.raises(ValidationError) as refused:
        file_one(customer_user, None)
    assert refused.value.message_dict["service"] == ["Choose the affected service."]


def test_a_contract_that_has_ended_no_longer_covers_the_service(customer_user, tiered_contract):
    tiered_contract.end_date = NOW.date() - timedelta(days=1)
    tiered_contract.save()
    with pytest.raises(ValidationError):
        file_one(customer_user, tiered_contract.lines.first().service)


def test_the_termination_day_is_the_last_day_a_ticket_can_be_filed(
    customer_user, tiered_contract, ticket_service
):
    # Contracts run by the customer's local date; the termination day is still in force.
    tiered_contract.terminated_on = NOW.astimezone(
        ZoneInfo(customer_user.customer.time_zone)
    ).date()
    tiered_contract.save()
    assert file_one(customer_user, ticket_service).contract == tiered_contract
    with pytest.raises(ValidationError) as refused:
        file_one(customer_user, ticket_service, now=NOW + timedelta(days=1))
    assert "no active contract" in refused.value.message_dict["service"][0]


def test_staff_log_tickets_rather_than_file_them(agent, ticket_service):
    with pytest.raises(PermissionDenied):
        file_one(agent, ticket_service)


def log_one(actor, customer, service, **kw):
    fields = {
        "actor": actor,
        "customer": customer,
        "service": service,
        "subject": "Called about slow search",
        "description": "Search takes a minute.",
        "severity": 3,
        "channel": "phone",
        "received_at": NOW - timedelta(hours=2),
        "now": NOW,
    }
    return ticket_log(**(fields | kw))


def test_an_agent_logs_a_phone_ticket_and_the_clocks_start_when_it_was_received(
    agent, customer, customer_user, ticket_service
):
    ticket = log_one(agent, customer, ticket_service, requester=customer_user)
    assert ticket.received_at == et(2026, 6, 8, 8) and ticket.created_at == NOW
    assert ticket.response_due_at == et(2026, 6, 8, 16)  # 8 h from 08:00
    assert (ticket.channel, ticket.created_by, ticket.requester) == (
        "phone",
        agent,
        customer_user,
    )
    assert ticket.notify_address == customer_user.email


def test_received_at_in_the_future_is_refused_and_saves_nothing(agent, customer, ticket_service):
    with pytest.raises(ValidationError) as refused:
        log_one(agent, customer, ticket_service, received_at=NOW + timedelta(minutes=1))
    assert refused.value.message_dict["received_at"] == [
        "The time received cannot be in the future."
    ]
    with pytest.raises(ValidationError) as refused:
        log_one(agent, customer, ticket_service, received_at=datetime(2026, 6, 8, 9))
    assert "time zone" in refused.value.message_dict["received_at"][0]
    assert not Ticket.objects.exists()


def test_logging_checks_the_channel_and_the_requester(agent, customer, ticket_service):
    stranger = CustomerUserFactory(customer=CustomerFactory())
    with pytest.raises(ValidationError) as refused:
        log_one(agent, customer, ticket_service, channel="portal", requester=stranger)
    assert set(refused.value.message_dict) == {"channel", "requester"}


def test_customers_and_other_staff_cannot_log_tickets(
    customer_user, account_manager, customer, ticket_service
):
    for actor in (customer_user, account_manager):
        with pytest.raises(PermissionDenied):
            log_one(actor, customer, ticket_service)


def test_an_unregistered_sender_gets_a_severity_4_ticket_marked_unregistered(
    customer, tiered_contract
):
    ticket = ticket_from_unregistered_sender(
        sender_email="someone@elsewhere.test",
        subject="Login broken",
        description="Cannot log in.",
        customer=customer,
        now=NOW,
    )
    assert (ticket.severity, ticket.unregistered_sender, ticket.channel) == (4, True, "email")
    assert ticket.contract == tiered_contract
    assert ticket.response_due_at == et(2026, 6, 11, 7)  # 48 business hours
    assert ticket.resolution_target is None and ticket.resolution_due_at is None
    assert ticket.notify_address == "someone@elsewhere.test"
    nobody = ticket_from_unregistered_sender(
        sender_email="x@unknown.test", subject="Hi", description="?", now=NOW
    )
    assert (nobody.customer, nobody.severity, nobody.next_due_at) == (None, 4, None)


def test_tenant_rule_and_lists(customer_user, agent, ticket_service, catalog):
    mine = file_one(customer_user, ticket_service)
    other_user = CustomerUserFactory(customer=CustomerFactory())
    ticket_contract(other_user.customer, reference="C-OTHER")
    theirs = file_one(
        other_user, other_user.customer.contracts.get().lines.get().service, severity=1
    )
    assert list(tickets_visible_to(customer_user)) == [mine]
    assert set(tickets_visible_to(agent)) == {mine, theirs}
    assert list(customer_tickets(customer_user.customer)) == [mine]
    assert list(agent_queue()) == [theirs, mine]  # severity 1: due in 30 minutes
    assert not TicketMessage.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"severity": 5},
        {"severity": 0},
        {"status": "archived"},
        {"channel": "fax"},
        {"subject": ""},
        {"status": "resolved"},  # without a resolution time
        {"received_at": NOW + timedelta(hours=1), "created_at": NOW},
    ],
)
def test_the_database_refuses_what_the_services_would(tiered_contract, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(contract=tiered_contract, **change)
    TicketFactory(contract=tiered_contract)  # the same row without the change is fine
