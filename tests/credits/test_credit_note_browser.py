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
