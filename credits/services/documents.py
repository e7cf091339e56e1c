"""Credit notes as documents: the PDF rendered and stored once, the e-mail that tells the
customer the credit was applied (PDF attached) queued once, and the stored file checked
against its SHA-256 before it is served.

Three paths reach ``credit_note_deliver``: the note's own commit (``_issue`` in
``application``, after the commit), the hourly sweep (``credit_notes_deliver_owed``, for
a task lost with the broker or its worker) and staff restoring a file. Any of them may
run twice, at once on two workers: the ``CreditNoteFile`` row is one per note (a unique
key; a second render drops its file), and the e-mail's dedupe key ``credit-note:<id>``
queues it once.

A stored PDF is never replaced (the database refuses any change to its row). Because a
note renders from its immutable ``details`` to the same bytes every time, a lost or
altered file is restored by rendering it again and writing it back when the bytes match
the recorded SHA-256 (``credit_note_rerender``).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import timezone

from audit.services import audit_record
from contracts.models import User
from credits.models import CreditNote, CreditNoteFile
from credits.pdf import render_credit_note_pdf
from credits.services._common import require_staff_for
from outbox.models import OutboxMessage
from outbox.services import OutboxFile, outbox_enqueue
from slaportal.money import format_money
from slaportal.storage import unavailable_errors
from slaportal.transactions import after_commit

log = logging.getLogger(__name__)


class CreditNotePdfUnavailable(Exception):
    """The stored PDF cannot be served: ``missing`` (no file where its row says) or
    ``altered`` (the file's SHA-256 is not the one recorded when it was stored)."""

    def __init__(self, note: CreditNote, reason: str) -> None:
        self.note = note
        self.reason = reason
        what = {
            "missing": "its stored file is missing",
            "altered": "its stored file does not match the checksum recorded when it was issued",
        }[reason]
        super().__init__(f"The PDF of credit note {note.number} cannot be served: {what}.")


def pdf_name(note: CreditNote) -> str:
    return f"credit-notes/{note.year}/{note.number}.pdf"


def dedupe_key(note: CreditNote) -> str:
    return f"credit-note:{note.pk}"


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def dispatch_deliver(note_id: int) -> None:
    """Queue the delivery task (call it after the commit: ``after_commit``)."""
    from credits.tasks import credit_note_deliver_task  # the tasks module imports services

    credit_note_deliver_task.delay(note_id)


def _store(note: CreditNote, now: datetime) -> str:
    """Render and store the note's PDF unless it is stored already."""
    if CreditNoteFile.objects.filter(credit_note=note).exists():
        return "already"
    content = render_credit_note_pdf(note)
    name = default_storage.save(pdf_name(note), ContentFile(content))
    try:
        with transaction.atomic():
            CreditNoteFile.objects.create(
                credit_note=note, pdf=name, sha256=_sha256(content), rendered_at=now
            )
    except IntegrityError:
        # Another worker stored it a moment ago: its file and row stand, ours goes.
        default_storage.delete(name)
        return "already"
    log.info("credit note %s: PDF stored as %s (%s bytes)", note.number, name, len(content))
    return "rendered"


def _email(note: CreditNote) -> tuple[str, str, str]:
    details = note.details
    context = {
        "note": note,
        "d": details,
        "reversal": note.kind == CreditNote.Kind.REVERSAL,
        "amount_text": format_money(note.amount, note.currency),
        "portal_url": settings.PORTAL_URL,
        "provider": settings.PROVIDER_NAME,
    }
    subject = render_to_string("credits/email/credit_note_subject.txt", context)
    text = render_to_string("credits/email/credit_note.txt", context)
    html = render_to_string("credits/email/credit_note.html", context)
    return " ".join(subject.split()), text, html


def _send(note: CreditNote, now: datetime) -> bool:
    """Queue the e-mail with the stored PDF attached; True when queued now (not before)."""
    stored = CreditNoteFile.objects.get(credit_note=note)
    subject, text, html = _email(note)
    message, created = outbox_enqueue(
        to=note.customer.billing_email_list,
        subject=subject,
        body=text,
        html_body=html,
        dedupe_key=dedupe_key(note),
        attachments=[
            OutboxFile(
                filename=f"{note.number}.pdf",
                content_type="application/pdf",
                storage_path=stored.pdf.name,
            )
        ],
        now=now,
    )
    if created:
        log.info("credit note %s: e-mail queued to %s", note.number, ", ".join(message.to))
    return created


def credit_note_deliver(*, note_id: int, now: datetime | None = None) -> str:
    """Render and store the note's PDF once, then queue its e-mail once. Returns what
    happened: ``rendered`` (and queued), ``sent`` (the PDF was stored already, the e-mail
    is queued now), ``already`` (nothing left to do), ``busy`` (another worker holds the
    note and finishes it) or ``missing``."""
    now = now or timezone.now()
    if not CreditNote.objects.filter(pk=note_id).exists():
        return "missing"
    with transaction.atomic():
        # Held while rendering: a second worker given the same note skips it. The lock
        # fires no trigger (only UPDATE and DELETE do). NO KEY: the file row that
        # references the note is not held up.
        note = (
            CreditNote.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("customer")
            .filter(pk=note_id)
            .first()
        )
        if note is None:
            log.info("credit note %s: delivered by another worker right now", note_id)
            return "busy"
        outcome = _store(note, now)
        if _send(note, now):
            outcome = "sent" if outcome == "already" else outcome
    return outcome


def credit_notes_owed() -> QuerySet[CreditNote]:
    """Notes still owed their stored PDF or their e-mail (``credit-note:<id>``)."""
    mailed = OutboxMessage.objects.filter(
        dedupe_key=Concat(Value("credit-note:"), Cast(OuterRef("pk"), CharField()))
    )
    return CreditNote.objects.filter(Q(file__isnull=True) | ~Exists(mailed)).order_by("pk")


def credit_notes_deliver_owed(*, now: datetime | None = None) -> int:
    """The hourly sweep: dispatch the delivery of every note still owed its PDF or its
    e-mail (its task lost to a broker outage, or its worker died). Returns how many."""
    owed = list(credit_notes_owed().values_list("pk", flat=True))
    for note_id in owed:
        after_commit(dispatch_deliver, note_id)
    if owed:
        log.info("credit notes: %s owed their PDF or e-mail, dispatched again", len(owed))
    return len(owed)


def credit_note_pdf_bytes(note: CreditNote) -> bytes:
    """The note's PDF as issued: the stored file, checked against its SHA-256 first
    (``CreditNotePdfUnavailable`` when it is missing or altered, logged). A note whose
    file is not stored yet (its task still queued) is rendered from its snapshot."""
    stored = CreditNoteFile.objects.filter(credit_note=note).first()
    if stored is None:
        return render_credit_note_pdf(note)
    try:
        with default_storage.open(stored.pdf.name, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        log.error("credit note %s: stored PDF %s is missing", note.number, stored.pdf.name)
        raise CreditNotePdfUnavailable(note, "missing") from None
    except unavailable_errors() as exc:
        # The store did not answer: it cannot be served right now ("missing", a 503).
        log.error(
            "credit note %s: stored PDF %s could not be read: %s: %s",
            note.number,
            stored.pdf.name,
            type(exc).__name__,
            exc,
        )
        raise CreditNotePdfUnavailable(note, "missing") from None
    actual = _sha256(content)
    if actual != stored.sha256:
        log.error(
            "credit note %s: stored PDF %s does not match its checksum (%s, recorded %s)",
            note.number,
            stored.pdf.name,
            actual,
            stored.sha256,
        )
        raise CreditNotePdfUnavailable(note, "altered")
    return content


def _write_back(name: str, content: bytes) -> None:
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(content))
    except unavailable_errors() as exc:
        raise ValidationError(
            {
                "credit_note": [
                    f"The file storage cannot be reached ({type(exc).__name__}), so nothing "
                    "was written. Try again once it answers."
                ]
            }
        ) from exc


def credit_note_rerender(*, note: CreditNote, actor: User, now: datetime | None = None) -> str:
    """Staff restore a note's stored PDF: render it again from the issued snapshot and
    write it back. The stored row (name, SHA-256) never changes, so the render must
    reproduce the issued bytes; when it does not (the template or the fonts changed
    since), nothing is written and the refusal says so. Returns ``restored``,
    ``intact`` (the stored file was fine: nothing written) or ``rendered`` (no file was
    stored yet: it is stored, and the e-mail queued, now). Audit-logged."""
    require_staff_for(actor, note.customer)
    now = now or timezone.now()
    stored = CreditNoteFile.objects.filter(credit_note=note).first()
    found = "not stored"
    if stored is None:
        credit_note_deliver(note_id=note.pk, now=now)
        outcome = "rendered"
    else:
        try:
            credit_note_pdf_bytes(note)
            found = outcome = "intact"
        except CreditNotePdfUnavailable as exc:
            found = exc.reason
            content = render_credit_note_pdf(note)
            if _sha256(content) != stored.sha256:
                raise ValidationError(
                    {
                        "credit_note": [
                            f"Credit note {note.number} rendered again does not match the "
                            "document issued (its template or fonts changed since), so the "
                            "stored file was left as it is."
                        ]
                    }
                ) from exc
            _write_back(stored.pdf.name, content)
            outcome = "restored"
            log.warning("credit note %s: stored PDF restored (was %s)", note.number, found)
    audit_record(
        actor=actor,
        action="credit_note.rerender",
        obj=note,
        changes={"pdf": {"before": found, "after": outcome}},
        label=f"{note.number} ({note.customer})",
        at=now,
    )
    return outcome
