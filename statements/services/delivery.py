"""Render an issued statement's PDF once, and e-mail it once.

Order of events. An issued statement is rendered only when no credit on it awaits a
decision, so the stored PDF shows the credit as decided (granted, and on which invoice
by which credit note when the approval applied it; or not granted and why) — the
document the customer receives is final. The credits' states it was rendered with are
stored with it (``pdf_credits``), and the e-mail says what the PDF says. Three paths
dispatch the render task, and whichever finds nothing pending renders, stores and sends:

* the statement's own commit (``statement_generate``, ``statement_reissue``);
* a credit's decision: credits sends ``credits.signals.credit_decided`` and
  ``credit_decided_received`` (connected in ``StatementsConfig.ready``) dispatches the
  statements that now wait for nothing, after the decision's commit. Credits sits below
  statements and never imports it; the signal keeps the e-mail seconds behind the
  approval;
* the hourly tick (``statements_deliver_owed``): every statement still owed its PDF or
  e-mail with all its credits decided. Both paths above dispatch after the commit,
  robustly (``after_commit``) — a broker down at that moment must not undo or fail the
  statement or the decision — so their task can be lost; the tick guarantees delivery.

Each statement is dispatched by several paths, on purpose, so the task is safe to run
any number of times, at once on several workers: the render holds the statement's row
(``FOR NO KEY UPDATE SKIP LOCKED``; a second worker skips it, ``busy``) while it renders,
stores and queues the e-mail, so a PDF is rendered once; a stored PDF is never replaced
(the database refuses it); and the e-mail's dedupe key ``statement:<id>`` means the
outbox queues it once however often this runs.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from credits.models import Credit
from outbox.models import OutboxMessage
from outbox.services import OutboxFile, outbox_enqueue
from slaportal.transactions import after_commit
from statements.credit_report import credit_report
from statements.models import Statement, StatementCredit
from statements.pdf import render_statement_pdf, statement_context
from statements.selectors import awaiting_decision, undelivered_statements

log = logging.getLogger(__name__)


def dispatch_render(statement_id: int) -> None:
    """Queue the render task (call it after the commit: ``after_commit``)."""
    from statements.tasks import statement_render_task  # the tasks module imports services

    statement_render_task.delay(statement_id)


def credit_decided_received(sender: type, *, credit: Credit, **kwargs: object) -> None:
    """Receiver of ``credits.signals.credit_decided``, inside the decision's transaction:
    after its commit, render and send each statement reporting the credit that now waits
    for nothing else."""
    reporting = StatementCredit.objects.filter(credit=credit).values("statement_id")
    for statement_id in (
        undelivered_statements().filter(pk__in=reporting).values_list("pk", flat=True)
    ):
        after_commit(dispatch_render, statement_id)


def statements_deliver_owed() -> int:
    """The tick's sweep: dispatch the render (and send) of every statement still owed its
    PDF or e-mail whose credits are all decided — those whose task was lost to a broker
    outage, or whose worker died. Returns how many were dispatched."""
    owed = list(undelivered_statements().order_by("pk").values_list("pk", flat=True))
    for statement_id in owed:
        after_commit(dispatch_render, statement_id)
    if owed:
        log.info("statements: %s owed their PDF or e-mail, dispatched again", len(owed))
    return len(owed)


def pdf_name(statement: Statement) -> str:
    return f"statements/{statement.month:%Y/%m}/{statement.number}.pdf"


def statement_render(*, statement_id: int, now: datetime | None = None) -> str:
    """Render and store the PDF of an issued (or superseded) statement once, then send
    it. Returns what happened: ``rendered``, ``sent`` (the PDF was stored already, the
    e-mail is queued now), ``already`` (nothing left to do), ``waiting`` (a credit awaits
    a decision), ``busy`` (another worker holds it, and finishes it), ``draft`` (drafts
    are previews, rendered on request, never stored) or ``missing``."""
    statement = Statement.objects.filter(pk=statement_id).first()
    if statement is None:
        return "missing"
    if statement.status == Statement.Status.DRAFT:
        return "draft"
    if statement.pdf and (statement.emailed_at or statement.status != Statement.Status.ISSUED):
        return "already"
    if not statement.pdf and awaiting_decision(statement):
        # Checked before taking the row: a worker holding it always finishes the work, so
        # the one it turns away ("busy") loses nothing. A decision dispatches again.
        log.info("statement %s: waiting for its credits' decision", statement.number)
        return "waiting"
    now = now or timezone.now()
    with transaction.atomic():
        # Held while rendering (about a second of CPU): a second worker given the same
        # statement (two ticks, a decision during the tick) skips it instead of rendering
        # it again. NO KEY: rows that only reference the statement are not held up.
        statement = (
            Statement.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("contract__customer", "supersedes")
            .filter(pk=statement_id)
            .first()
        )
        if statement is None:
            log.info("statement %s: delivered by another worker right now", statement_id)
            return "busy"
        outcome = "already"
        if not statement.pdf:
            # The final document shows the credits as decided now, and keeps that report
            # (``pdf_credits``) so a re-render reproduces it.
            statement.pdf_credits = credit_report(statement, now=now)
            outcome = _store(statement, render_statement_pdf(statement), now)
        if statement.status == Statement.Status.ISSUED and statement.emailed_at is None:
            statement_send(statement=statement, now=now)
            outcome = "sent" if outcome == "already" else outcome
    return outcome


def _store(statement: Statement, content: bytes, now: datetime) -> str:
    """Store the PDF and the credit report it shows (the caller holds the row)."""
    name = default_storage.save(pdf_name(statement), ContentFile(content))
    # One UPDATE of the columns the trigger lets us set once, from empty. "From
    # empty" is also the backstop where rows cannot be locked (SQLite): a render that
    # lost the race drops its file.
    sha256 = hashlib.sha256(content).hexdigest()
    stored = Statement.objects.filter(pk=statement.pk, pdf="").update(
        pdf=name, pdf_sha256=sha256, pdf_rendered_at=now, pdf_credits=statement.pdf_credits
    )
    if not stored:
        default_storage.delete(name)
        statement.refresh_from_db(fields=["pdf", "pdf_sha256", "pdf_rendered_at", "pdf_credits"])
        return "already"
    statement.pdf, statement.pdf_sha256, statement.pdf_rendered_at = name, sha256, now
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
