"""What a credit became, as the credit pages and the API show it: applied to invoice N by
credit note M, held on the account until an invoice comes, rejected with its reason; and
the account manager directing a tiered credit to a professional-services invoice from
the credit's page or the API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from contracts.models import Invoice
from credits.models import Credit
from credits.services import credit_reject
from tests.support.api_helpers import API, client_for
from tests.support.factories import (
    CustomerUserFactory,
    InvoiceFactory,
    StaffFactory,
    grant,
    pending_credit,
)

pytestmark = pytest.mark.django_db

D = Decimal


def _invoice(contract, *, number, kind=Invoice.Kind.SUBSCRIPTION, due=date(2026, 7, 31)):
    return InvoiceFactory(
        contract=contract,
        number=number,
        kind=kind,
        amount=D("1000.00"),
        issued_on=due - timedelta(days=30),
        due_on=due,
    )


def test_the_customer_sees_which_invoice_and_credit_note_took_each_credit(heretto, account_manager):
    _invoice(heretto, number="INV-7001")
    grant(heretto, account_manager, "120.00")  # applied at approval
    Invoice.objects.filter(number="INV-7001").update(paid_at="2026-08-01T00:00:00Z")
    held = grant(heretto, account_manager, "30.00", month=date(2026, 5, 1))  # no open invoice
    refused = pending_credit(heretto, "45.00", month=date(2026, 4, 1))
    credit_reject(credit=refused, actor=account_manager, reason="Outage was scheduled work")
    client = client_for(CustomerUserFactory(customer=heretto.customer))

    page = client.get(reverse("portal-credits")).content.decode()
    assert "Applied to invoice INV-7001 by credit note CN-2026-000001" in page
    assert "Reason: Outage was scheduled work" in page
    # The May credit came after the only invoice was used up: it waits on the account.
    assert "held on your account, not yet on an invoice" in page
    assert not Credit.objects.get(pk=held.pk).credit_notes.exists()


def test_the_api_gives_each_credit_its_current_state(heretto, account_manager):
    _invoice(heretto, number="INV-7002")
    applied = grant(heretto, account_manager, "120.00")
    refused = pending_credit(heretto, "45.00", month=date(2026, 4, 1))
    credit_reject(credit=refused, actor=account_manager, reason="Customer-authorised downtime")
    client = client_for(CustomerUserFactory(customer=heretto.customer))

    rows = {row["id"]: row for row in client.get(f"{API}credits/").json()["results"]}
    state = rows[applied.pk]["state"]
    assert (state["status"], state["remaining"]) == ("applied", "0.00")
    assert state["applications"] == [
        {
            "invoice_number": "INV-7002",
            "credit_note_number": "CN-2026-000001",
            "amount": "120.00",
            "at": state["applications"][0]["at"],
            "reversed_by": "",
        }
    ]
    assert rows[applied.pk]["invoice_kind"] == "subscription"
    assert (rows[refused.pk]["state"]["status"], rows[refused.pk]["state"]["reason"]) == (
        "rejected",
        "Customer-authorised downtime",
    )
    one = client.get(f"{API}credits/{applied.pk}/").json()
    assert one["state"]["label"] == "Applied to invoice INV-7002 by credit note CN-2026-000001"


def test_the_account_manager_directs_a_tiered_credit_to_professional_services_on_its_page(
    heretto, account_manager, client
):
    _invoice(heretto, number="INV-SUB", due=date(2026, 7, 31))
    services = _invoice(heretto, number="INV-PS", kind=Invoice.Kind.PROFESSIONAL_SERVICES)
    credit = pending_credit(heretto, "120.00")
    client.force_login(account_manager)

    page = client.get(reverse("am-credit", args=[credit.pk])).content.decode()
    assert "Which invoice" in page and "professional services invoice" in page
    response = client.post(
        reverse("am-credit-direct", args=[credit.pk]), {"invoice_kind": "professional_services"}
    )
    assert response.status_code == 302
    client.post(reverse("am-credit-approve", args=[credit.pk]))

    services.refresh_from_db()
    assert services.total == D("880.00")
    assert Invoice.objects.get(number="INV-SUB").total == D("1000.00")
    page = client.get(reverse("am-credit", args=[credit.pk])).content.decode()
    assert "Applied to invoice INV-PS by credit note CN-2026-000001" in page
    assert "Which invoice" not in page  # nothing left to direct
    entry = AuditEntry.objects.get(action="credit.direct")
    assert entry.changes == {
        "invoice_kind": {"before": "subscription", "after": "professional_services"}
    }


def test_a_kind_the_policy_does_not_allow_is_a_form_error(balto, account_manager, client):
    credit = pending_credit(balto, "100.00")
    client.force_login(account_manager)
    # The multiplier policy has one kind: the page offers no choice ...
    assert (
        "Which invoice" not in client.get(reverse("am-credit", args=[credit.pk])).content.decode()
    )
    # ... and a forged post is refused with the reason, changing nothing.
    response = client.post(
        reverse("am-credit-direct", args=[credit.pk]), {"invoice_kind": "professional_services"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Credit.objects.get(pk=credit.pk).invoice_kind == ""


def test_directing_through_the_api(heretto, account_manager):
    credit = pending_credit(heretto, "120.00")
    manager = client_for(account_manager)
    url = f"{API}credits/{credit.pk}/direct/"

    response = manager.post(url, {"invoice_kind": "professional_services"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["invoice_kind"] == "professional_services"
    assert manager.post(url, {"invoice_kind": "nonsense"}, format="json").status_code == 400
    customer = client_for(CustomerUserFactory(customer=heretto.customer))
    assert customer.post(url, {"invoice_kind": "subscription"}, format="json").status_code == 403
    stranger = client_for(StaffFactory(role="account_manager"))
    assert stranger.post(url, {"invoice_kind": "subscription"}, format="json").status_code == 404
    assert Credit.objects.get(pk=credit.pk).invoice_kind == "professional_services"
