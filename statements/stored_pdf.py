"""The stored PDF of a statement, checked before it is served: its SHA-256 must equal
the one recorded when it was rendered (``Statement.pdf_sha256``). A file changed in
storage (``altered``) or gone or unreadable (``missing``) is logged and never served; the
pages answer an error page (409 / 503), the API a JSON error, and staff may re-render it
(``statements.services.statement_pdf_restore``)."""

from __future__ import annotations

import hashlib
import logging

from slaportal.storage import unavailable_errors
from statements.models import Statement

log = logging.getLogger(__name__)

ALTERED = "altered"
MISSING = "missing"
STATUS = {ALTERED: 409, MISSING: 503}
MESSAGES = {
    ALTERED: "The stored PDF of this statement does not match the document that was "
    "issued (its SHA-256 checksum differs), so it is not served.",
    MISSING: "The stored PDF of this statement is missing from storage, so it cannot be "
    "served right now.",
}


class StoredPdfError(Exception):
    def __init__(self, statement: Statement, problem: str) -> None:
        super().__init__(MESSAGES[problem])
        self.statement = statement
        self.problem = problem
        self.status = STATUS[problem]
        self.message = MESSAGES[problem]


def read_stored(statement: Statement) -> bytes:
    """The stored PDF's bytes, whose SHA-256 matches the recorded one; else raises
    ``StoredPdfError`` (after logging it)."""
    try:
        with statement.pdf.open("rb") as stored:
            content = stored.read()
    except FileNotFoundError:
        log.error(
            "statement %s: stored PDF %s is missing",
            statement.number,
            statement.pdf.name,
            extra={"statement_id": statement.pk, "problem": MISSING},
        )
        raise StoredPdfError(statement, MISSING) from None
    except unavailable_errors() as exc:
        # The store did not answer (a bucket unreachable, refused credentials): the file
        # cannot be served right now, which is what "missing" answers (503).
        log.error(
            "statement %s: stored PDF %s could not be read: %s: %s",
            statement.number,
            statement.pdf.name,
            type(exc).__name__,
            exc,
            extra={"statement_id": statement.pk, "problem": MISSING},
        )
        raise StoredPdfError(statement, MISSING) from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != statement.pdf_sha256:
        log.error(
            "statement %s: stored PDF %s was altered (sha256 %s, recorded %s)",
            statement.number,
            statement.pdf.name,
            digest,
            statement.pdf_sha256,
            extra={"statement_id": statement.pk, "problem": ALTERED},
        )
        raise StoredPdfError(statement, ALTERED)
    return content


def stored_problem(statement: Statement) -> str | None:
    """``altered``, ``missing`` or None (intact, or nothing stored yet), for the staff page."""
    if not statement.pdf:
        return None
    try:
        read_stored(statement)
    except StoredPdfError as error:
        return error.problem
    return None
