"""Statements tell the truth about their credits: every page, list, the API and the PDF
show each credit as the ledger has it now (pending; approved and on no invoice yet;
applied to invoice N by credit note M; rejected with the reason), a revision shows what
was previously credited and the net change, and a stored PDF is served only when its
SHA-256 matches — an altered (409) or missing (503) one gets an error page, and staff
re-render it."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEntry
from credits.models import CreditNote
from credits.services import credit_approve, credit_reject
from outages.models import Outage
from outages.services import outage_change
from statements.models import Statement
from statements.selectors import statement_credits
from statements.services import (
    statement_generate,
    statement_pdf_restore,
    statement_reissue_requested,
    statement_render,
)
from tests.support.api_helpers import API, client_for
from tests.support.factories import InvoiceFactory, StaffFactory
from tests.support.pdf import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
REASON = "The outage was caused by the customer's own DNS change"


def _july_invoice(contract):
    """An open July invoice, due after the June downtime (so no credit is voided)."""
    return InvoiceFactory(
        contract=contract,
        number="INV-2026-07",
        amount=D("5500.00"),
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
        issued_on=date(2026, 7, 1),
        due_on=date(2026, 7, 31),
    )


def _html(client, user, name, *args) -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def _flat(text: str) -> str:
    return " ".join(text.split())


def _rendered(statement: Statement) -> Statement:
    assert statement_render(statement_id=statement.pk, now=NOW) == "rendered"
    statement.refresh_from_db()
    return statement


@pytest.fixture
def rejected(statement, account_manager) -> Statement:
    [credit] = statement_credits(statement)
    credit_reject(credit=credit, actor=account_manager, reason=REASON)
    return _rendered(statement)


@pytest.fixture
def applied(june_contract, statement, account_manager):
    """The June credit approved while an invoice is open: applied at once by a note."""
    invoice = _july_invoice(june_contract)
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=account_manager)
    [note] = CreditNote.objects.filter(credit=credit)
    return _rendered(statement), invoice, note


# ---------------------------------------------------------------- rejected


def test_a_rejected_credit_shows_as_rejected_with_its_reason_on_every_page(
    client, customer_user, account_manager, rejected
):
    page = _html(client, customer_user, "portal-statement", rejected.pk)
    assert "Rejected" in page and f"Rejected: {REASON}".replace("'", "&#x27;") in page
    assert "Credits granted by this statement</th>" in page
    assert 'data-testid="credits-granted">0.00 USD' in page
    assert "applied to invoice" not in page

    for name in ("portal-statements", "portal-home"):
        listing = _html(client, customer_user, name)
        assert 'data-testid="list-credit">0.00 USD' in listing
        assert "Rejected (200.00 USD not granted)" in listing
        assert "200.00 USD</td>" not in listing  # the refused amount is not shown as credited

    staff = _html(client, account_manager, "staff-statement", rejected.pk)
    assert f"Rejected: {REASON}".replace("'", "&#x27;") in staff
    staff_list = _html(client, account_manager, "staff-statements")
    assert "Rejected (200.00 USD not granted)" in staff_list


def test_a_rejected_credit_shows_as_rejected_with_its_reason_in_the_api(customer_user, rejected):
    client = client_for(customer_user)
    for data in (
        client.get(f"{API}statements/{rejected.pk}/").json(),
        client.get(f"{API}statements/").json()["results"][0],
    ):
        [credit] = data["credits"]
        assert (credit["service"], credit["amount"], credit["status"]) == (
            "Heretto CCMS",
            "200.00",
            "rejected",
        )
        assert credit["reason"] == REASON
        assert credit["description"] == f"Rejected: {REASON}"
        assert (credit["granted"], credit["applications"]) == ("0.00", [])
        assert data["credit_totals"]["granted"] == "0.00"
        assert data["credit_totals"]["refused"] == "200.00"


def test_a_rejected_credit_shows_as_rejected_with_its_reason_in_the_pdf(rejected):
    text = _flat(pdf_text(rejected.pdf.read()))
    assert "Heretto CCMS: 200.00 USD — Rejected" in text
    assert f"Rejected: {REASON}" in text
    assert "Credits granted by this statement 0.00 USD" in text
    assert "applied to invoice" not in text


# ---------------------------------------------------------------- applied and pending


def test_an_applied_credit_names_its_invoice_and_credit_note(
    client, customer_user, account_manager, applied
):
    statement, invoice, note = applied
    sentence = f"200.00 USD applied to invoice {invoice.number} by credit note {note.number}."
    page = _html(client, customer_user, "portal-statement", statement.pk)
    assert sentence in page and "Applied" in page
    assert "Applied" in _html(client, customer_user, "portal-statements")
    assert sentence in _html(client, account_manager, "staff-statement", statement.pk)

    [credit] = client_for(customer_user).get(f"{API}statements/{statement.pk}/").json()["credits"]
    assert credit["status"] == "applied"
    assert credit["applications"] == [
        {
            "invoice": invoice.number,
            "credit_note": note.number,
            "amount": "200.00",
            "reversed_by": "",
            "revision": 1,
        }
    ]
    text = _flat(pdf_text(statement.pdf.read()))
    assert sentence in text
    assert f"Heretto CCMS {invoice.number} {note.number} −200.00 USD" in text


def test_an_approved_credit_with_no_open_invoice_is_not_said_to_be_applied(
    client, customer_user, statement, account_manager
):
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=account_manager)
    page = _html(client, customer_user, "portal-statement", statement.pk)
    assert (
        "Approved; not yet on an invoice: 200.00 USD goes on your next subscription "
        "services invoice." in page
    )
    assert "applied to invoice" not in page
    assert "Approved, not yet on an invoice" in _html(client, customer_user, "portal-statements")


def test_a_pending_credit_is_awaiting_a_decision_and_not_listed_as_credited(
    client, customer_user, statement
):
    page = _html(client, customer_user, "portal-statement", statement.pk)
    assert "Awaiting your account manager&#x27;s decision; nothing is granted yet." in page
    listing = _html(client, customer_user, "portal-statements")
    assert 'data-testid="list-credit">—' in listing
    assert "200.00 USD awaiting decision" in listing
    # Downloaded before the decision: rendered on the fly and marked provisional.
    client.force_login(customer_user)
    content = client.get(reverse("portal-statement-pdf", args=[statement.pk])).content
    text = _flat(pdf_text(content))
    assert "Provisional — a credit on this statement awaits your account manager's" in text
    assert not Statement.objects.get(pk=statement.pk).pdf  # not stored: not final


def test_the_final_pdf_keeps_the_states_it_was_rendered_with(applied, account_manager):
    statement, invoice, note = applied
    assert statement.pdf_credits["lines"][0]["status"] == "applied"
    with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(pdf_credits={"lines": []})


# ---------------------------------------------------------------- revision


def test_a_revision_shows_what_was_previously_credited_and_the_net_change(
    client,
    june_contract,
    customer_user,
    account_manager,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    first = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    invoice = _july_invoice(june_contract)
    [credit] = statement_credits(first)
    credit_approve(credit=credit, actor=account_manager)  # 200.00 on INV-2026-07
    outage = Outage.objects.get(title="Heretto CCMS down")
    outage_change(
        outage=outage, actor=None, now=LATER, ended_at=outage.started_at + timedelta(minutes=900)
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = statement_reissue_requested(contract=june_contract, month=JUNE, now=LATER)
    [new] = statement_credits(second)
    assert new.amount == D("400.00")

    pending = client_for(customer_user).get(f"{API}statements/{second.pk}/").json()
    assert pending["credit_totals"]["previously_credited"] == "200.00"
    assert pending["credits"][0]["net_change"] is None  # not decided: no change yet

    with django_capture_on_commit_callbacks(execute=True):
        credit_approve(credit=new, actor=account_manager)
    page = _html(client, customer_user, "portal-statement", second.pk)
    assert 'data-testid="credits-granted">400.00 USD' in page
    assert 'data-testid="previously-credited">200.00 USD' in page
    assert 'data-testid="net-change">+200.00 USD' in page
    assert "Adjustment" not in page

    data = client_for(customer_user).get(f"{API}statements/{second.pk}/").json()
    assert {k: data["credit_totals"][k] for k in ("granted", "previously_credited")} == {
        "granted": "400.00",
        "previously_credited": "200.00",
    }
    assert data["credit_totals"]["net_change"] == "200.00"
    [line] = data["credits"]
    # The 200.00 applied under revision 1 stays on INV-2026-07; the other 200.00 follows.
    assert line["status"] in {"applied", "partly_applied"}
    assert sum(D(a["amount"]) for a in line["applications"] if not a["reversed_by"]) + D(
        line["remaining"]
    ) == D("200.00")

    listing = _html(client, customer_user, "portal-statements")
    assert "net change +200.00 USD" in listing
    first_page = _html(client, customer_user, "portal-statement", first.pk)
    assert f"200.00 USD applied to invoice {invoice.number}" in first_page
    assert "Replaced by revision 2 of this month." in first_page


# ---------------------------------------------------------------- stored PDF checks


def _tamper(statement: Statement) -> None:
    with default_storage.open(statement.pdf.name, "wb") as stored:
        stored.write(b"%PDF-1.7 forged statement")


def test_a_tampered_pdf_is_not_served_and_the_page_says_what_happened(
    client, customer_user, account_manager, rejected, caplog
):
    _tamper(rejected)
    client.force_login(customer_user)
    response = client.get(reverse("portal-statement-pdf", args=[rejected.pk]))
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    html = _flat(response.content.decode())
    assert "The stored PDF was altered" in html
    assert "does not match the document that was issued" in html
    assert b"forged" not in response.content
    assert any("was altered" in r.getMessage() for r in caplog.records)

    api = client_for(customer_user).get(f"{API}statements/{rejected.pk}/pdf/")
    assert api.status_code == 409
    assert api.json()["code"] == "altered" and "SHA-256" in api.json()["detail"]

    client.force_login(account_manager)
    staff = client.get(reverse("staff-statement-pdf", args=[rejected.pk]))
    assert staff.status_code == 409
    assert reverse("staff-statement-pdf-restore", args=[rejected.pk]) in staff.content.decode()


def test_a_missing_pdf_is_a_503_page(client, customer_user, rejected):
    default_storage.delete(rejected.pdf.name)
    client.force_login(customer_user)
    response = client.get(reverse("portal-statement-pdf", args=[rejected.pk]))
    assert response.status_code == 503
    assert "The stored PDF is missing" in response.content.decode()
    api = client_for(customer_user).get(f"{API}statements/{rejected.pk}/pdf/")
    assert (api.status_code, api.json()["code"]) == (503, "missing")


@pytest.mark.parametrize("damage", ["tampered", "missing"])
def test_staff_re_render_restores_the_issued_document(
    client, customer_user, account_manager, applied, damage
):
    statement, _, _ = applied
    original = statement.pdf.read()
    statement.pdf.close()
    if damage == "tampered":
        _tamper(statement)
    else:
        default_storage.delete(statement.pdf.name)
    client.force_login(account_manager)
    page = client.get(reverse("staff-statement", args=[statement.pk])).content.decode()
    assert 'data-testid="pdf-problem"' in page

    response = client.post(reverse("staff-statement-pdf-restore", args=[statement.pk]))
    assert response.status_code == 302
    statement.refresh_from_db()
    with default_storage.open(statement.pdf.name, "rb") as stored:
        assert stored.read() == original  # the same document, byte for byte
    assert statement.pdf_sha256 == hashlib.sha256(original).hexdigest()
    assert statement.pdf_restored_at is not None
    [entry] = AuditEntry.objects.filter(action="statement.pdf_restore")
    assert entry.actor == account_manager and entry.object_id == str(statement.pk)
    assert damage.replace("tampered", "altered") in entry.reason

    client.force_login(customer_user)
    download = client.get(reverse("portal-statement-pdf", args=[statement.pk]))
    assert download.status_code == 200 and download.content == original


def test_only_the_customers_account_managers_and_admins_re_render(client, admin_user, rejected):
    _tamper(rejected)
    stranger = StaffFactory(role="account_manager")
    client.force_login(stranger)
    url = reverse("staff-statement-pdf-restore", args=[rejected.pk])
    assert client.post(url).status_code == 403
    assert not AuditEntry.objects.filter(action="statement.pdf_restore").exists()
    assert statement_pdf_restore(statement=rejected, actor=admin_user) == "restored"
    assert statement_pdf_restore(statement=rejected, actor=admin_user) == "intact"
