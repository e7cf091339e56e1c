"""Credit note pages: a customer lists and downloads their own notes (another
customer's is a 404); the customer's account managers and administrators list and
download them under /am/; a PDF that cannot be served as issued is a page saying why."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from credits.models import CreditNoteFile
from credits.services import credit_note_deliver
from tests.support.credit_notes import (  # noqa: F401
    applied_note,
    note_media,
    reversal_of,
    second_customers_note,
)
from tests.support.factories import CustomerUserFactory, StaffFactory
from tests.support.page_helpers import nav_labels
from tests.support.pdf import pdf_text

pytestmark = pytest.mark.usefixtures("note_media")


@pytest.fixture
def notes(heretto, account_manager, other_customer):
    """The customer's note and its reversal, and another customer's note, each stored."""
    own = applied_note(heretto, account_manager, invoice_number="INV-OWN")
    reversal = reversal_of(own, account_manager)
    foreign = second_customers_note(other_customer, StaffFactory(role="account_manager"))
    for note in (own, reversal, foreign):
        credit_note_deliver(note_id=note.pk)
    return own, reversal, foreign


def test_a_customer_lists_their_own_notes_and_downloads_one(client, notes, customer):
    own, reversal, foreign = notes
    client.force_login(CustomerUserFactory(customer=customer))
    response = client.get("/portal/credits/notes/")
    html = response.content.decode()
    assert response.status_code == 200
    assert own.number in html and reversal.number in html and foreign.number not in html
    assert f"Reversal of {own.number}" in html
    assert "INV-OWN" in html
    assert "Credit notes" in nav_labels(response)

    pdf = client.get(f"/portal/credits/notes/{own.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{own.number}.pdf"'
    assert pdf.content == CreditNoteFile.objects.get(credit_note=own).pdf.read()
    assert client.get(f"/portal/credits/notes/{foreign.pk}/pdf/").status_code == 404


def test_the_credits_page_links_to_the_notes_and_an_empty_list_says_so(client, customer_user):
    client.force_login(customer_user)
    assert "/portal/credits/notes/" in client.get("/portal/credits/").content.decode()
    html = client.get("/portal/credits/notes/").content.decode()
    assert "No credit notes yet." in html


def test_the_notes_list_is_paginated_newest_first(client, notes, customer, monkeypatch):
    own, reversal, _ = notes
    monkeypatch.setattr("slaportal.pages.PAGE_SIZE", 1)
    client.force_login(CustomerUserFactory(customer=customer))
    first = client.get("/portal/credits/notes/").content.decode()
    second = client.get("/portal/credits/notes/", {"page": 2}).content.decode()
    row = 'data-testid="note-{}"'.format
    assert row(reversal.number) in first and row(own.number) not in first
    assert row(own.number) in second and row(reversal.number) not in second


def test_the_customers_account_manager_and_admins_list_and_download_notes(
    client, notes, account_manager, admin_user
):
    own, reversal, foreign = notes
    client.force_login(account_manager)
    html = client.get("/am/credits/notes/").content.decode()
    assert own.number in html and reversal.number in html and foreign.number not in html
    assert client.get(f"/am/credits/notes/{own.pk}/pdf/").status_code == 200
    # Not a customer they manage: not there at all.
    assert client.get(f"/am/credits/notes/{foreign.pk}/pdf/").status_code == 404
    assert client.post(f"/am/credits/notes/{foreign.pk}/rerender/").status_code == 404

    client.force_login(admin_user)
    html = client.get("/am/credits/notes/").content.decode()
    assert all(note.number in html for note in notes)
    assert client.get(f"/am/credits/notes/{foreign.pk}/pdf/").status_code == 200


def test_staff_who_are_not_account_managers_and_customers_cannot_open_staff_notes(
    client, notes, customer_user
):
    own = notes[0]
    client.force_login(StaffFactory(role="agent"))
    assert client.get("/am/credits/notes/").status_code == 403
    assert client.get(f"/am/credits/notes/{own.pk}/pdf/").status_code == 403
    client.force_login(customer_user)
    assert client.get(f"/am/credits/notes/{own.pk}/pdf/").status_code == 403


def test_a_tampered_pdf_is_not_served_and_the_page_says_what_happened(
    client, notes, customer, account_manager
):
    own = notes[0]
    stored = CreditNoteFile.objects.get(credit_note=own)
    issued = stored.pdf.read()
    with default_storage.open(stored.pdf.name, "wb") as handle:
        handle.write(issued + b"% appended after issue\n")

    client.force_login(CustomerUserFactory(customer=customer))
    response = client.get(f"/portal/credits/notes/{own.pk}/pdf/")
    html = " ".join(response.content.decode().split())
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert f"The PDF of credit note {own.number} cannot be shown" in html
    assert "no longer matches the document issued" in html and "SHA-256" in html

    client.force_login(account_manager)
    assert client.get(f"/am/credits/notes/{own.pk}/pdf/").status_code == 409
    restored = client.post(f"/am/credits/notes/{own.pk}/rerender/", follow=True)
    assert "is restored: it matches the document issued" in restored.content.decode()
    again = client.get(f"/am/credits/notes/{own.pk}/pdf/")
    assert again.status_code == 200 and again.content == issued


def test_a_missing_pdf_is_a_503_page(client, notes, customer):
    own = notes[0]
    default_storage.delete(CreditNoteFile.objects.get(credit_note=own).pdf.name)
    client.force_login(CustomerUserFactory(customer=customer))
    response = client.get(f"/portal/credits/notes/{own.pk}/pdf/")
    assert response.status_code == 503
    assert "is missing" in response.content.decode()


def test_a_note_not_stored_yet_is_rendered_from_its_snapshot(client, heretto, account_manager):
    note = applied_note(heretto, account_manager)  # its delivery task has not run
    client.force_login(CustomerUserFactory(customer=heretto.customer))
    response = client.get(f"/portal/credits/notes/{note.pk}/pdf/")
    assert response.status_code == 200
    assert note.number in pdf_text(response.content)
    assert not CreditNoteFile.objects.exists()  # a download writes nothing
