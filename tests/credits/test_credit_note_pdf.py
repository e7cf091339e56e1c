"""The credit note PDF, read back as a customer would read it."""

from __future__ import annotations

from credits.pdf import render_credit_note_pdf
from tests.support.credit_notes import applied_note, note_media, reversal_of  # noqa: F401
from tests.support.pdf import pdf_text


def _text(note) -> str:
    return " ".join(pdf_text(render_credit_note_pdf(note)).split())


def test_the_credit_note_names_its_number_invoice_amount_clause_seller_and_customer(
    heretto, account_manager, settings
):
    note = applied_note(heretto, account_manager, invoice_number="INV-2026-0701")
    text = _text(note)
    assert note.number == "CN-2026-000001"
    for expected in (
        "CREDIT NOTE",
        "CN-2026-000001",
        "Issued 2 July 2026",
        settings.PROVIDER_NAME,
        heretto.customer.name,
        "Invoice INV-2026-0701",
        "Credited on invoice INV-2026-0701 −200.00 USD",
        "Invoice total before this note 1,000.00 USD",
        "Invoice total after this note 800.00 USD",
        f"Statement ST-{heretto.reference}-2026-06",
        "Month June 2026",
        "Service Heretto CCMS",
        "99.3055 %",
        "Heretto CCMS",
    ):
        assert expected in text, expected
    # The clause the credit was worked out under, from the policy.
    clause = next(step["clause"] for step in note.details["clauses"])
    assert " ".join(clause.split())[:40] in text
    # The tiered SLA lets a credit go to an invoice, but says nothing of cash.
    assert note.details["credit"]["policy"]["name"] in text


def test_a_multiplier_credit_note_says_it_is_not_redeemable_for_cash(balto, account_manager):
    note = applied_note(balto, account_manager)
    policy = note.details["credit"]["policy"]
    assert (policy["code"], policy["cash_refundable"]) == ("balto-uptime", False)
    text = _text(note)
    assert "100.00 USD" in text
    assert "not redeemable for cash" in text


def test_a_reversal_is_its_own_numbered_note_that_references_the_first(heretto, account_manager):
    first = applied_note(heretto, account_manager)
    reversal = reversal_of(first, account_manager)
    text = _text(reversal)
    assert reversal.number == "CN-2026-000002"
    assert "CN-2026-000002" in text
    assert "Reverses CN-2026-000001" in text
    assert "reverses credit note CN-2026-000001" in text
    assert "Outage reclassified" in text
    assert "+200.00 USD" in text
    # The first note's document is unchanged: it still says what it credited.
    assert "Reverses" not in _text(first)


def test_rendering_a_note_again_gives_the_same_bytes(heretto, account_manager):
    note = applied_note(heretto, account_manager)
    assert render_credit_note_pdf(note) == render_credit_note_pdf(note)
