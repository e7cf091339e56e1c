"""The data the API fuzz (tests/slaportal/test_api_fuzz.py) runs against: two customers,
each with a contract, an outage only they had, a ticket with an attachment, a credit
applied by a credit note to an invoice, a pending credit, an issued statement; a
statement run; and the four callers, each with an API key.

The callers: the own customer's person (their organisation's admin), a support agent,
the own customer's account manager (who does not manage the foreign customer), and an
administrator. The foreign customer has an account manager of its own, so its money
moved through the same services as the own customer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tests.support.api_helpers import api_token_for

ROLES = ("customer", "agent", "account_manager", "admin")
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
MAY = date(2026, 5, 1)
JUNE = date(2026, 6, 1)
# Strings that only the foreign customer's objects carry: a customer's response must
# never contain one of them.
FOREIGN_MARKERS = (
    "Globex Foreign Holdings",
    "GLOBEX-SECRET-REF",
    "GLOBEX-INV-",
    "Globex secret ticket subject",
    "Globex secret reply body",
    "Globex-only outage title",
    "globexina.secret@globex.test",
)
# The API's money (credits, the ledger, invoices, credit notes): an account manager reads
# only the rows of the customers they manage (``managed_reads`` in slaportal/viewsets.py).
# Statements are not among them: every account manager reads every statement, as the
# statements pages do (README, "Who may do what").
MONEY_RESOURCES = frozenset({"credits", "ledger", "invoices", "credit-notes"})


@dataclass
class World:
    """The data every fuzzed operation runs against, and who is calling."""

    ids: dict[str, list[Any]] = field(default_factory=dict)  # resource → path values
    foreign_ids: dict[str, set[int]] = field(default_factory=dict)  # resource → ids
    foreign_customer: int | None = None
    # Strings only the foreign customer's money carries (invoice and credit note numbers).
    foreign_money_markers: tuple[str, ...] = ()
    tokens: dict[str, str] = field(default_factory=dict)  # role → API key

    def update(self, other: World) -> None:
        self.__dict__.update(other.__dict__)


# Filled by the fuzz's module fixture; read by its hooks and checks.
WORLD = World()


def build_world() -> World:
    """Build the data (in the caller's transaction) and answer what the fuzz needs."""
    from django.core.management import call_command

    from contracts.models import Invoice
    from credits.models import CreditNote, LedgerEntry
    from outages.services import outage_record
    from statements.models import StatementRun
    from statements.services import statement_generate, statements_plan
    from tests.support.credit_notes import applied_note
    from tests.support.factories import (
        CustomerFactory,
        CustomerUserFactory,
        InvoiceFactory,
        StaffFactory,
        catalog_contract,
        pending_credit,
        record_outage,
        uploaded_file,
    )
    from tickets.services import ticket_file, ticket_reply

    call_command("load_sla_catalog", verbosity=0)
    admin = StaffFactory(role="admin")
    agent = StaffFactory(role="agent")
    manager = StaffFactory(role="account_manager")
    foreign_manager = StaffFactory(role="account_manager")
    own = CustomerFactory(name="Acme Fuzzing Inc")
    foreign = CustomerFactory(name="Globex Foreign Holdings")
    own.account_managers.add(manager)
    foreign.account_managers.add(foreign_manager)
    person = CustomerUserFactory(customer=own, customer_role="admin")
    foreign_person = CustomerUserFactory(
        customer=foreign, email="globexina.secret@globex.test", first_name="Globexina"
    )

    lines = {"Heretto CCMS": "4000.00"}
    contract = catalog_contract(own, "heretto-ccms", lines, reference="ACME-REF")
    foreign_contract = catalog_contract(
        foreign, "heretto-ccms", lines, reference="GLOBEX-SECRET-REF"
    )
    service = contract.lines.first().service
    june_10 = datetime(2026, 6, 10, 16, tzinfo=UTC)
    own_outage = record_outage(contract, "Heretto CCMS", june_10, 300)
    # Same service as the customer's own: only the scope keeps it from them.
    foreign_outage = outage_record(
        service=service,
        started_at=datetime(2026, 6, 12, 16, tzinfo=UTC),
        ended_at=datetime(2026, 6, 12, 21, tzinfo=UTC),
        category="internal",
        title="Globex-only outage title",
        scope="customers",
        customers=[foreign],
        actor=None,
        now=datetime(2026, 6, 12, 21, tzinfo=UTC),
    )
    ongoing = outage_record(
        service=service,
        started_at=datetime(2026, 7, 1, 10, tzinfo=UTC),
        category="internal",
        title="Ongoing everywhere",
        actor=None,
        now=datetime(2026, 7, 1, 10, tzinfo=UTC),
    )
    ticket = ticket_file(
        actor=person,
        service=service,
        subject="Acme publish fails",
        description="500s",
        severity=2,
        attachments=[uploaded_file()],
    )
    ticket_reply(ticket=ticket, actor=agent, body="Looking into it")
    ticket_reply(ticket=ticket, actor=agent, body="Internal: ask ops", public=False)
    foreign_ticket = ticket_file(
        actor=foreign_person,
        service=service,
        subject="Globex secret ticket subject",
        description="Globex cannot log in.",
        severity=3,
        attachments=[uploaded_file("globex.log")],
    )
    ticket_reply(ticket=foreign_ticket, actor=foreign_person, body="Globex secret reply body")
    # June's credit of each, approved by its manager and applied by a credit note to an
    # open invoice (the ledger's rows); May's pending, for the decisions.
    note = applied_note(contract, manager)
    foreign_note = applied_note(foreign_contract, foreign_manager, invoice_number="GLOBEX-INV-0002")
    credit = pending_credit(contract, month=MAY)
    foreign_credit = pending_credit(foreign_contract, month=MAY)
    statement = statement_generate(contract=contract, month=JUNE, now=NOW)
    foreign_statement = statement_generate(contract=foreign_contract, month=JUNE, now=NOW)
    invoice = InvoiceFactory(contract=contract)
    foreign_invoice = InvoiceFactory(contract=foreign_contract, number="GLOBEX-INV-0001")
    run = statements_plan(month=MAY, trigger=StatementRun.Trigger.API, actor=admin, now=NOW)

    def of(customer, model) -> list[int]:
        return list(model.objects.filter(customer=customer).values_list("pk", flat=True))

    ledger, foreign_ledger = of(own, LedgerEntry), of(foreign, LedgerEntry)
    assert ledger and foreign_ledger, "each customer's ledger has rows"
    invoices = [invoice.pk, note.invoice_id]
    foreign_invoices = [foreign_invoice.pk, foreign_note.invoice_id]
    assert sorted(of(foreign, Invoice)) == sorted(foreign_invoices)
    attachment = ticket.attachments.get()
    foreign_attachment = foreign_ticket.attachments.get()

    world = World()
    world.ids = {
        "customers": [own.pk, foreign.pk],
        "services": [service.pk],
        "contracts": [contract.pk, foreign_contract.pk],
        "invoices": [*invoices, *foreign_invoices],
        "outages": [own_outage.pk, ongoing.pk, foreign_outage.pk],
        "tickets": [ticket.pk, foreign_ticket.pk],
        "attachments": [attachment.pk, foreign_attachment.pk],
        "credits": [credit.pk, note.credit_id, foreign_credit.pk, foreign_note.credit_id],
        "credit-notes": [note.pk, foreign_note.pk],
        "ledger": [ledger[0], foreign_ledger[0]],
        "statements": [statement.pk, foreign_statement.pk],
        "policies": ["heretto-ccms", "balto-uptime"],
        "calendars": [contract.policy.support_calendar.code],
        "people": [person.pk, foreign_person.pk],
        "statement-runs": [run.pk] if run else [],
    }
    world.foreign_ids = {
        "customers": {foreign.pk},
        "contracts": {foreign_contract.pk},
        "invoices": set(foreign_invoices),
        "outages": {foreign_outage.pk},
        "tickets": {foreign_ticket.pk},
        "credits": {foreign_credit.pk, foreign_note.credit_id},
        "credit-notes": {foreign_note.pk},
        "ledger": set(foreign_ledger),
        "statements": {foreign_statement.pk},
        "people": {foreign_person.pk},
    }
    world.foreign_customer = foreign.pk
    notes = CreditNote.objects.filter(customer=foreign).values_list("number", flat=True)
    world.foreign_money_markers = ("GLOBEX-INV-", *notes)
    assert not CreditNote.objects.filter(customer=own, number__in=notes).exists()
    world.tokens = {
        "customer": api_token_for(person),
        "agent": api_token_for(agent),
        "account_manager": api_token_for(manager),
        "admin": api_token_for(admin),
    }
    return world
