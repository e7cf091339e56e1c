"""The admin site shows an issued invoice as the billing system issued it: its customer,
contract, currency, period, number, amount and lines are read-only; a changed amount
posted anyway changes nothing; the payment (``paid_at``) is the one editable field, and
setting it through the admin is audit-logged with before and after."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from audit.models import AuditEntry
from contracts.models import Invoice
from tests.support.factories import CustomerFactory, InvoiceFactory

D = Decimal


class _Form(HTMLParser):
    """The fields a browser would submit from the page's change form."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.inputs: set[str] = set()
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            self.inputs.add(name)
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            if a.get("type") != "submit":
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self.inputs.add(name)
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.inputs.add(name)
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def change_form(client, invoice: Invoice) -> tuple[str, _Form]:
    response = client.get(f"/admin/contracts/invoice/{invoice.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    form = _Form()
    form.feed(html)
    return html, form


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def issued(contract) -> Invoice:
    return InvoiceFactory(contract=contract, number="INV-ADM-1", amount=D("1200.00"))


def test_the_change_form_shows_the_invoice_s_content_read_only(admin_client, issued):
    html, form = change_form(admin_client, issued)
    for name in (
        "customer",
        "contract",
        "currency",
        "period_start",
        "period_end",
        "number",
        "amount",
        "kind",
        "issued_on",
        "due_on",
    ):
        assert name not in form.inputs, name
        assert f"field-{name}" in html, name  # shown, as text
    assert {"paid_at_0", "paid_at_1"} <= form.inputs
    assert "1200.00" in html and issued.customer.name in html and "INV-ADM-1" in html
    # The lines inline: shown, with nothing to edit, add or delete.
    assert "Services" in html
    assert not {n for n in form.inputs if n.startswith("lines-") and n[6:7].isdigit()} - {
        "lines-0-id",
        "lines-0-invoice",
    }
    assert 'name="lines-MAX_NUM_FORMS" value="0"' in html  # so no "Add another" row
    assert 'name="lines-0-DELETE"' not in html
    assert "/delete/" not in html


def test_posting_a_changed_amount_or_customer_changes_nothing(admin_client, issued):
    before = Invoice.objects.filter(pk=issued.pk).values().get()
    _, form = change_form(admin_client, issued)
    data = {
        **form.data,
        "amount": "1.00",
        "customer": str(CustomerFactory().pk),
        "number": "INV-ADM-2",
        "currency": "EUR",
        "_save": "Save",
    }
    response = admin_client.post(f"/admin/contracts/invoice/{issued.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Invoice.objects.filter(pk=issued.pk).values().get() == before
    assert issued.lines.count() == 1
    assert not AuditEntry.objects.exists()


def test_recording_the_payment_in_the_admin_is_audit_logged_with_before_and_after(
    admin_client, admin_user, issued
):
    _, form = change_form(admin_client, issued)
    data = {**form.data, "paid_at_0": "2026-02-20", "paid_at_1": "10:30:00", "_save": "Save"}
    response = admin_client.post(f"/admin/contracts/invoice/{issued.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    issued.refresh_from_db()
    assert issued.paid_at.isoformat() == "2026-02-20T10:30:00+00:00"
    assert issued.amount == D("1200.00")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_label) == (
        "invoice.pay",
        admin_user,
        "Invoice INV-ADM-1",
    )
    assert entry.changes == {"paid_at": {"before": None, "after": "2026-02-20T10:30:00Z"}}
    # Saving again without a change writes no second entry.
    _, form = change_form(admin_client, issued)
    admin_client.post(
        f"/admin/contracts/invoice/{issued.pk}/change/", {**form.data, "_save": "Save"}
    )
    assert AuditEntry.objects.count() == 1


def test_an_invoice_cannot_be_deleted_in_the_admin(admin_client, issued):
    response = admin_client.get(f"/admin/contracts/invoice/{issued.pk}/delete/")
    assert response.status_code == 403
    response = admin_client.post(
        "/admin/contracts/invoice/",
        {"action": "delete_selected", "_selected_action": [issued.pk], "post": "yes"},
    )
    assert Invoice.objects.filter(pk=issued.pk).exists()
