"""The statement PDF: what its text shows (read back with pypdf), stored once with its
checksum after the credit's decision, and static files from disk only."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from credits.models import CreditNote
from credits.services import credit_approve, credit_reject
from statements import pdf
from statements.models import Statement
from statements.selectors import statement_credits
from statements.services import statement_generate, statement_render
from tests.support.factories import InvoiceFactory
from tests.support.pdf import pdf_text

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def statement(june_contract) -> Statement:
    return statement_generate(contract=june_contract, month=JUNE, now=NOW)


def test_the_pdf_waits_for_the_credit_decision_then_is_stored_once(statement, account_manager):
    assert statement_render(statement_id=statement.pk, now=NOW) == "waiting"
    statement.refresh_from_db()
    assert not statement.pdf
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=account_manager)
    assert statement_render(statement_id=statement.pk, now=NOW) == "rendered"
    assert statement_render(statement_id=statement.pk, now=NOW) == "already"
    statement.refresh_from_db()
    content = statement.pdf.read()
    assert content.startswith(b"%PDF-")
    assert statement.pdf.name == f"statements/2026/06/{statement.number}.pdf"
    assert statement.pdf_sha256 == hashlib.sha256(content).hexdigest()
    assert statement.pdf_rendered_at == NOW


def test_the_pdf_shows_customer_month_availability_credit_and_its_credit_note(
    statement, account_manager
):
    invoice = InvoiceFactory(
        contract=statement.contract, number="INV-2026-0701", amount=Decimal("5500.00")
    )
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=account_manager)
    statement_render(statement_id=statement.pk, now=NOW)
    statement.refresh_from_db()
    reader = PdfReader(io.BytesIO(statement.pdf.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert statement.contract.customer.name in text
    assert "June 2026" in text
    assert statement.number in text
    assert "Heretto CCMS" in text and "99.201 %" in text
    assert "Cloud Publishing" in text and "100.000 %" in text
    [note] = CreditNote.objects.filter(invoice=invoice)
    flat = " ".join(text.split())
    assert "Heretto CCMS: 200.00 USD — Applied" in flat
    assert f"200.00 USD applied to invoice INV-2026-0701 by credit note {note.number}" in flat
    assert f"Heretto CCMS INV-2026-0701 {note.number} −200.00 USD" in flat  # the notes table
    assert "Credits granted by this statement 200.00 USD" in flat
    assert "Upstream DNS provider" in text  # a counted outage
    assert "Database upgrade" in " ".join(text.split())
    assert "Scheduled maintenance: not counted" in " ".join(text.split())
    assert "Support attainment" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert len(reader.pages) <= 4


def test_a_rejected_credit_shows_why_and_adjusts_no_invoice(statement, account_manager):
    [credit] = statement_credits(statement)
    credit_reject(credit=credit, actor=account_manager, reason="Customer already compensated")
    assert statement_render(statement_id=statement.pk, now=NOW) == "rendered"
    statement.refresh_from_db()
    text = " ".join(pdf_text(statement.pdf.read()).split())
    assert "Heretto CCMS: 200.00 USD — Rejected" in text
    assert "Rejected: Customer already compensated" in text
    assert "Credits granted by this statement 0.00 USD" in text
    assert "Not granted 200.00 USD" in text
    assert "No credit note is issued for this statement" in text
    assert "applied to invoice" not in text


def test_a_stored_pdf_cannot_be_replaced(statement, account_manager):
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=account_manager)
    statement_render(statement_id=statement.pk, now=NOW)
    with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(pdf="statements/other.pdf")


def test_one_font_configuration_and_stylesheet_serve_every_render(statement):
    first = pdf._weasy()
    pdf.render_statement_pdf(statement)
    pdf.render_statement_pdf(statement)
    assert pdf._weasy() is first
    fonts, _, css, _ = first
    assert type(fonts).__name__ == "FontConfiguration" and css is pdf._weasy()[2]


def test_the_renderer_fetches_nothing_over_the_network(statement):
    _, fetcher, _, base_url = pdf._weasy()
    for url in ("http://example.com/x.css", "https://example.com/logo.png", "ftp://x/y"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    with pytest.raises(ValueError, match="outside the static directories"):
        fetcher.fetch("file:///etc/passwd")
    assert fetcher.fetch(base_url + "css/statement.css").read().startswith(b"/*")


def test_outage_titles_are_text_not_markup(statement, june_contract):
    statement.snapshot["services"][1]["counted"][0]["title"] = '<img src="http://x/y.png">'
    html = pdf.render_statement_html(statement)
    assert "&lt;img src=&quot;http://x/y.png&quot;&gt;" in html
    assert '<img src="http://x/y.png">' not in html


def test_fonts_are_subset_by_harfbuzz_not_the_slow_fonttools_fallback(statement, caplog):
    # Needs Debian's libharfbuzz-subset0 (.ci/run installs it); without it every PDF
    # takes the pure-Python path, which WeasyPrint reports only through its logger.
    from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset is not None, "apt-get install libharfbuzz-subset0"
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf.render_statement_pdf(statement)
    assert not [r for r in caplog.records if "instead of HarfBuzz" in r.getMessage()]
