"""Re-render a statement's stored PDF that was altered or lost: ``statement_pdf_restore``.

What the hash rule promises: the file served always has the SHA-256 recorded on the
statement (``statements.stored_pdf`` checks it before serving). The restore re-renders
the document from what the statement keeps — its snapshot and the credit report the
final PDF was rendered with (``pdf_credits``) — which reproduces it byte for byte
(WeasyPrint's output is deterministic for the same input), so normally:

* ``restored`` — the re-render's SHA-256 equals the recorded one: the very document is
  written back under its name; nothing about the statement changes but
  ``pdf_restored_at``.
* ``replaced`` — it does not (a PDF stored before the report was kept, or rendered by
  another WeasyPrint version): the re-render is stored as a new file, and the
  statement records the new file and its hash (the only change the database trigger
  allows to a stored PDF, with a later ``pdf_restored_at``). The audit entry keeps the
  old name and hash, so nothing is hidden.
* ``intact`` — the stored file matches its hash: nothing is done.

Every restore that writes is audit-logged (``statement.pdf_restore``). Authority: the
customer's account managers and administrators, as for the other statement actions.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import User
from slaportal import authority
from slaportal.storage import unavailable_errors
from statements.models import Statement
from statements.pdf import render_statement_pdf
from statements.stored_pdf import stored_problem

log = logging.getLogger(__name__)


def may_restore(actor: User | None, statement: Statement) -> bool:
    """An administrator, or an account manager of the statement's customer."""
    if actor is None or not actor.is_authenticated:
        return False
    return authority.acts_for(actor, statement.contract.customer_id)


def _write_back(statement: Statement, content: bytes, digest: str) -> tuple[str, str]:
    """Store the re-render: under its own name when it is the issued document, else as
    a new file. Returns the stored name and ``restored`` or ``replaced``."""
    if digest == statement.pdf_sha256:
        name = statement.pdf.name
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(content))
        return saved, "restored" if saved == name else "replaced"
    stem = statement.pdf.name.removesuffix(".pdf")
    return default_storage.save(f"{stem}-restored.pdf", ContentFile(content)), "replaced"


def statement_pdf_restore(
    *, statement: Statement, actor: User | None, now: datetime | None = None
) -> str:
    """Re-render the statement's altered or missing stored PDF (see the module
    docstring). Returns ``intact``, ``restored`` or ``replaced``."""
    if not may_restore(actor, statement):
        raise PermissionDenied(
            "Only this customer's account managers or an administrator may re-render it."
        )
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("contract__customer", "supersedes")
            .get(pk=statement.pk)
        )
        if not locked.pdf:
            raise ValidationError(
                {
                    "pdf": [
                        "No PDF is stored for this statement yet: it is rendered once its "
                        "credits are decided."
                    ]
                }
            )
        problem = stored_problem(locked)
        if problem is None:
            return "intact"
        content = render_statement_pdf(locked)
        digest = hashlib.sha256(content).hexdigest()
        before = {"pdf": locked.pdf.name, "pdf_sha256": locked.pdf_sha256}
        try:
            saved, outcome = _write_back(locked, content, digest)
        except unavailable_errors() as exc:
            raise ValidationError(
                {
                    "pdf": [
                        f"The file storage cannot be reached ({type(exc).__name__}), so "
                        "nothing was written. Try again once it answers."
                    ]
                }
            ) from exc
        if outcome == "restored":
            Statement.objects.filter(pk=locked.pk).update(pdf_restored_at=now)
        else:
            Statement.objects.filter(pk=locked.pk).update(
                pdf=saved, pdf_sha256=digest, pdf_restored_at=now
            )
        audit_record(
            actor=actor,
            action="statement.pdf_restore",
            obj=locked,
            changes={
                "pdf": {"before": before["pdf"], "after": saved},
                "pdf_sha256": {"before": before["pdf_sha256"], "after": digest},
            },
            reason=f"The stored PDF was {problem}; re-rendered from the statement's snapshot "
            f"({outcome}).",
            at=now,
        )
    log.warning(
        "statement %s: stored PDF was %s, re-rendered (%s) as %s",
        locked.number,
        problem,
        outcome,
        saved,
        extra={"statement_id": locked.pk, "problem": problem, "outcome": outcome},
    )
    statement.refresh_from_db()
    return outcome
