"""Inbound e-mail from a hosted mailbox over IMAP: ``manage.py fetch_email``, and the
``tickets.tasks.fetch_email`` tick every minute when ``IMAP_URL`` is set (README
"Inbound e-mail"). The other way in, a mail server piping to ``ingest_email``, follows
the same rules (``tickets.services.inbound``).

Each message in the folder the URL names is handed, as the bytes the server keeps, to
``ticket_ingest_email``, then moved out of it: taken in, a duplicate or an ignored
auto-reply to ``IMAP_PROCESSED_FOLDER``; refused (nothing saved) to
``IMAP_REJECTED_FOLDER``, where someone should look, as no bounce tells the sender.

The ticket is committed before the message moves, so a crash in between leaves the
message in the inbox and the next run takes it in again: the (Message-ID, sender) claim
makes that a duplicate, which is then moved. (A message with no Message-ID has no such
claim; mail servers add one.) When the database is unavailable the run stops and
leaves the rest for the next one; a message that fails for any other reason (a bug)
stays in the inbox too, logged, and the run goes on with the next message.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError
from imap_tools import AND, BaseMailBox, ImapToolsError, MailBox, MailBoxUnencrypted, MailMessage

from tickets.services import InboundRejected, ticket_ingest_email

log = logging.getLogger("tickets.inbound")

TIMEOUT_SECONDS = 30
# What a broken connection, a refused login or a failed IMAP command raises.
MAILBOX_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError)


class MailboxUnavailable(Exception):
    """The mailbox cannot be reached, or refused a command; messages not yet moved stay
    in the inbox for the next run."""


@dataclass(frozen=True)
class MailboxAddress:
    host: str
    port: int
    user: str
    password: str
    folder: str
    encrypted: bool

    def __str__(self) -> str:  # no password: this goes into logs and error messages
        scheme = "imaps" if self.encrypted else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


@dataclass
class FetchResult:
    taken_in: int = 0
    duplicates: int = 0
    ignored: int = 0
    rejected: int = 0
    left: int = 0  # not handled in this run: still in the inbox for the next one

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.taken_in} taken in, {self.duplicates} duplicates, {self.ignored} ignored, "
            f"{self.rejected} rejected, {self.left} left in the inbox"
        )


class _RawMessage(MailMessage):
    """A fetched message that keeps the server's bytes: ``obj.as_bytes()`` would be
    Python's re-serialisation of it (LF line ends, headers refolded), not the mail."""

    def __init__(self, fetch_data: list) -> None:
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]
        super().__init__(fetch_data)


def mailbox_address(url: str) -> MailboxAddress:
    """``imap://user:password@host:143/INBOX`` or ``imaps://…:993/INBOX`` (user and
    password percent-encoded; the folder defaults to INBOX)."""
    parts = urlsplit(url)
    encrypted = parts.scheme == "imaps"
    try:
        port = parts.port or (993 if encrypted else 143)
    except ValueError as exc:
        raise MailboxUnavailable(f"IMAP_URL has a bad port: {exc}") from None
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise MailboxUnavailable("IMAP_URL must be imap[s]://user:password@host[:port]/folder")
    return MailboxAddress(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.strip("/")) or "INBOX",
        encrypted=encrypted,
    )


def _open(address: MailboxAddress) -> BaseMailBox:
    if address.encrypted:
        # imaplib's own default context verifies no certificate: ask for the usual checks.
        context = ssl.create_default_context()
        mailbox = MailBox(address.host, address.port, timeout=TIMEOUT_SECONDS, ssl_context=context)
    else:
        mailbox = MailBoxUnencrypted(address.host, address.port, timeout=TIMEOUT_SECONDS)
    try:
        mailbox.login(address.user, address.password, initial_folder=address.folder)
        # imaplib keeps the capabilities announced before login, which often lack MOVE;
        # then imap-tools "moves" by copy, delete and EXPUNGE, which is not atomic.
        status, data = mailbox.client.capability()
        if status == "OK" and data and data[-1]:
            capabilities = data[-1].decode("ascii", "replace").upper().split()
            mailbox.client.capabilities = tuple(capabilities)
        for folder in (settings.IMAP_PROCESSED_FOLDER, settings.IMAP_REJECTED_FOLDER):
            if not mailbox.folder.exists(folder):
                mailbox.folder.create(folder)
                mailbox.folder.subscribe(folder, True)  # so that mail clients show it
    except BaseException:
        _close(mailbox)
        raise
    return mailbox


