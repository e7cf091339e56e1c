"""``POST invoices/`` records an invoice from the billing system idempotently by number:
the same content twice is one invoice (201, then 200), different content is a 409 naming
each differing field with its stored and sent value, and bad input is a 400 per field.
``PATCH invoices/<id>/`` records the payment, audit-logged, and nothing else. Only
account managers and administrators write; a customer's person cannot."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from contracts.models import Invoice, InvoiceLine
from tests.support.api_helpers import API, client_for
from tests.support.factories import StaffFactory


@pytest.fixture
def account_manager(customer_account_manager):
    return customer_account_manager  # here, the customer's own


URL = f"{API}invoices/"


def payload(contract, /, **changes) -> dict:
    return {
        "contract": contract.pk,
        "number": "INV-2026-0042",
        "period_start": "2026-02-01",
        "period_end": "2026-02-28",
        "amount": "1200.00",
        "issued_on": "2026-02-01",
        "due_on": "2026-03-03",
        **changes,
    }


def test_posting_the_same_invoice_twice_records_one_invoice_201_then_200(account_manager, contract):
    client = client_for(account_manager)
    first = client.post(URL, payload(contract), format="json")
    assert first.status_code == 201, first.json()
    again = client.post(URL, payload(contract, amount="1200"), format="json")
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    invoice = Invoice.objects.get()
    assert (invoice.number, invoice.amount, invoice.total) == ("INV-2026-0042", 1200, 1200)
    assert list(InvoiceLine.objects.values_list("kind", "amount")) == [("charge", 1200)]
    assert first.json()["lines"][0]["kind"] == "charge"
    assert not AuditEntry.objects.exists()


def test_a_different_amount_for_a_recorded_number_is_a_409_naming_stored_and_sent(
    admin_user, contract
):
    client = client_for(admin_user)
    client.post(URL, payload(contract), format="json")
    response = client.post(
        URL, payload(contract, amount="1300.00", due_on="2026-03-10"), format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["fields"] == {
        "amount": {"stored": "1200.00", "sent": "1300.00"},
        "due_on": {"stored": "2026-03-03", "sent": "2026-03-10"},
    }
    assert "INV-2026-0042 is issued and cannot change: amount, due_on" in body["detail"]
    invoice = Invoice.objects.get()
    assert (str(invoice.amount), str(invoice.due_on)) == ("1200.00", "2026-03-03")


def test_the_same_number_for_another_customer_s_contract_is_a_409_naming_both(
    admin_user, contract, other_contract
):
    client = client_for(admin_user)
    client.post(URL, payload(contract), format="json")
    response = client.post(URL, payload(other_contract), format="json")
    assert response.status_code == 409
    fields = response.json()["fields"]
    assert fields["customer"] == {
        "stored": contract.customer.name,
        "sent": other_contract.customer.name,
    }
    assert fields["contract"] == {"stored": contract.reference, "sent": other_contract.reference}
    assert Invoice.objects.get().customer == contract.customer


def test_reposting_with_a_paid_at_records_the_payment_once_audit_logged(account_manager, contract):
    client = client_for(account_manager)
    client.post(URL, payload(contract), format="json")
    paid = payload(contract, paid_at="2026-02-20T10:00:00+01:00")
    response = client.post(URL, paid, format="json")
    assert response.status_code == 200
    assert response.json()["paid_at"] == "2026-02-20T09:00:00Z"
    assert client.post(URL, paid, format="json").status_code == 200
    # A re-post without the payment is the invoice as first issued: it clears nothing.
    assert client.post(URL, payload(contract), format="json").json()["paid_at"] is not None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_label) == (
        "invoice.pay",
        account_manager,
        "Invoice INV-2026-0042",
    )
    assert entry.changes == {"paid_at": {"before": None, "after": "2026-02-20T09:00:00Z"}}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"amount": "lots"}, "amount", "A valid number is required."),
        ({"amount": "-1.00"}, "amount", "An invoice amount cannot be negative."),
        ({"amount": "1.005"}, "amount", "no more than 2 decimal places"),
        ({"period_start": "2026-02-30"}, "period_start", "Date has wrong format"),
        ({"period_end": "2026-01-31"}, "period_end", "The period cannot end before it starts."),
        ({"contract": 999999}, "contract", 'Invalid pk "999999"'),
        ({"currency": "EUR"}, "currency", "bills in USD, not EUR"),
        ({"kind": "hardware"}, "kind", '"hardware" is not a valid choice.'),
        ({"paid_at": "soon"}, "paid_at", "Datetime has wrong format"),
        ({"number": ""}, "number", "This field may not be blank."),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_saved(
    account_manager, contract, changes, field, words
):
    response = client_for(account_manager).post(URL, payload(contract, **changes), format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Invoice.objects.exists()


def test_missing_fields_are_each_named(account_manager, contract):
    response = client_for(account_manager).post(URL, {"number": "INV-1"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {
        "contract",
        "period_start",
        "period_end",
        "amount",
        "issued_on",
        "due_on",
    }


def test_a_customer_s_person_cannot_record_or_pay_an_invoice(customer_admin, contract, invoice):
    client = client_for(customer_admin)
    assert client.post(URL, payload(contract), format="json").status_code == 403
    response = client.patch(
        f"{URL}{invoice.pk}/", {"paid_at": "2026-02-20T10:00:00Z"}, format="json"
    )
    assert response.status_code == 403
    assert Invoice.objects.get().paid_at is None
    assert Invoice.objects.count() == 1


def test_another_customer_s_invoice_is_a_404_for_a_customer(customer_user, other_invoice):
    client = client_for(customer_user)
    assert client.get(f"{URL}{other_invoice.pk}/").status_code == 404
    response = client.patch(f"{URL}{other_invoice.pk}/", {"paid_at": None}, format="json")
    assert response.status_code in (403, 404)


def test_an_agent_cannot_record_invoices(agent, contract):
    assert client_for(agent).post(URL, payload(contract), format="json").status_code == 403
    assert not Invoice.objects.exists()


def test_paying_through_the_api_is_audit_logged_with_before_and_after(admin_user, invoice):
    client = client_for(admin_user)
    response = client.patch(
        f"{URL}{invoice.pk}/", {"paid_at": "2026-02-20T10:00:00Z"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["paid_at"] == "2026-02-20T10:00:00Z"
    corrected = client.patch(
        f"{URL}{invoice.pk}/", {"paid_at": "2026-02-21T08:00:00Z"}, format="json"
    )
    assert corrected.status_code == 200
    changes = [e.changes for e in AuditEntry.objects.order_by("pk")]
    assert changes == [
        {"paid_at": {"before": None, "after": "2026-02-20T10:00:00Z"}},
        {"paid_at": {"before": "2026-02-20T10:00:00Z", "after": "2026-02-21T08:00:00Z"}},
    ]
    assert {e.actor for e in AuditEntry.objects.all()} == {admin_user}


def test_patching_anything_but_paid_at_is_a_400_and_changes_nothing(admin_user, invoice):
    response = client_for(admin_user).patch(
        f"{URL}{invoice.pk}/", {"amount": "1.00", "paid_at": None}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["amount"] == [
        "An issued invoice cannot change; only paid_at can be set."
    ]
    invoice.refresh_from_db()
    assert invoice.amount == 1000
    assert not AuditEntry.objects.exists()


def test_another_customers_account_manager_records_no_invoice_and_learns_nothing(
    account_manager, contract, other_customer, other_contract
):
    stranger = StaffFactory(role="account_manager")
    other_customer.account_managers.add(stranger)
    refused = client_for(stranger).post(URL, payload(contract), format="json")
    assert refused.status_code == 403
    assert not Invoice.objects.exists()

    recorded = client_for(account_manager).post(URL, payload(contract), format="json")
    assert recorded.status_code == 201
    invoice = Invoice.objects.get()
    # The stranger cannot pay it, nor read it, nor learn its content through a re-post.
    client = client_for(stranger)
    paid = client.patch(f"{URL}{invoice.pk}/", {"paid_at": "2026-02-10T00:00:00Z"}, format="json")
    assert paid.status_code == 404
    assert client.get(f"{URL}{invoice.pk}/").status_code == 404
    # The same number on the stranger's own customer's contract: a conflict that shows
    # nothing of the other customer's invoice.
    clash = client.post(URL, payload(other_contract, amount="1.00"), format="json")
    assert clash.status_code == 409
    assert clash.json()["fields"] == {}
    assert "another customer" in clash.json()["detail"]
    invoice.refresh_from_db()
    assert invoice.paid_at is None
