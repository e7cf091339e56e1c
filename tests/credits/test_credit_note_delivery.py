"""A credit note's PDF is stored once (with its SHA-256) and e-mailed once to the
billing contacts, attached, through the outbox and a real SMTP server on loopback; the
hourly sweep catches up a lost task; a stored PDF that was altered or lost is not served
and staff restore it."""

from __future__ import annotations

import hashlib
from email.header import decode_header, make_header

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from audit.models import AuditEntry
from contracts.models import Customer
from credits.models import CreditNoteFile
from credits.services import (
    CreditNotePdfUnavailable,
    credit_note_deliver,
    credit_note_pdf_bytes,
    credit_note_rerender,
    credit_notes_deliver_owed,
)
from outbox.models import OutboxMessage
from tests.support.credit_notes import applied_note, note_emails, note_media, reversal_of  # noqa: F401
from tests.support.factories import StaffFactory
from tests.support.pdf import pdf_text
from tests.support.smtp import attachments

pytestmark = pytest.mark.usefixtures("note_media")


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message) -> str:
    return next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )


def test_an_applied_credit_is_emailed_once_with_its_credit_note_attached(
    heretto, account_manager, smtp, celery_eager, django_capture_on_commit_callbacks
):
    Customer.objects.filter(pk=heretto.customer_id).update(
        billing_emails="ap@customer.test, finance@customer.test"
    )
    with django_capture_on_commit_callbacks(execute=True):
        note = applied_note(heretto, account_manager, invoice_number="INV-2026-0701")

    stored = CreditNoteFile.objects.get(credit_note=note)
    content = stored.pdf.read()
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert "CN-2026-000001" in pdf_text(content)
    [received] = smtp.received
    assert received["To"] == "ap@customer.test, finance@customer.test"
    assert _subject(received) == (
        "Credit note CN-2026-000001 — 200.00 USD credited on invoice INV-2026-0701"
    )
    text = " ".join(_body(received).split())
    assert (
        "Your service credit of 200.00 USD for Heretto CCMS (2026-06) was applied to invoice "
        "INV-2026-0701 by credit note CN-2026-000001" in text
    )
    assert "1000.00 USD before this note, 800.00 USD after it" in text
    assert attachments(received) == {"CN-2026-000001.pdf": content}

    # Every path that could render or send it again finds it done.
    with django_capture_on_commit_callbacks(execute=True):
        assert credit_note_deliver(note_id=note.pk) == "already"
        assert credit_note_deliver(note_id=note.pk) == "already"
        assert credit_notes_deliver_owed() == 0
    assert CreditNoteFile.objects.count() == 1
    assert len(note_emails(note)) == 1
    assert len(smtp.received) == 1


def test_a_note_whose_task_was_lost_is_delivered_by_the_sweep_once(
    heretto, account_manager, smtp, celery_eager, django_capture_on_commit_callbacks
):
    note = applied_note(heretto, account_manager)  # its commit callbacks never run
    assert not CreditNoteFile.objects.exists() and not OutboxMessage.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert credit_notes_deliver_owed() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert credit_notes_deliver_owed() == 0
    assert CreditNoteFile.objects.filter(credit_note=note).count() == 1
    [received] = smtp.received
    assert list(attachments(received)) == [f"{note.number}.pdf"]


def test_a_reversal_is_emailed_as_a_note_that_reverses_the_first(
    heretto, account_manager, smtp, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = applied_note(heretto, account_manager, invoice_number="INV-R")
        reversal = reversal_of(first, account_manager)
    subjects = sorted(_subject(m) for m in smtp.received)
    assert subjects == [
        "Credit note CN-2026-000001 — 200.00 USD credited on invoice INV-R",
        "Credit note CN-2026-000002 — reversal of CN-2026-000001 on invoice INV-R",
    ]
    assert len(note_emails(first)) == len(note_emails(reversal)) == 1


def _delivered(heretto, account_manager):
    note = applied_note(heretto, account_manager)
    credit_note_deliver(note_id=note.pk)
    return note, CreditNoteFile.objects.get(credit_note=note)


def test_an_altered_pdf_is_not_served_and_staff_restore_the_issued_one(heretto, account_manager):
    note, stored = _delivered(heretto, account_manager)
    issued = stored.pdf.read()
    with default_storage.open(stored.pdf.name, "wb") as handle:
        handle.write(issued[:-64] + b"% altered after issue\n" + issued[-64:])

    with pytest.raises(CreditNotePdfUnavailable) as refused:
        credit_note_pdf_bytes(note)
    assert refused.value.reason == "altered"
    assert "does not match the checksum" in str(refused.value)

    assert credit_note_rerender(note=note, actor=account_manager) == "restored"
    assert credit_note_pdf_bytes(note) == issued
    entry = AuditEntry.objects.get(action="credit_note.rerender")
    assert (entry.actor, entry.changes) == (
        account_manager,
        {"pdf": {"before": "altered", "after": "restored"}},
    )
    # The stored row never changed: same name, same checksum.
    assert CreditNoteFile.objects.get(pk=stored.pk).sha256 == stored.sha256


def test_a_missing_pdf_is_not_served_and_staff_restore_it(heretto, account_manager, admin_user):
    note, stored = _delivered(heretto, account_manager)
    issued = stored.pdf.read()
    default_storage.delete(stored.pdf.name)

    with pytest.raises(CreditNotePdfUnavailable) as refused:
        credit_note_pdf_bytes(note)
    assert refused.value.reason == "missing"

    assert credit_note_rerender(note=note, actor=admin_user) == "restored"
    assert credit_note_pdf_bytes(note) == issued
    assert credit_note_rerender(note=note, actor=admin_user) == "intact"


def test_only_the_customers_account_manager_or_an_admin_may_restore(heretto, account_manager):
    note, stored = _delivered(heretto, account_manager)
    default_storage.delete(stored.pdf.name)
    for outsider in (StaffFactory(role="account_manager"), StaffFactory(role="agent")):
        with pytest.raises(PermissionDenied):
            credit_note_rerender(note=note, actor=outsider)
    assert not default_storage.exists(stored.pdf.name)
    assert not AuditEntry.objects.filter(action="credit_note.rerender").exists()