def _close(mailbox: BaseMailBox) -> None:
    try:
        mailbox.logout()
    except MAILBOX_ERRORS:
        pass  # the connection is gone already; nothing was left half-done on the server


def _take_in(raw: bytes, now: datetime | None, result: FetchResult) -> tuple[str | None, str]:
    """Where the message goes (None: it stays in the inbox) and a line saying why."""
    try:
        outcome = ticket_ingest_email(raw=raw, now=now)
    except InboundRejected as exc:
        result.rejected += 1
        return settings.IMAP_REJECTED_FOLDER, "refused: " + " ".join(str(exc).split())
    except (OperationalError, InterfaceError):
        raise  # the database is unavailable: the caller stops the run
    except Exception as exc:
        log.exception("inbound mail not taken in; it stays in the mailbox for the next run")
        return None, f"not taken in ({exc.__class__.__name__}); left in the inbox"
    if outcome.action == "duplicate":
        result.duplicates += 1
    elif outcome.action == "ignored":
        result.ignored += 1
    else:
        result.taken_in += 1
    return settings.IMAP_PROCESSED_FOLDER, outcome.detail


def mailbox_fetch(
    *,
    now: datetime | None = None,
    report: Callable[[str], None] | None = None,
    budget_seconds: float | None = None,
) -> FetchResult:
    """Take in every message of the ``IMAP_URL`` folder and move it on (see the module
    docstring). ``report`` gets a line per message; after ``budget_seconds`` no new
    message is started, so that a minute's run ends before the next one begins.

    Raises ``MailboxUnavailable`` when the mailbox cannot be reached or fails a command.
    """
    if not settings.IMAP_URL:
        raise MailboxUnavailable("IMAP_URL is not set")
    address = mailbox_address(settings.IMAP_URL)
    result = FetchResult()
    started = time.monotonic()
    try:
        mailbox = _open(address)
    except MAILBOX_ERRORS as exc:
        raise MailboxUnavailable(f"{address}: {exc.__class__.__name__}: {exc}") from exc
    try:
        mailbox.email_message_class = _RawMessage
        # UNDELETED: a message someone deleted but did not expunge is not new mail.
        uids = mailbox.uids(AND(deleted=False))
        # BODY.PEEK (mark_seen=False): a message left behind stays unread for people too;
        # one at a time (bulk=False), so a full mailbox is never all in memory.
        messages = mailbox.fetch(uid_list=uids, mark_seen=False, bulk=False) if uids else []
        for message in messages:
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                break
            try:
                folder, line = _take_in(message.raw, now, result)
            except (OperationalError, InterfaceError) as exc:
                # Every other message would fail the same way: stop, keep them all.
                reason = " ".join(str(exc).split())
                log.error("inbound mail not taken in (database unavailable: %s)", reason)
                if report:
                    report(f"UID {message.uid}: database unavailable; left in the inbox")
                break
            if folder is not None:
                mailbox.move(message.uid, folder)
                line += f" → {folder}"
            if report:
                report(f"UID {message.uid}: {line}")
    except MAILBOX_ERRORS as exc:
        raise MailboxUnavailable(f"{address}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        _close(mailbox)
    handled = result.taken_in + result.duplicates + result.ignored + result.rejected
    result.left = len(uids) - handled
    log.info("mailbox %s: %s", address, result)
    return result
