"""Service credit pages through the Django test client: the account manager's approval
queue and decisions (who may open and decide what), a credit's history, the customer's
credits page, and invoices with their credit lines for customers and staff."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from credits.models import Balance, Credit, CreditEvent, LedgerEntry
from credits.services import credit_approve, credits_apply
from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    InvoiceFactory,
    StaffFactory,
    grant,
    make_contract,
    pending_credit,
)
from tests.support.page_helpers import h1, nav_labels

pytestmark = pytest.mark.django_db

D = Decimal
WORKING = {
    "working": [
        {"label": "Availability", "value": "98.9000 %", "clause": "Target 99.500 %"},
        {
            "label": "Band",
            "value": "[98.000, 99.500) → 5.00 %",
            "clause": "Availability / credit table",
        },
        {"label": "Service credit", "value": "62.50 USD", "clause": ""},
    ],
    "availability": {"downtime_minutes": "475.2", "denominator_minutes": "43200"},
}


@pytest.fixture
def manager(account_manager):
    account_manager.first_name, account_manager.last_name = "Maria", "Manager"
    account_manager.time_zone = "America/New_York"
    account_manager.save()
    return account_manager


@pytest.fixture
def contract(customer, manager):
    customer.name = "Acme Corp"
    customer.save()
    customer.account_managers.add(manager)
    return make_contract(customer, reference="ACME-1")


@pytest.fixture
def credit(contract) -> Credit:
    return pending_credit(contract, "62.50", working=WORKING)


@pytest.fixture
def foreign_credit(other_customer) -> Credit:
    other_customer.account_managers.add(StaffFactory(role="account_manager"))
    return pending_credit(make_contract(other_customer, reference="GLOBEX-1"), "90.00")


@pytest.fixture
def am(client, manager):
    client.force_login(manager)
    return client


def _text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- the approval queue


def test_queue_lists_pending_credits_of_my_customers_with_working_and_availability(
    am, credit, foreign_credit
):
    response = am.get(reverse("am-credits"))
    html = _text(response)
    assert response.status_code == 200
    assert h1(response) == "Credit approvals"
    assert "Acme Corp · " + credit.service.name in html
    assert "62.50 USD" in html
    assert "Availability / credit table" in html  # the working, line by line
    assert f"/ops/contracts/{credit.contract_id}/availability/?month=2026-06" in html
    assert reverse("am-credit", args=[credit.pk]) in html
    assert "GLOBEX-1" not in html and "90.00 USD" not in html


def test_queue_says_so_when_nothing_waits(am, contract):
    response = am.get(reverse("am-credits"))
    assert "No credits are waiting for a decision" in _text(response)
    assert "No credits decided yet." in _text(response)


def test_account_manager_home_and_navigation_link_to_the_queue(am, contract):
    response = am.get(reverse("am-home"))
    assert f'href="{reverse("am-credits")}"' in _text(response)
    assert nav_labels(response) == ["Customers", "Credits", "Invoices", "Statements", "SLA report"]


def test_account_manager_approves_from_the_page(am, manager, credit):
    page = am.get(reverse("am-credit", args=[credit.pk]))
    assert "Approve 62.50 USD" in _text(page)

    response = am.post(reverse("am-credit-approve", args=[credit.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("am-credits")
    assert "Approved: 62.50 USD credited to Acme Corp" in _text(response)
    credit.refresh_from_db()
    assert (credit.status, credit.decided_by) == (Credit.Status.APPROVED, manager)
    assert Balance.objects.get(customer=credit.contract.customer).amount == D("62.50")
    assert LedgerEntry.objects.get(credit=credit).amount == D("62.50")
    # Decided credits leave the queue and show under "Recently decided".
    assert "No credits are waiting for a decision" in _text(response)
    assert "Approved</span>" in _text(response) and "Maria Manager" in _text(response)


def test_rejecting_without_a_reason_shows_the_error_and_saves_nothing(am, credit):
    response = am.post(reverse("am-credit-reject", args=[credit.pk]), {"reason": "   "})
    assert response.status_code == 200
    html = _text(response)
    assert "Give the reason for rejecting the credit." in html
    assert 'aria-invalid="true"' in html
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    assert not CreditEvent.objects.filter(credit=credit).exists()
    assert not LedgerEntry.objects.exists()


def test_account_manager_rejects_with_a_reason_and_the_history_shows_who_and_when(
    am, manager, credit
):
    reason = "Downtime was caused by the customer's own firewall change."
    response = am.post(reverse("am-credit-reject", args=[credit.pk]), {"reason": reason})
    assert response.status_code == 302
    credit.refresh_from_db()
    assert (credit.status, credit.reason) == (Credit.Status.REJECTED, reason)
    assert not LedgerEntry.objects.exists()

    page = _text(am.get(reverse("am-credit", args=[credit.pk])))
    event = credit.events.get(action="rejected")
    assert event.actor == manager
    when = event.at.astimezone(ZoneInfo("America/New_York"))
    history = page.split('data-testid="credit-history"')[1].split("</ol>")[0]
    assert "Rejected" in history and "Maria Manager" in history
    assert f"{when:%-d %b %Y, %H:%M}" in history  # in the manager's own zone
    assert reason.replace("'", "&#x27;") in history
    assert "Reject credit" not in page  # a decided credit offers no decision


def test_approving_a_decided_credit_says_so_and_changes_nothing(am, manager, credit):
    credit_approve(credit=credit, actor=manager)
    response = am.post(reverse("am-credit-approve", args=[credit.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("am-credit", args=[credit.pk])
    assert "This credit is already approved." in _text(response)
    assert LedgerEntry.objects.filter(credit=credit).count() == 1
    response = am.post(reverse("am-credit-reject", args=[credit.pk]), {"reason": "late"})
    credit.refresh_from_db()
    assert credit.status == Credit.Status.APPROVED


def test_customer_people_get_403_on_the_approval_pages(client, credit):
    for person in (CustomerUserFactory(customer=credit.contract.customer), CustomerUserFactory()):
        client.force_login(person)
        assert client.get(reverse("am-credits")).status_code == 403
        assert client.get(reverse("am-credit", args=[credit.pk])).status_code == 403
        assert client.post(reverse("am-credit-approve", args=[credit.pk])).status_code == 403
        assert client.post(reverse("am-credit-reject", args=[credit.pk])).status_code == 403
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING


@pytest.mark.parametrize("role", ["agent", "operations"])
def test_other_staff_roles_get_403(client, role, credit):
    client.force_login(StaffFactory(role=role))
    assert client.get(reverse("am-credits")).status_code == 403
    assert client.get(reverse("am-credit", args=[credit.pk])).status_code == 403


def test_an_account_manager_of_another_customer_gets_404(am, foreign_credit):
    assert am.get(reverse("am-credit", args=[foreign_credit.pk])).status_code == 404
    assert am.post(reverse("am-credit-approve", args=[foreign_credit.pk])).status_code == 404
    response = am.post(reverse("am-credit-reject", args=[foreign_credit.pk]), {"reason": "no"})
    assert response.status_code == 404
    foreign_credit.refresh_from_db()
    assert foreign_credit.status == Credit.Status.PENDING


def test_anonymous_visitors_are_sent_to_sign_in(client, credit):
    response = client.get(reverse("am-credit", args=[credit.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_administrator_sees_every_credit_but_only_account_managers_decide(
    client, admin_user, credit, foreign_credit
):
    client.force_login(admin_user)
    queue = _text(client.get(reverse("am-credits")))
    assert "Acme Corp" in queue and "GLOBEX-1" in queue
    page = _text(client.get(reverse("am-credit", args=[credit.pk])))
    assert "Only Acme Corp's account managers can approve or reject" in page
    assert client.post(reverse("am-credit-approve", args=[credit.pk])).status_code == 403
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING


# ---------------------------------------------------------------- the customer's credits


def test_customer_credits_page_shows_balance_entries_and_the_invoice_applied_to(
    client, customer_user, manager, contract
):
    grant(contract, manager, "300.00")
    invoice = InvoiceFactory(contract=contract, number="INV-2026-07", amount=D("120.00"))
    credits_apply(customer=contract.customer)
    pending_credit(contract, "45.00", month=date(2026, 7, 1))
    client.force_login(customer_user)

    response = client.get(reverse("portal-credits"))
    html = _text(response)
    assert h1(response) == "Service credits"
    assert 'data-testid="balance-USD">180.00 USD<' in html
    applied = html.index("Applied to invoice INV-2026-07")
    granted = html.index("Service credit: ")
    assert applied < granted  # newest first
    assert f'href="{reverse("portal-invoice", args=[invoice.pk])}"' in html
    assert "−120.00 USD" in html and "+300.00 USD" in html
    assert "Pending approval" in html and "45.00 USD" in html


def test_customer_credits_page_has_a_helpful_empty_state(client, customer_user):
    client.force_login(customer_user)
    response = client.get(reverse("portal-credits"))
    html = _text(response)
    assert "You have no credit balance" in html
    assert "No credit movements yet." in html
    assert "No service credits so far." in html
    assert nav_labels(response) == [
        "Home",
        "Incidents",
        "Tickets",
        "Credits",
        "Credit notes",
        "Invoices",
        "Statements",
        "SLA report",
    ]


def test_customer_sees_only_their_own_ledger(client, customer_user, manager, contract):
    other = CustomerFactory()
    other.account_managers.add(manager)
    grant(make_contract(other, reference="OTHER-1"), manager, "999.00")
    client.force_login(customer_user)
    html = _text(client.get(reverse("portal-credits")))
    assert "999.00" not in html and "OTHER-1" not in html


def test_ledger_is_paginated_newest_first(client, customer_user, manager, contract):
    for i in range(26):
        grant(contract, manager, f"{i + 1}.00", month=date(2024 + i // 12, i % 12 + 1, 1))
    client.force_login(customer_user)
    first = _text(client.get(reverse("portal-credits")))
    assert "+26.00 USD" in first and "Page 1 of 2" in first
    assert "+1.00 USD" not in first
    second = _text(client.get(reverse("portal-credits"), {"page": 2}))
    assert "+1.00 USD" in second and "+26.00 USD" not in second


def test_staff_get_403_on_the_customer_credits_page(client, manager):
    client.force_login(manager)
    assert client.get(reverse("portal-credits")).status_code == 403


# ---------------------------------------------------------------- invoices


@pytest.fixture
def credited_invoice(manager, contract):
    grant(contract, manager, "62.50")
    invoice = InvoiceFactory(contract=contract, number="INV-2026-07", amount=D("1250.00"))
    credits_apply(customer=contract.customer)
    return invoice


def test_customer_reads_an_invoice_with_its_negative_credit_line_and_total(
    client, customer_user, credited_invoice
):
    client.force_login(customer_user)
    listing = _text(client.get(reverse("portal-invoices")))
    assert "INV-2026-07" in listing and "1,187.50 USD" in listing
    response = client.get(reverse("portal-invoice", args=[credited_invoice.pk]))
    html = _text(response)
    assert h1(response) == "Invoice INV-2026-07"
    assert "1,250.00 USD" in html
    assert "Service credit" in html and "-62.50 USD" in html
    assert 'data-testid="invoice-total">1,187.50 USD<' in html


def test_another_customers_invoice_is_a_404(client, credited_invoice):
    client.force_login(CustomerUserFactory())
    assert client.get(reverse("portal-invoice", args=[credited_invoice.pk])).status_code == 404
    assert "INV-2026-07" not in _text(client.get(reverse("portal-invoices")))


def test_account_manager_reads_their_customers_invoices_only(am, credited_invoice):
    foreign = InvoiceFactory(
        contract=make_contract(CustomerFactory(), reference="OTHER-1"), number="INV-FOREIGN"
    )
    listing = _text(am.get(reverse("am-invoices")))
    assert "INV-2026-07" in listing and "INV-FOREIGN" not in listing
    page = am.get(reverse("am-invoice", args=[credited_invoice.pk]))
    assert page.status_code == 200 and "-62.50 USD" in _text(page)
    assert am.get(reverse("am-invoice", args=[foreign.pk])).status_code == 404


def test_administrator_reads_every_invoice_and_customers_cannot_open_staff_pages(
    client, admin_user, customer_user, credited_invoice
):
    client.force_login(admin_user)
    assert client.get(reverse("am-invoice", args=[credited_invoice.pk])).status_code == 200
    client.force_login(customer_user)
    assert client.get(reverse("am-invoices")).status_code == 403
    assert client.get(reverse("am-invoice", args=[credited_invoice.pk])).status_code == 403
