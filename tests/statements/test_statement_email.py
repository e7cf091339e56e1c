"""A statement is e-mailed once — after its credit is decided, or at once when there is
none — to the billing contacts with the PDF attached, through the outbox and a real SMTP
server on loopback (aiosmtpd): temporary failures retried, permanent ones not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header

from contracts.models import Customer
from credits.services import credit_approve, credit_reject
from outbox.models import OutboxMessage
from outbox.services import outbox_deliver
from statements.models import Statement
from statements.selectors import statement_credits, statement_email
from statements.services import statement_generate, statement_render, statement_send
from tests.support.factories import catalog_contract
from tests.support.smtp import attachments

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message) -> str:
    return next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )


def test_the_statement_is_emailed_once_after_the_credit_is_approved(
    june_contract, account_manager, smtp, celery_eager, django_capture_on_commit_callbacks
):
    Customer.objects.filter(pk=june_contract.customer_id).update(
        billing_emails="ap@customer.test, finance@customer.test"
    )
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    assert smtp.received == [] and not OutboxMessage.objects.exists()  # awaits the decision

    [credit] = statement_credits(statement)
    with django_capture_on_commit_callbacks(execute=True):
        credit_approve(credit=credit, actor=account_manager)
    [received] = smtp.received
    statement.refresh_from_db()
    assert received["To"] == "ap@customer.test, finance@customer.test"
    assert subject(received) == (
        f"Service level statement {statement.number} — June 2026 — contract C-JUNE-1"
    )
    files = attachments(received)
    assert list(files) == [f"{statement.number}.pdf"]
    assert files[f"{statement.number}.pdf"] == statement.pdf.read()
    text = body(received)
    assert "Heretto CCMS: 99.201 % — missed" in text
    # No invoice is open: granted, and said to be on no invoice yet (never "applied").
    assert (
        "Heretto CCMS: 200.00 USD — Approved; not yet on an invoice: 200.00 USD goes on "
        "your next subscription services invoice." in text
    )
    assert "Credits granted by this statement: 200.00 USD." in text
    assert "applied" not in text.lower()
    assert statement.emailed_at is not None
    assert statement_email(statement).status == "sent"

    # Every path that could send it again finds it sent.
    with django_capture_on_commit_callbacks(execute=True):
        assert statement_render(statement_id=statement.pk) == "already"
        statement_send(statement=statement)
        statement_generate(contract=june_contract, month=JUNE, now=NOW + timedelta(days=1))
    assert len(smtp.received) == 1
    assert OutboxMessage.objects.count() == 1


def test_a_month_without_credit_is_emailed_at_once(
    catalog, customer, statement_media, smtp, celery_eager, django_capture_on_commit_callbacks
):
    contract = catalog_contract(customer, "heretto-ccms", {"Heretto CCMS": "4000.00"})
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=contract, month=JUNE, now=NOW)
    [received] = smtp.received
    assert "No service credit is due for the month." in body(received)
    assert attachments(received)[f"{statement.number}.pdf"].startswith(b"%PDF-")


def test_a_rejected_credit_is_emailed_with_the_reason(
    june_contract, account_manager, smtp, celery_eager, django_capture_on_commit_callbacks
):
    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    [credit] = statement_credits(statement)
    with django_capture_on_commit_callbacks(execute=True):
        credit_reject(credit=credit, actor=account_manager, reason="Outage was on our side")
    [received] = smtp.received
    assert "200.00 USD — Rejected: Outage was on our side" in body(received)
    assert "Credits granted by this statement: 0.00 USD." in body(received)
    assert "applied" not in body(received).lower()


def _queued(june_contract, account_manager) -> Statement:
    """The statement decided and rendered, its e-mail queued but not yet sent."""
    statement = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=account_manager)
    statement_render(statement_id=statement.pk, now=NOW)  # no commit: nothing dispatched
    statement.refresh_from_db()
    return statement


def test_smtp_421_twice_then_250_delivers_once(june_contract, account_manager, smtp):
    statement = _queued(june_contract, account_manager)
    message = statement_email(statement)
    smtp.replies = ["421 4.7.0 Try again later", "421 4.7.0 Try again later"]
    first = outbox_deliver(message_id=message.pk, now=NOW)
    second = outbox_deliver(message_id=message.pk, now=NOW + first.retry_in)
    third = outbox_deliver(message_id=message.pk, now=NOW + first.retry_in + second.retry_in)
    assert [first.retry_in, second.retry_in] == [timedelta(minutes=1), timedelta(minutes=2)]
    assert third.status == "sent"
    assert outbox_deliver(message_id=message.pk, now=NOW + timedelta(hours=1)).status == "skipped"
    assert len(smtp.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 3)


def test_smtp_550_marks_the_statement_email_failed_without_retry(
    june_contract, account_manager, smtp
):
    statement = _queued(june_contract, account_manager)
    message = statement_email(statement)
    smtp.replies = ["550 5.1.1 Mailbox unknown"]
    delivery = outbox_deliver(message_id=message.pk, now=NOW)
    assert (delivery.status, delivery.retry_in) == ("failed", None)
    assert outbox_deliver(message_id=message.pk, now=NOW + timedelta(hours=2)).status == "skipped"
    assert smtp.received == []
    # Sending the statement again does not queue a second message either.
    statement_send(statement=statement)
    assert OutboxMessage.objects.count() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
