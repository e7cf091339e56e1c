"""Render an issued statement's PDF once, and e-mail it once.

Order of events. An issued statement is rendered only when no credit on it awaits a
decision, so the stored PDF shows the credit as decided (granted and deducted from
the next invoice, or not granted and why) — the document the customer receives is
final. The render task runs after the statement's commit and again after each
decision's commit (``statement_credit_decided``); whichever finds nothing pending
renders, stores and sends. Every step is idempotent: a stored PDF is never replaced
(the database refuses it), and the e-mail's dedupe key ``statement:<id>`` means the
outbox queues it once however often this runs.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from credits.models import Credit
from outbox.models import OutboxMessage
from outbox.services import OutboxFile, outbox_enqueue
from statements.models import Statement, StatementCredit
from statements.pdf import render_statement_pdf, statement_context
from statements.selectors import awaiting_decision

log = logging.getLogger(__name__)


def dispatch_render(statement_id: int) -> None:
    """Queue the render task (call it from ``transaction.on_commit``)."""
    from statements.tasks import render_statement_pdf as render_task  # tasks import services

    render_task.delay(statement_id)


def statement_credit_decided(*, credit: Credit) -> None:
    """Called by ``credit_approve`` / ``credit_reject`` inside their transaction: render
    (and then send) each issued statement that reports the credit, after the commit."""
    ids = StatementCredit.objects.filter(credit=credit).values_list("statement_id", flat=True)
    for statement_id in Statement.objects.filter(
        pk__in=list(ids), status=Statement.Status.ISSUED
    ).values_list("pk", flat=True):
        transaction.on_commit(partial(dispatch_render, statement_id), robust=True)


def pdf_name(statement: Statement) -> str:
    return f"statements/{statement.month:%Y/%m}/{statement.number}.pdf"


def statement_render(*, statement_id: int, now: datetime | None = None) -> str:
    """Render and store the PDF of an issued (or superseded) statement once, then send
    it. Returns what happened: ``rendered``, ``already``, ``waiting`` (a credit awaits
    a decision), ``draft`` (drafts are previews, rendered on request, never stored) or
    ``missing``."""
    statement = (
        Statement.objects.select_related("contract__customer", "supersedes")
        .filter(pk=statement_id)
        .first()
    )
    if statement is None:
        return "missing"
    if statement.status == Statement.Status.DRAFT:
        return "draft"
    outcome = "already"
    if not statement.pdf:
        if awaiting_decision(statement):
            log.info("statement %s: waiting for its credits' decision", statement.number)
            return "waiting"
        # Rendered outside any transaction (about a second of CPU); a concurrent render
        # of the same statement loses below and throws its bytes away.
        content = render_statement_pdf(statement)
        outcome = _store(statement, content, now or timezone.now())
    statement.refresh_from_db()
    statement_send(statement=statement, now=now)
    return outcome


def _store(statement: Statement, content: bytes, now: datetime) -> str:
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.pdf:
            return "already"
        name = default_storage.save(pdf_name(locked), ContentFile(content))
        # One UPDATE of the three columns the trigger lets us set once, from empty.
        Statement.objects.filter(pk=locked.pk, pdf="").update(
            pdf=name, pdf_sha256=hashlib.sha256(content).hexdigest(), pdf_rendered_at=now
        )
    log.info("statement %s: PDF stored as %s (%s bytes)", statement.number, name, len(content))
    return "rendered"


def _email(statement: Statement) -> tuple[str, str, str]:
    kind = "statement_reissued" if statement.supersedes_id else "statement"
    context = {
        **statement_context(statement),
        "portal_url": settings.PORTAL_URL,
        "provider": settings.PROVIDER_NAME,
    }
    subject = render_to_string(f"statements/email/{kind}_subject.txt", context)
    text = render_to_string(f"statements/email/{kind}.txt", context)
    html = render_to_string(f"statements/email/{kind}.html", context)
    return " ".join(subject.split()), text, html


def statement_send(*, statement: Statement, now: datetime | None = None) -> OutboxMessage | None:
    """Queue the statement's e-mail to the customer's billing contacts with the PDF
    attached: once its PDF is stored (which waits for every credit's decision, or
    happens at once when there is none). A superseded statement is not sent (its
    replacement is). Never twice: the outbox's dedupe key is ``statement:<id>``."""
    if statement.status != Statement.Status.ISSUED or not statement.pdf:
        return None
    now = now or timezone.now()
    customer = statement.contract.customer
    subject, text, html = _email(statement)
    with transaction.atomic():
        message, created = outbox_enqueue(
            to=customer.billing_email_list,
            subject=subject,
            body=text,
            html_body=html,
            dedupe_key=f"statement:{statement.pk}",
            attachments=[
                OutboxFile(
                    filename=f"{statement.number}.pdf",
                    content_type="application/pdf",
                    storage_path=statement.pdf.name,
                )
            ],
            now=now,
        )
        Statement.objects.filter(pk=statement.pk, emailed_at__isnull=True).update(emailed_at=now)
    if created:
        log.info("statement %s: e-mail queued to %s", statement.number, ", ".join(message.to))
    return message
