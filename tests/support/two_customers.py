"""The data both authority matrices walk (tests/slaportal/test_authority_matrix.py for the
API, tests/support/page_matrix.py for the pages): staff of every role and two customers,
"own" and "foreign", each with the same kinds of objects. The account manager manages the
own customer only; the foreign one has an account manager of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass
class CustomerObjects:
    customer: object
    person: object
    contract: object
    service: object
    outage: object  # scoped to this customer alone
    note: object  # a credit note applying a credit to an invoice (note.invoice)
    pending: object  # a pending credit
    statement: object
    run: object  # a failed statement run
    ticket: object  # with one attachment

    @property
    def attachment(self):
        return self.ticket.attachments.get()


def two_customers(now: datetime) -> tuple[dict[str, object], dict[str, CustomerObjects]]:
    """The people by role (agent, operations, account_manager, admin, customer,
    customer_admin) and the objects of each side ("own", "foreign")."""
    from statements.models import StatementRun, StatementRunItem
    from statements.services import statement_generate, statements_plan
    from tests.support.credit_cases import ET, contract_with_lines, record_down
    from tests.support.credit_notes import applied_note
    from tests.support.factories import (
        CustomerFactory,
        CustomerUserFactory,
        StaffFactory,
        pending_credit,
        uploaded_file,
    )
    from tickets.services import ticket_file

    may = date(2026, 5, 1)
    people: dict[str, object] = {
        "agent": StaffFactory(role="agent"),
        "operations": StaffFactory(role="operations"),
        "account_manager": StaffFactory(role="account_manager"),
        "admin": StaffFactory(role="admin"),
    }
    sides: dict[str, CustomerObjects] = {}
    for side, name in (("own", "Own Co"), ("foreign", "Foreign Co")):
        customer = CustomerFactory(name=name)
        manager = (
            people["account_manager"] if side == "own" else StaffFactory(role="account_manager")
        )
        customer.account_managers.add(manager)
        person = CustomerUserFactory(customer=customer)
        if side == "own":
            people["customer"] = person
            people["customer_admin"] = CustomerUserFactory(customer=customer, customer_role="admin")
        service_name = f"{name} CCMS"
        contract = contract_with_lines(customer, "heretto-ccms", {service_name: "4000.00"})
        outage = record_down(
            contract,
            service_name,
            datetime(2026, 6, 10, 12, tzinfo=ET),
            300,
            scope="customers",
            customers=[customer],
        )
        note = applied_note(contract, manager)
        pending = pending_credit(contract, month=may)
        statement = statement_generate(contract=contract, month=may, now=now)
        run = statements_plan(
            month=date(2026, 4, 1),
            trigger=StatementRun.Trigger.API,
            contract_ids=[contract.pk],
            now=now,
            dispatch=False,
        )
        StatementRunItem.objects.filter(run=run).update(status=StatementRunItem.Status.FAILED)
        service = contract.lines.get().service
        ticket = ticket_file(
            actor=person,
            service=service,
            subject=f"{name} cannot publish",
            description="Publishing fails.",
            severity=3,
            attachments=[uploaded_file()],
        )
        sides[side] = CustomerObjects(
            customer=customer,
            person=person,
            contract=contract,
            service=service,
            outage=outage,
            note=note,
            pending=pending,
            statement=statement,
            run=run,
            ticket=ticket,
        )
    return people, sides
