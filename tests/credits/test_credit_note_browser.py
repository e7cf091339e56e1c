"""A customer opens their credit notes in headless Chromium from the navigation and
downloads one: the file is the PDF stored when the credit was applied."""

from __future__ import annotations

import pytest

from credits.models import CreditNoteFile
from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.credit_notes import applied_note, note_media  # noqa: F401
from tests.support.factories import CustomerUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("note_media")]


def test_a_customer_opens_the_notes_page_and_downloads_a_note(
    page, live_server, heretto, account_manager, celery_eager
):
    from playwright.sync_api import expect

    # Committed (a live server's test is transactional): the note's delivery task runs.
    note = applied_note(heretto, account_manager, invoice_number="INV-2026-0701")
    stored = CreditNoteFile.objects.get(credit_note=note)
    person = CustomerUserFactory(customer=heretto.customer)

    login(page, live_server, person)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credit notes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Credit notes")
    row = page.get_by_test_id(f"note-{note.number}")
    expect(row).to_contain_text("INV-2026-0701")
    expect(row).to_contain_text("−200.00 USD")
    expect(row).to_contain_text("Heretto CCMS")
    assert_accessible(page, "customer credit notes")
    screenshot(page, "customer-credit-notes")

    with page.expect_download() as caught:
        row.get_by_role("link", name=f"Download PDF of {note.number}").click()
    download = caught.value
    assert download.suggested_filename == f"{note.number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read() == stored.pdf.read()


def test_an_account_manager_is_told_a_stored_pdf_was_altered_and_restores_it(
    page, live_server, heretto, account_manager, celery_eager
):
    from django.core.files.storage import default_storage
    from playwright.sync_api import expect

    heretto.customer.account_managers.add(account_manager)
    note = applied_note(heretto, account_manager)
    stored = CreditNoteFile.objects.get(credit_note=note)
    issued = stored.pdf.read()
    with default_storage.open(stored.pdf.name, "wb") as handle:
        handle.write(issued + b"% appended\n")

    login(page, live_server, account_manager)
    page.goto(f"{live_server.url}/am/credits/notes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Credit notes")
    expect(page.get_by_test_id(f"note-{note.number}")).to_contain_text(heretto.customer.name)
    assert_accessible(page, "staff credit notes")
    screenshot(page, "staff-credit-notes")

    page.goto(f"{live_server.url}/am/credits/notes/{note.pk}/pdf/")
    expect(page.get_by_test_id("note-unavailable")).to_contain_text("no longer matches")
    assert_accessible(page, "credit note PDF altered")
    screenshot(page, "credit-note-altered")
    page.get_by_role("button", name=f"Restore the PDF of {note.number}").click()
    expect(page.get_by_text("is restored: it matches the document issued")).to_be_visible()
    with default_storage.open(stored.pdf.name, "rb") as handle:
        assert handle.read() == issued
