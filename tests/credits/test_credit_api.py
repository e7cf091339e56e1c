"""The credits REST API: credits/ (tenancy, filters), approve and reject (who may decide,
bad input refused with nothing saved, two managers at once), ledger/ and its balances,
and invoices/ with their credit lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contracts.models import User
from credits.models import Balance, Credit, CreditEvent, LedgerEntry
from credits.services import credit_approve, credits_apply
from tests.support.api_helpers import API, client_for
from tests.support.concurrency import run_concurrently
from tests.support.factories import (
    CustomerUserFactory,
    InvoiceFactory,
    StaffFactory,
    grant,
    make_contract,
    pending_credit,
)

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def contract(customer, account_manager):
    customer.account_managers.add(account_manager)
    return make_contract(customer, reference="ACME-1")


@pytest.fixture
def credit(contract) -> Credit:
    return pending_credit(contract, "62.50")


@pytest.fixture
def other_manager(db) -> User:
    return StaffFactory(role="account_manager")


@pytest.fixture
def foreign_credit(other_customer, other_manager) -> Credit:
    other_customer.account_managers.add(other_manager)
    return pending_credit(make_contract(other_customer, reference="GLOBEX-1"), "90.00")


def _decide(user, credit: Credit, decision: str, **data):
    return client_for(user).post(f"{API}credits/{credit.pk}/{decision}/", data, format="json")


# ---------------------------------------------------------------- credits/


def test_customer_person_sees_only_their_own_credits(customer_user, credit, foreign_credit):
    client = client_for(customer_user)
    listed = client.get(f"{API}credits/").json()
    assert [row["id"] for row in listed["results"]] == [credit.pk]
    row = listed["results"][0]
    assert (row["customer"], row["month"], row["amount"], row["status"]) == (
        credit.contract.customer_id,
        "2026-06",
        "62.50",
        "pending",
    )
    assert client.get(f"{API}credits/{credit.pk}/").status_code == 200
    assert client.get(f"{API}credits/{foreign_credit.pk}/").status_code == 404
    other = foreign_credit.contract.customer_id
    assert client.get(f"{API}credits/", {"customer": other}).json()["results"] == []


def test_credits_filter_by_status_customer_contract_and_month(
    admin_user, account_manager, contract, credit, foreign_credit
):
    july = pending_credit(contract, "10.00", month=date(2026, 7, 1))
    credit_approve(credit=july, actor=account_manager)
    client = client_for(admin_user)

    def ids(**params) -> set[int]:
        return {row["id"] for row in client.get(f"{API}credits/", params).json()["results"]}

    assert ids() == {credit.pk, july.pk, foreign_credit.pk}
    assert ids(status="pending") == {credit.pk, foreign_credit.pk}
    assert ids(status="approved") == {july.pk}
    assert ids(customer=contract.customer_id) == {credit.pk, july.pk}
    assert ids(contract=foreign_credit.contract_id) == {foreign_credit.pk}
    assert ids(month="2026-07") == {july.pk}
    response = client.get(f"{API}credits/", {"month": "July"})
    assert response.status_code == 400
    assert "use YYYY-MM" in response.json()["month"][0]


def test_credit_list_queries_do_not_grow_with_the_rows(
    admin_user, account_manager, contract, django_assert_max_num_queries
):
    for month in range(1, 6):
        grant(contract, account_manager, "5.00", month=date(2026, month, 1))
    client = client_for(admin_user)
    # session, user, roles, page, events, and the states: credits, their chains, ledger
    # sums, credit notes
    with django_assert_max_num_queries(9):
        assert len(client.get(f"{API}credits/").json()["results"]) == 5


# ---------------------------------------------------------------- approve / reject


def test_account_manager_approves_and_the_history_records_who_and_when(account_manager, credit):
    response = _decide(account_manager, credit, "approve")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["decided_by"]) == ("approved", account_manager.pk)
    assert body["decided_at"] is not None
    assert [(e["action"], e["actor"]) for e in body["history"]] == [
        ("approved", account_manager.pk)
    ]
    assert LedgerEntry.objects.get(credit=credit).amount == D("62.50")
    assert Balance.objects.get(customer=credit.contract.customer).amount == D("62.50")


def test_account_manager_rejects_with_a_reason(account_manager, credit):
    response = _decide(account_manager, credit, "reject", reason="Customer-caused outage.")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["reason"]) == (
        "rejected",
        "Customer-caused outage.",
    )
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "  "}])
def test_rejecting_without_a_reason_is_a_400_and_saves_nothing(account_manager, credit, data):
    response = _decide(account_manager, credit, "reject", **data)
    assert response.status_code == 400
    assert response.json() == {"reason": ["Give the reason for rejecting the credit."]}
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    assert not CreditEvent.objects.exists()


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_deciding_a_decided_credit_is_a_400_on_status(account_manager, credit, decision):
    credit_approve(credit=credit, actor=account_manager)
    response = _decide(account_manager, credit, decision, reason="changed my mind")
    assert response.status_code == 400
    assert response.json() == {"status": ["This credit is already approved."]}
    assert LedgerEntry.objects.filter(credit=credit).count() == 1
    credit.refresh_from_db()
    assert credit.status == Credit.Status.APPROVED


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_customer_people_cannot_decide_even_their_own_credit(credit, decision):
    for role in ("user", "admin"):
        person = CustomerUserFactory(customer=credit.contract.customer, customer_role=role)
        assert _decide(person, credit, decision, reason="x").status_code == 403
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING


@pytest.mark.parametrize("role", ["agent", "operations"])
def test_other_staff_roles_cannot_decide(role, credit):
    assert _decide(StaffFactory(role=role), credit, "approve").status_code == 403


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_an_account_manager_of_another_customer_gets_404(other_manager, credit, decision):
    response = _decide(other_manager, credit, decision, reason="not mine")
    assert response.status_code == 404
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    assert not CreditEvent.objects.exists()


def test_an_administrator_who_does_not_manage_the_customer_gets_403(admin_user, credit):
    response = _decide(admin_user, credit, "approve")
    assert response.status_code == 403
    assert "account manager" in response.json()["detail"]
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING


def test_anonymous_callers_are_refused(credit):
    client = client_for()
    assert client.get(f"{API}credits/").status_code in (401, 403)
    assert client.get(f"{API}ledger/").status_code in (401, 403)
    assert client.post(f"{API}credits/{credit.pk}/approve/").status_code in (401, 403)


def test_two_managers_approving_at_once_make_one_approval(
    postgres, transactional_db, customer, account_manager, other_manager
):
    customer.account_managers.add(account_manager, other_manager)
    credit = pending_credit(make_contract(customer), "200.00")
    clients = [client_for(account_manager), client_for(other_manager)]

    results = run_concurrently(
        lambda i: clients[i].post(f"{API}credits/{credit.pk}/approve/", format="json"), 2
    )
    assert sorted(r.status_code for r in results) == [200, 400], results
    refused = next(r for r in results if r.status_code == 400)
    assert refused.json() == {"status": ["This credit is already approved."]}
    assert LedgerEntry.objects.filter(credit=credit).count() == 1
    assert Balance.objects.get(customer=customer).amount == D("200.00")


# ---------------------------------------------------------------- ledger/


@pytest.fixture
def books(contract, account_manager, other_customer, other_manager):
    """Acme: 300.00 granted, 120.00 of it applied to INV-A. Globex: 90.00 granted."""
    grant(contract, account_manager, "300.00")
    invoice = InvoiceFactory(contract=contract, number="INV-A", amount=D("120.00"))
    credits_apply(customer=contract.customer)
    other_customer.account_managers.add(other_manager)
    grant(make_contract(other_customer, reference="GLOBEX-1"), other_manager, "90.00")
    return invoice


def test_customer_reads_only_their_own_ledger_newest_first(customer_user, books):
    client = client_for(customer_user)
    body = client.get(f"{API}ledger/").json()
    assert [(r["kind"], r["amount"], r["invoice_number"]) for r in body["results"]] == [
        ("credit_applied", "-120.00", "INV-A"),
        ("credit_granted", "300.00", None),
    ]
    assert body["results"][0]["invoice"] == books.pk
    foreign = LedgerEntry.objects.exclude(customer=customer_user.customer).get()
    assert client.get(f"{API}ledger/{foreign.pk}/").status_code == 404
    assert client.get(f"{API}ledger/", {"customer": foreign.customer_id}).json()["results"] == []


def test_ledger_filters_by_kind_invoice_and_customer(admin_user, books, customer):
    client = client_for(admin_user)

    def listed(**params) -> int:
        return len(client.get(f"{API}ledger/", params).json()["results"])

    assert listed() == 3
    assert listed(kind="credit_applied") == 1
    assert listed(invoice=books.pk) == 1
    assert listed(customer=customer.pk) == 2


def test_ledger_is_read_only(admin_user, account_manager, books):
    entry = LedgerEntry.objects.first()
    for user in (admin_user, account_manager):
        client = client_for(user)
        assert client.post(f"{API}ledger/", {}, format="json").status_code in (403, 405)
        assert client.delete(f"{API}ledger/{entry.pk}/").status_code in (403, 405)
    assert LedgerEntry.objects.count() == 3


def test_balance_per_customer_and_currency(customer_user, admin_user, books, customer):
    own = client_for(customer_user).get(f"{API}ledger/balance/").json()
    assert [(r["customer"], r["currency"], r["amount"]) for r in own["results"]] == [
        (customer.pk, "USD", "180.00")
    ]
    every = client_for(admin_user).get(f"{API}ledger/balance/").json()
    assert sorted(r["amount"] for r in every["results"]) == ["180.00", "90.00"]
    assert every["next"] is None and every["previous"] is None  # paginated like every list
    only = client_for(admin_user).get(f"{API}ledger/balance/", {"customer": customer.pk})
    assert [r["amount"] for r in only.json()["results"]] == ["180.00"]


# ---------------------------------------------------------------- invoices/


def test_invoices_include_their_lines_and_total(customer_user, books):
    body = client_for(customer_user).get(f"{API}invoices/{books.pk}/").json()
    assert (body["amount"], body["total"]) == ("120.00", "0.00")
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("charge", "120.00"),
        ("credit", "-120.00"),
    ]
