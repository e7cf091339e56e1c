"""Inbound e-mail: one RFC 822 message becomes a ticket or a reply (``manage.py
ingest_email``, which the mail server pipes each message to; README "Inbound e-mail").

The sender is the From address. An active customer person files a ticket for their
organisation (severity from a ``[Sev 2]`` tag or a ``Severity: 2`` line, else
``DEFAULT_SEVERITY``); anyone else but support staff gets a severity 4 ticket marked
unregistered, as the SLA says. A subject with a ticket reference (``T-000123``) is a
reply, if the sender may post on that ticket (its organisation's people, support staff,
the address an unregistered ticket came from); any other reference is refused with one
message, so a bounce never tells which tickets exist.

Refused mail (no From, unreadable, no subject and no text, a reply to a closed ticket, a
reference the sender may not use) raises ``InboundRejected`` and saves nothing: one
transaction, which first claims the Message-ID so that a message delivered twice is
taken in once. Auto-replies and bounces are ignored: an out-of-office answer to our own
notification must not loop back as a ticket.

A refused attachment (too large, a refused type, one too many) does not refuse the mail:
the issue was reported and its clock runs, so the ticket is kept without that file and
its text says which file was left out and why, for the customer and the agent alike.
"""

from __future__ import annotations

import email
import email.policy
import html
import logging
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import MessageError
from email.message import EmailMessage

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError
from django.utils.html import strip_tags

from contracts.models import User
from tickets.attachments import check_uploads
from tickets.models import Attachment, Channel, InboundEmail, Ticket, TicketMessage
from tickets.models.tickets import ticket_pk_from_reference
from tickets.selectors import is_support_staff
from tickets.services._common import SUBJECT_MAX, atomic_with_files, now_or
from tickets.services.conversation import ticket_reply
from tickets.services.filing import ticket_file, ticket_from_unregistered_sender

log = logging.getLogger("tickets.inbound")

# No policy field names a default severity for mail; 3 is the middle of the table for a
# customer who did not say (staff reclassify on reading it, as the SLA allows).
DEFAULT_SEVERITY = 3
SEVERITY_IN_SUBJECT = re.compile(r"\[\s*sev(?:erity)?\s*[:#=-]?\s*([1-4])\s*\]", re.I)
SEVERITY_WORDS = re.compile(r"\bsev(?:erity)?\s*[:#=-]?\s*([1-4])\b", re.I)
SEVERITY_LINE = re.compile(r"^[ \t]*severity[ \t]*[:=][ \t]*([1-4])\b", re.I | re.M)
ON_WROTE = re.compile(r"^\s*(On\b.*\bwrote:|Le\b.*\ba écrit\s*:|Am\b.*\bschrieb\b.*:)\s*$")
ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}\s*$", re.I)
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "auto_reply"}
# A signed mail's signature is not a file anyone sent us; no note that it was left out.
SIGNATURES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}


class InboundRejected(Exception):
    """A message refused as it stands; ``str()`` is the reason for the log and the bounce."""


@dataclass(frozen=True)
class InboundOutcome:
    action: str  # "created", "replied", "duplicate" or "ignored"
    detail: str
    ticket: Ticket | None = None
    reply: TicketMessage | None = None
    left_out: tuple[str, ...] = ()


@dataclass
class ParsedMail:
    sender: str
    subject: str
    body: str
    message_id: str
    automatic: str = ""  # why it is an automatic message; empty for a person's mail
    files: list[SimpleUploadedFile] = field(default_factory=list)


# ---------------------------------------------------------------- reading the message


def _one_line(value: str) -> str:
    return " ".join(str(value or "").split())


def _sender(message: EmailMessage) -> str:
    header = message.get("From")
    if header is None or not str(header).strip():
        raise InboundRejected("The message has no From address.")
    addresses = [a.addr_spec for a in getattr(header, "addresses", ()) if "@" in a.addr_spec]
    if len(addresses) != 1:
        raise InboundRejected(f"The From header names no single address: {_one_line(header)!r}.")
    address = addresses[0].strip().lower()
    try:
        validate_email(address)
        if len(address) > InboundEmail._meta.get_field("sender").max_length:
            raise ValidationError("too long")
    except ValidationError as exc:
        raise InboundRejected(f"{address!r} is not an e-mail address.") from exc
    return address


def _automatic(message: EmailMessage, sender: str) -> str:
    """Why this is mail no person wrote (RFC 3834 and common practice); empty if it is not."""
    submitted = _one_line(message.get("Auto-Submitted", "")).lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = _one_line(message.get("Precedence", "")).lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return name
    if _one_line(message.get("Return-Path", "")) == "<>" or sender.startswith("mailer-daemon@"):
        return "a bounce"
    return ""


