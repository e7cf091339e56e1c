"""The credit notes API: customers read their own organisation's notes (another's is a
404, and filters never reach it), the customer's account managers and administrators
read them too, and ``pdf/`` serves the stored document only while its SHA-256 holds."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from credits.models import CreditNote, CreditNoteFile
from credits.services import credit_note_deliver
from tests.support.api_helpers import API, client_for
from tests.support.credit_notes import (  # noqa: F401
    applied_note,
    note_media,
    reversal_of,
    second_customers_note,
)
from tests.support.factories import CustomerUserFactory, StaffFactory

pytestmark = pytest.mark.usefixtures("note_media")


@pytest.fixture
def notes(heretto, account_manager, other_customer):
    own = applied_note(heretto, account_manager, invoice_number="INV-API")
    reversal = reversal_of(own, account_manager)
    foreign = second_customers_note(other_customer, StaffFactory(role="account_manager"))
    for note in (own, reversal, foreign):
        credit_note_deliver(note_id=note.pk)
    return own, reversal, foreign


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_customer_lists_and_reads_only_their_own_notes(notes, customer):
    own, reversal, foreign = notes
    client = client_for(CustomerUserFactory(customer=customer))
    listed = client.get(f"{API}credit-notes/")
    assert listed.status_code == 200
    assert _ids(listed) == [reversal.pk, own.pk]
    row = client.get(f"{API}credit-notes/{reversal.pk}/").json()
    assert row["number"] == "CN-2026-000002"
    assert (row["kind"], row["reverses"], row["reverses_number"]) == (
        "reversal",
        own.pk,
        "CN-2026-000001",
    )
    assert (row["amount"], row["currency"], row["invoice_number"]) == ("200.00", "USD", "INV-API")
    assert row["file"]["sha256"] == CreditNoteFile.objects.get(credit_note=reversal).sha256
    assert client.get(f"{API}credit-notes/{foreign.pk}/").status_code == 404
    assert client.get(f"{API}credit-notes/{foreign.pk}/pdf/").status_code == 404


def test_filters_by_invoice_credit_and_year_stay_inside_the_organisation(notes, customer):
    own, reversal, foreign = notes
    client = client_for(CustomerUserFactory(customer=customer))
    assert _ids(client.get(f"{API}credit-notes/", {"invoice": own.invoice_id})) == [
        reversal.pk,
        own.pk,
    ]
    assert _ids(client.get(f"{API}credit-notes/", {"credit": own.credit_id, "kind": "credit"})) == [
        own.pk
    ]
    assert len(_ids(client.get(f"{API}credit-notes/", {"year": 2026}))) == 2
    assert _ids(client.get(f"{API}credit-notes/", {"year": 2025})) == []
    assert _ids(client.get(f"{API}credit-notes/", {"invoice": foreign.invoice_id})) == []
    assert client.get(f"{API}credit-notes/", {"year": "soon"}).status_code == 400


def test_the_pdf_is_served_as_stored(notes, customer):
    own = notes[0]
    client = client_for(CustomerUserFactory(customer=customer))
    response = client.get(f"{API}credit-notes/{own.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == CreditNoteFile.objects.get(credit_note=own).pdf.read()


def test_an_altered_pdf_is_a_409_and_a_missing_one_a_503(notes, customer):
    own, reversal, _ = notes
    client = client_for(CustomerUserFactory(customer=customer))
    stored = CreditNoteFile.objects.get(credit_note=own)
    with default_storage.open(stored.pdf.name, "wb") as handle:
        handle.write(b"%PDF-1.7 not the document issued")
    altered = client.get(f"{API}credit-notes/{own.pk}/pdf/")
    assert altered.status_code == 409
    assert altered.json()["reason"] == "altered"
    assert own.number in altered.json()["detail"]

    default_storage.delete(CreditNoteFile.objects.get(credit_note=reversal).pdf.name)
    missing = client.get(f"{API}credit-notes/{reversal.pk}/pdf/")
    assert (missing.status_code, missing.json()["reason"]) == (503, "missing")


def test_staff_read_the_notes_of_the_customers_they_manage(notes, account_manager, admin_user):
    own, reversal, foreign = notes
    manager = client_for(account_manager)
    assert _ids(manager.get(f"{API}credit-notes/")) == [reversal.pk, own.pk]
    assert manager.get(f"{API}credit-notes/{own.pk}/pdf/").status_code == 200
    assert manager.get(f"{API}credit-notes/{foreign.pk}/").status_code == 404
    assert manager.get(f"{API}credit-notes/{foreign.pk}/pdf/").status_code == 404

    assert set(_ids(client_for(admin_user).get(f"{API}credit-notes/"))) == {n.pk for n in notes}
    # The pages refuse agents the credit notes; so does the API.
    agent = client_for(StaffFactory(role="agent"))
    assert agent.get(f"{API}credit-notes/").status_code == 403
    assert agent.get(f"{API}credit-notes/{own.pk}/").status_code == 403


def test_notes_cannot_be_written_or_read_anonymously(notes, admin_user):
    own = notes[0]
    assert client_for().get(f"{API}credit-notes/").status_code in (401, 403)
    admin = client_for(admin_user)
    # Read-only: no role may write, not even an administrator.
    assert admin.post(f"{API}credit-notes/", {}).status_code == 403
    assert admin.delete(f"{API}credit-notes/{own.pk}/").status_code == 403
    assert CreditNote.objects.count() == 3
