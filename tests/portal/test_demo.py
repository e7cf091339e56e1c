"""`make demo` builds its data with `manage.py demo`: idempotent, one login per role."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from contracts.demo import DEMO_PASSWORD, demo_build
from contracts.models import Contract, Customer, Invoice, User

HOMES = {
    "agent": "/desk/",
    "operations": "/ops/",
    "account_manager": "/am/",
    "admin": "/backoffice/",
    "customer_admin": "/portal/",
    "customer_user": "/portal/",
}


@pytest.fixture
def demo(catalog):
    return demo_build()


def test_demo_has_three_customers_on_different_plans(demo):
    plans = set(Contract.objects.values_list("policy__code", flat=True))
    assert Customer.objects.count() == 3
    assert plans == {"heretto-ccms", "heretto-enterprise", "balto-uptime"}
    assert {login.role for login in demo} == set(HOMES)


def test_running_the_demo_again_changes_nothing(
    demo, capsys, settings, tmp_path, django_capture_on_commit_callbacks
):
    from credits.models import Credit, LedgerEntry
    from outbox.models import OutboxMessage
    from statements.models import Statement, StatementRun
    from tickets.models import Ticket

    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo")
    out = capsys.readouterr().out
    assert "Demo tickets filed: 45" in out
    assert "Statements: 9 issued (8 PDFs), 3 current-month drafts, 1 credits pending" in out

    def counts():
        return (
            User.objects.count(),
            Contract.objects.count(),
            Invoice.objects.count(),
            Ticket.objects.count(),
            list(Statement.objects.values_list("pk", "status", "pdf", "emailed_at")),
            list(Credit.objects.values_list("pk", "status")),
            LedgerEntry.objects.count(),
            StatementRun.objects.count(),
            OutboxMessage.objects.count(),
        )

    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo")
    assert counts() == before
    out = capsys.readouterr().out
    assert "Demo tickets filed: 0 (their notifications and escalations: 0 e-mails" in out
    assert "Statements: 0 issued (8 PDFs), 0 current-month drafts, 1 credits pending" in out
    assert DEMO_PASSWORD in out
    assert "admin@acme.example" in out


def test_every_demo_login_lands_on_its_role_home(client, demo):
    for login in demo:
        client.logout()
        response = client.post(
            "/accounts/login/",
            {"username": login.username, "password": DEMO_PASSWORD},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == HOMES[login.role], login.username


def test_the_multiplier_customer_has_order_form_support_terms(demo):
    contract = Contract.objects.get(policy__code="balto-uptime")
    assert contract.support_calendar.code == "initech-order-form-support"
    assert contract.severities.get(severity=1).response_value == 60
    assert contract.invoices.filter(paid_at__isnull=True).count() == 1


def test_demo_replays_three_months_of_outages_once_without_reopening_months(demo):
    from datetime import date

    from django.utils import timezone

    from outages.demo import demo_outages
    from outages.models import Outage, ReissueRequest

    operator = User.objects.get(username="ops@provider.example")
    made = demo_outages(today=date(2026, 11, 22), operator=operator)
    assert made == 10
    assert demo_outages(today=date(2026, 11, 22), operator=operator) == 0
    assert Outage.objects.filter(ended_at__isnull=True).count() == 0
    assert ReissueRequest.objects.count() == 0
    assert Outage.objects.filter(started_at__gte=timezone.now()).count() == 0


def test_account_managers_reach_each_contracts_availability_from_their_home(client, demo):
    from django.urls import reverse

    client.post("/accounts/login/", {"username": "am@provider.example", "password": DEMO_PASSWORD})
    home = client.get("/am/").content.decode()
    for contract in Contract.objects.all():
        link = reverse("ops-contract-availability", args=[contract.pk])
        assert link in home
        assert client.get(link).status_code == 200
    portal = client.get("/portal/")
    assert portal.status_code == 403


# ---------------------------------------------------------------- demo tickets

STATUSES = {"new", "open", "waiting_on_customer", "resolved", "closed"}
CLOCK_STATES = {"on_track", "at_risk", "breached", "met", "paused", "no_target"}


@pytest.fixture
def demo_with_tickets(demo, settings, tmp_path):
    from django.utils import timezone

    from tickets.demo import demo_tickets

    settings.MEDIA_ROOT = tmp_path  # the demo attaches a log file to one ticket
    now = timezone.now()
    return demo_tickets(today=timezone.localdate(now), now=now)


def _ticket_facts(customer, now):
    from tickets.models import Ticket
    from tickets.selectors import ticket_states

    tickets = list(Ticket.objects.filter(customer=customer))
    states = [ticket_states(t, now) for t in tickets]
    return tickets, {s.response for s in states} | {s.resolution for s in states}


def test_demo_files_tickets_in_every_status_and_clock_state_for_each_customer(
    demo_with_tickets,
):
    from django.utils import timezone

    from tickets.selectors import agent_queue

    assert demo_with_tickets == 45
    now = timezone.now()
    for customer in Customer.objects.all():
        tickets, states = _ticket_facts(customer, now)
        assert {t.status for t in tickets} == STATUSES, customer
        assert states == CLOCK_STATES, customer
        assert {t.severity for t in tickets} == {1, 2, 3, 4}, customer
        running = [t for t in tickets if t.status == "open"]
        assert any(t.assignee_id for t in running) and any(not t.assignee_id for t in running)
        assert any(t.response_breached for t in tickets), customer
        assert any(t.resolution_breached for t in tickets), customer
        waiting = next(t for t in tickets if t.status == "waiting_on_customer")
        assert waiting.pauses.filter(ended_at__isnull=True).exists()
    # The queue puts the tickets past a running deadline on top.
    assert agent_queue().first().next_due_at < now


def test_demo_tickets_include_a_phone_call_an_unregistered_sender_and_a_reclassification(
    demo_with_tickets,
):
    from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage

    for customer in Customer.objects.all():
        tickets = Ticket.objects.filter(customer=customer)
        phone = tickets.get(channel="phone")
        assert phone.received_at < phone.created_at
        assert phone.created_by.username == "agent@provider.example"
        unregistered = tickets.get(unregistered_sender=True)
        assert (unregistered.severity, unregistered.channel) == (4, "email")
        reclassified = TicketEvent.objects.get(ticket__customer=customer, kind="reclassified")
        assert (reclassified.from_severity, reclassified.to_severity) == (3, 1)
        assert reclassified.reason
        messages = TicketMessage.objects.filter(ticket__customer=customer)
        assert messages.filter(public=False).exists()
        assert messages.filter(public=True, from_staff=True).exists()
        assert messages.filter(public=True, from_staff=False).exists()
    assert Attachment.objects.count() == 3


def test_demo_tickets_span_three_months_with_done_tickets_in_each_past_month(demo_with_tickets):
    from django.utils import timezone

    from outages.demo import _month_back
    from tickets.models import Ticket

    today = timezone.localdate()
    done = Ticket.objects.filter(status__in=["resolved", "closed"])
    months = {t.received_at.date().replace(day=1) for t in done}
    assert {_month_back(today, 2), _month_back(today, 1)} <= months
    assert not Ticket.objects.filter(received_at__gt=timezone.now()).exists()
    assert not Ticket.objects.filter(received_at__date__lt=_month_back(today, 2)).exists()


def test_running_the_demo_tickets_again_files_and_sends_nothing(demo_with_tickets):
    from django.utils import timezone

    from outbox.models import OutboxMessage
    from tickets.demo import demo_tickets
    from tickets.models import Escalation, Ticket, TicketMessage

    counts = (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        Escalation.objects.count(),
        OutboxMessage.objects.count(),
    )
    assert counts[2] > 0 and counts[3] > 0
    now = timezone.now()
    assert demo_tickets(today=timezone.localdate(now), now=now) == 0
    assert (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        Escalation.objects.count(),
        OutboxMessage.objects.count(),
    ) == counts


@pytest.mark.parametrize(
    "now",
    [
        "2026-12-01T00:30:00+00:00",  # the 1st (UTC) while it is still November in the US
        "2026-12-26T15:00:00+00:00",  # a Saturday, the day after a help-desk holiday
        "2027-03-15T12:00:00+00:00",  # the Monday after DST starts
    ],
)
def test_demo_tickets_build_on_awkward_days(catalog, settings, tmp_path, now):
    from datetime import datetime

    from tickets.demo import demo_tickets

    settings.MEDIA_ROOT = tmp_path
    moment = datetime.fromisoformat(now)
    demo_build(today=moment.date())
    assert demo_tickets(today=moment.date(), now=moment) == 45
    for customer in Customer.objects.all():
        tickets, states = _ticket_facts(customer, moment)
        assert {t.status for t in tickets} == STATUSES, customer
        assert states == CLOCK_STATES, customer


# ---------------------------------------------------------------- demo statements


@pytest.fixture
def demo_with_statements(demo_with_tickets, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from outages.demo import demo_outages
    from statements.demo import demo_statements

    now = timezone.now()
    demo_outages(today=timezone.localdate(now), operator=None)
    with django_capture_on_commit_callbacks(execute=True):
        return demo_statements(today=timezone.localdate(now), now=now)


def test_demo_statements_cover_the_demo_months_with_pdfs_and_every_credit_outcome(
    demo_with_statements, settings
):
    from pathlib import Path

    from django.utils import timezone

    from credits.models import Credit
    from outages.demo import _month_back
    from outbox.models import OutboxMessage
    from statements.models import Statement, StatementRun

    today = timezone.localdate()
    ended = [_month_back(today, 3), _month_back(today, 2), _month_back(today, 1)]
    current = _month_back(today, 0)
    for contract in Contract.objects.all():
        statements = {s.month: s for s in Statement.objects.filter(contract=contract)}
        assert sorted(statements) == [*ended, current], contract
        assert {statements[m].status for m in ended} == {"issued"}
        assert statements[current].status == "draft"
    assert set(StatementRun.objects.values_list("month", "trigger")) == {
        (m, "command") for m in ended
    }
    # Each decided (or credit-free) month is rendered, stored and e-mailed once.
    for statement in Statement.objects.filter(status="issued"):
        credits = Credit.objects.filter(statements=statement)
        if credits.filter(status="pending").exists():
            assert not statement.pdf, statement.number
            continue
        path = Path(settings.MEDIA_ROOT) / statement.pdf.name
        assert path.read_bytes().startswith(b"%PDF"), statement.number
        assert statement.emailed_at is not None
        assert OutboxMessage.objects.filter(dedupe_key=f"statement:{statement.pk}").count() == 1
    assert set(Credit.objects.values_list("status", flat=True)) == {
        "approved",
        "rejected",
        "pending",
    }
    assert Credit.objects.get(status="rejected").reason
    assert demo_with_statements.pending == 1
    assert demo_with_statements.pdfs == 8