def _text(part: EmailMessage) -> str:
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset: keep what we can
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", "", text)
        text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h\d)\s*>", "\n", text)
        text = html.unescape(strip_tags(text))
    return text


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _files(part: EmailMessage, body: EmailMessage | None) -> Iterator[tuple[str, bytes, str]]:
    """(file name, bytes, content type) of every attached file, depth first."""
    if part is body or part.get_content_type() in SIGNATURES:
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822":  # a forwarded e-mail stays whole, as an .eml
        inner = part.get_payload(0)
        name = part.get_filename() or f"{_one_line(inner.get('Subject', '')) or 'message'}.eml"
        yield name, inner.as_bytes(), content_type
        return
    if part.is_multipart():
        for sub in part.iter_parts():
            yield from _files(sub, body)
        return
    name = part.get_filename()
    if not name and part.get_content_disposition() != "attachment":
        return  # the other half of a text/html alternative, or an unnamed inline part
    data = part.get_payload(decode=True) or b""
    name = name or f"attachment{mimetypes.guess_extension(content_type) or ''}"
    yield name, data, content_type


def parse_mail(raw: bytes) -> ParsedMail:
    """The parts of a message we use; ``InboundRejected`` when it cannot be read."""
    if not raw or not raw.strip():
        raise InboundRejected("The message is empty.")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = _sender(message)
        body_part = message.get_body(preferencelist=("plain", "html"))
        mail = ParsedMail(
            sender=sender,
            subject=_one_line(message.get("Subject", "")),
            body=_tidy(_text(body_part)) if body_part is not None else "",
            message_id=_one_line(message.get("Message-ID", ""))[:998],
            automatic=_automatic(message, sender),
        )
        for name, data, content_type in _files(message, body_part):
            mail.files.append(SimpleUploadedFile(name, data, content_type=content_type))
    except InboundRejected:
        raise
    except (MessageError, ValueError, TypeError, LookupError, IndexError) as exc:
        raise InboundRejected(f"The message could not be read ({exc}).") from exc
    return mail


# ---------------------------------------------------------------- what the text says


def severity_and_subject(subject: str, body: str) -> tuple[int, str]:
    """The severity the sender asked for (``DEFAULT_SEVERITY`` when they did not), and
    the subject without a ``[Sev N]`` tag."""
    tag = SEVERITY_IN_SUBJECT.search(subject)
    if tag:
        return int(tag.group(1)), _one_line(SEVERITY_IN_SUBJECT.sub(" ", subject, count=1))
    found = SEVERITY_WORDS.search(subject) or SEVERITY_LINE.search(body)
    return (int(found.group(1)) if found else DEFAULT_SEVERITY), subject


def without_quoted_tail(text: str) -> str:
    """A reply without the thread it quotes below it (``> …`` lines under "On … wrote:",
    or an "Original Message" block); the whole text if nothing else is left."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if ORIGINAL.match(line):
            lines = lines[:index]
            break
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if end < len(lines) and end and ON_WROTE.match(lines[end - 1]):
        end -= 1
    return "\n".join(lines[:end]).strip() or text


def _subject(text: str) -> str:
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 1].rstrip() + "…"


def _checked_files(files: list[SimpleUploadedFile]) -> tuple[list, list[str]]:
    """The files the attachment rules accept, and a line for each one left out."""
    kept, left_out = [], []
    for file in files:
        _, errors = check_uploads([file])
        if errors:
            left_out.extend(errors)
        else:
            kept.append(file)
    limit = settings.TICKET_ATTACHMENTS_PER_MESSAGE
    if len(kept) > limit:
        names = ", ".join(f.name for f in kept[limit:])
        left_out.append(f"at most {limit} files are kept per message; left out: {names}.")
        kept = kept[:limit]
    return kept, left_out


def _with_notes(text: str, left_out: list[str]) -> str:
    notes = "\n".join(f"[Attachment not kept: {line}]" for line in left_out)
    return "\n\n".join(part for part in (text, notes) if part)


# ---------------------------------------------------------------- who wrote it


def registered_sender(address: str) -> User | None:
    """The active person behind an address: a customer person (the first, when several
    of one organisation share it) or support staff; None for anyone else, and for an
    address that people of two organisations share (we cannot tell whose issue it is)."""
    people = list(User.objects.filter(email__iexact=address, is_active=True).order_by("pk"))
    customer_people = [p for p in people if p.customer_id]
    if len({p.customer_id for p in customer_people}) > 1:
        log.warning("%s belongs to people of several customers; taken as unregistered", address)
        return None
    if customer_people:
        return customer_people[0]
    return next((p for p in people if is_support_staff(p)), None)


def _no_such_ticket(reference: str, sender: str) -> InboundRejected:
    return InboundRejected(
        f"There is no ticket {reference} that {sender} may reply to. "
        "To report a new issue, write without the ticket reference in the subject."
    )


def _reply(mail: ParsedMail, pk: int, person: User | None, now: datetime) -> InboundOutcome:
    reference = f"T-{pk:06d}"
    ticket = Ticket.objects.filter(pk=pk).first()
    if ticket is None:
        raise _no_such_ticket(reference, mail.sender)
    if person is not None:
        allowed = is_support_staff(person) or person.customer_id == ticket.customer_id
    else:
        allowed = ticket.sender_email.lower() == mail.sender
    if not allowed:
        raise _no_such_ticket(reference, mail.sender)
    files, left_out = _checked_files(mail.files)
    body = without_quoted_tail(mail.body) or ("(Files sent by e-mail.)" if files else "")
    if not body:
        raise InboundRejected(f"The reply to {reference} has no text.")
    reply = ticket_reply(
        ticket=ticket,
        actor=person,
        body=_with_notes(body, left_out),
        attachments=files,
        channel=Channel.EMAIL,
        sender_email=mail.sender if person is None else "",
        now=now,
    )
    detail = f"reply on {reference} from {mail.sender}"
    return InboundOutcome("replied", detail, ticket, reply, tuple(left_out))


def _new_ticket(mail: ParsedMail, person: User | None, now: datetime) -> InboundOutcome:
    if person is not None and not person.customer_id:
        raise InboundRejected(
            "Support staff log tickets in the back office; by e-mail they can only reply "
            "on a ticket, with its reference in the subject."
        )
    severity, subject = severity_and_subject(mail.subject, mail.body)
    subject = _subject(subject or mail.body.split("\n", 1)[0].strip() or "(no subject)")
    files, left_out = _checked_files(mail.files)
    description = _with_notes(mail.body or subject, left_out)
    common = {"subject": subject, "description": description, "attachments": files, "now": now}
    if person is None:
        ticket = ticket_from_unregistered_sender(
            sender_email=mail.sender, channel=Channel.EMAIL, **common
        )
    else:
        ticket = ticket_file(
            actor=person, service=None, severity=severity, channel=Channel.EMAIL, **common
        )
    detail = f"created {ticket.reference} (severity {ticket.severity}) from {mail.sender}"
    if ticket.unregistered_sender:
        detail += " as unregistered"
    return InboundOutcome("created", detail, ticket, None, tuple(left_out))


# ---------------------------------------------------------------- the service


def _duplicate(mail: ParsedMail) -> InboundOutcome | None:
    if not mail.message_id:
        return None
    seen = InboundEmail.objects.filter(message_id=mail.message_id).select_related("ticket")
    first = seen.first()
    if first is None:
        return None
    detail = f"{mail.message_id} was already taken in ({first.ticket.reference}); nothing new"
    return InboundOutcome("duplicate", detail, first.ticket, first.reply)


def _take_in(mail: ParsedMail, now: datetime) -> InboundOutcome:
    if not mail.subject and not mail.body:
        raise InboundRejected("The message has neither a subject nor any text.")
    with atomic_with_files() as stored:
        # Claim the Message-ID before writing anything: a second delivery of the same
        # message waits here for the first and then fails on the unique constraint.
        claim = InboundEmail.objects.create(
            message_id=mail.message_id, sender=mail.sender, received_at=now
        )
        person = registered_sender(mail.sender)
        pk = ticket_pk_from_reference(mail.subject)
        if pk is not None:
            outcome = _reply(mail, pk, person, now)
        else:
            outcome = _new_ticket(mail, person, now)
        # The services remove their files if they fail; these are for a failure after.
        files = Attachment.objects.filter(ticket=outcome.ticket, message=outcome.reply)
        stored.extend(files.values_list("file", flat=True))
        claim.ticket, claim.reply = outcome.ticket, outcome.reply
        claim.save(update_fields=["ticket", "reply"])
    return outcome


def ticket_ingest_email(*, raw: bytes, now: datetime | None = None) -> InboundOutcome:
    """Take in one RFC 822 message (see the module docstring for the rules).

    Returns what became of it; raises ``InboundRejected`` for mail refused as it stands
    (nothing saved, the reason logged).
    """
    now = now_or(now)
    mail = None
    try:
        mail = parse_mail(raw)
        if mail.automatic:
            outcome = InboundOutcome("ignored", f"automatic mail ({mail.automatic}) ignored")
        else:
            outcome = _duplicate(mail)
            if outcome is None:
                try:
                    outcome = _take_in(mail, now)
                except IntegrityError:
                    outcome = _duplicate(mail)  # the other delivery won the claim
                    if outcome is None:
                        raise
    except (ValidationError, PermissionDenied, InboundRejected) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        origin = f"{mail.message_id or '(no Message-ID)'} from {mail.sender}" if mail else ""
        log.warning("inbound mail %s rejected: %s", origin or "(unreadable)", reason)
        raise InboundRejected(reason) from exc
    log.info("inbound mail %s: %s", mail.message_id or "(no Message-ID)", outcome.detail)
    for line in outcome.left_out:
        log.warning("inbound mail %s: attachment not kept: %s", mail.message_id, line)
    return outcome
