"""Inbound e-mail: one RFC 822 message becomes a ticket or a reply (``manage.py
ingest_email``, which the mail server pipes each message to; README "Inbound e-mail").

The message is read by ``tickets.mailreading``. The sender is the From address. An
active customer person files a ticket for their organisation (severity from a
``[Sev 2]`` tag or a ``Severity: 2`` line, else ``DEFAULT_SEVERITY``); anyone else but
support staff gets a severity 4 ticket marked unregistered, as the SLA says. A subject
with a ticket reference (``T-000123``) is a reply, if the sender may post on that ticket
(its organisation's people, support staff, the address an unregistered ticket came
from); any other reference is refused with one message, so a bounce never tells which
tickets exist.

A reply keeps what the sender wrote above the thread their e-mail quotes (Outlook's
"From: … Sent: …" block, "On … wrote:" and their French, German, Spanish… forms, which
``tickets.mailreading.reply_text`` finds with mail-parser-reply); the whole text is kept
beside it, for the agents only, as the message's ``original_text``. A reply that is all
quote has no text of its own.

Anyone can write an agent's address in From. A reply from a staff address is the
support team's (public, the first response) only when our own mail server vouches for
it: an ``Authentication-Results`` header of ``INBOUND_TRUSTED_RELAY`` with DKIM or SPF
passing for ``INBOUND_STAFF_DOMAIN``, the From address's domain (``tickets.mailauth``).
Otherwise the reply is kept on the ticket as a customer-side message marked
``sender_unverified``, which changes nothing else: no clock stops or restarts, no one is
notified.

Refused mail (no From, unreadable, undecodable, a NUL byte, no subject and no text, a
reply to a closed ticket, a reference the sender may not use) raises ``InboundRejected``
and saves nothing: one transaction, which first claims the (Message-ID, sender) pair so
that a message delivered twice is taken in once, while a stranger's mail reusing a
customer's Message-ID is still taken in. Auto-replies and bounces are ignored: an
out-of-office answer to our own notification must not loop back as a ticket.

A refused attachment (too large, a refused type, one too many) does not refuse the mail:
the issue was reported and its clock runs, so the ticket is kept without that file and
its text says which file was left out and why, for the customer and the agent alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, IntegrityError

from contracts.models import User
from tickets.attachments import check_uploads, store_uploads
from tickets.mailauth import relay_vouches_for
from tickets.mailreading import (
    InboundRejected,
    ParsedMail,
    one_line,
    parse_mail,
    reply_text,
    severity_and_subject,
)
from tickets.mailthread import ticket_pk_from_thread
from tickets.models import Attachment, Channel, InboundEmail, Ticket, TicketMessage
from tickets.models.tickets import ticket_pk_from_reference
from tickets.selectors import is_support_staff
from tickets.services._common import SUBJECT_MAX, atomic_with_files, locked, now_or
from tickets.services.conversation import CLOSED_MESSAGE, ticket_reply
from tickets.services.filing import ticket_file, ticket_from_unregistered_sender
from tickets.services.watchers import watchers_from_cc

log = logging.getLogger("tickets.inbound")

__all__ = ["InboundOutcome", "InboundRejected", "ticket_ingest_email"]


@dataclass(frozen=True)
class InboundOutcome:
    action: str  # "created", "replied", "duplicate" or "ignored"
    detail: str
    ticket: Ticket | None = None
    reply: TicketMessage | None = None
    left_out: tuple[str, ...] = ()


# ---------------------------------------------------------------- what becomes of it


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


def vouched_staff_mail(mail: ParsedMail) -> bool:
    """Whether our mail server vouches that this mail comes from the staff domain: the
    From address is in ``INBOUND_STAFF_DOMAIN`` and ``INBOUND_TRUSTED_RELAY``'s
    Authentication-Results say DKIM or SPF passed for that domain. No relay set, no
    trust: then no mail speaks for the support team."""
    relay = getattr(settings, "INBOUND_TRUSTED_RELAY", "") or ""
    domain = (getattr(settings, "INBOUND_STAFF_DOMAIN", "") or "").strip().lower()
    # DKIM or SPF for our domain says nothing about a From address at another domain.
    if not domain or mail.sender.rpartition("@")[2] != domain:
        return False
    return relay_vouches_for(mail.authentication_results, relay=relay, domain=domain)


def _unverified_reply(
    ticket: Ticket,
    mail: ParsedMail,
    body: str,
    original_text: str,
    files: list[SimpleUploadedFile],
    now: datetime,
) -> TicketMessage:
    """A reply From a staff address our mail server did not vouch for: kept, on the
    customer's side of the thread and marked, so the agents see it, but it does not
    speak for the support team (no first response, no notification to the customer) nor
    change the ticket (a forged mail could otherwise restart a paused clock)."""
    uploads, errors = check_uploads(files)
    if errors:  # _checked_files has already left every refused file out
        raise InboundRejected(" ".join(errors))
    with atomic_with_files() as stored:
        ticket = locked(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise InboundRejected(CLOSED_MESSAGE)
        reply = TicketMessage.objects.create(
            ticket=ticket,
            author=None,
            author_email=mail.sender,
            from_staff=False,
            sender_unverified=True,
            body=body,
            original_text=original_text,
            public=True,
            channel=Channel.EMAIL,
            created_at=now,
        )
        store_uploads(uploads, ticket=ticket, message=reply, actor=None, now=now, stored=stored)
    return reply


def _reply(mail: ParsedMail, pk: int, person: User | None, now: datetime) -> InboundOutcome:
    reference = f"T-{pk:06d}"
    ticket = Ticket.objects.filter(pk=pk).first()
    if ticket is None:
        raise _no_such_ticket(reference, mail.sender)
    staff = is_support_staff(person)
    if person is not None:
        allowed = staff or person.customer_id == ticket.customer_id
    else:
        allowed = ticket.sender_email.lower() == mail.sender
    if not allowed:
        raise _no_such_ticket(reference, mail.sender)
    files, left_out = _checked_files(mail.files)
    text = reply_text(mail.body)
    original_text = mail.body if text != mail.body else ""
    body = text or ("(Files sent by e-mail.)" if files else "")
    if not body:
        raise InboundRejected(f"The reply to {reference} has no text.")
    body = _with_notes(body, left_out)
    detail = f"reply on {reference} from {mail.sender}"
    if staff and not vouched_staff_mail(mail):
        reply = _unverified_reply(ticket, mail, body, original_text, files, now)
        detail += " (staff sender not verified: kept as a customer-side message)"
        log.warning("inbound mail %s: %s", mail.message_id or "(no Message-ID)", detail)
    else:
        reply = ticket_reply(
            ticket=ticket,
            actor=person,
            body=body,
            attachments=files,
            channel=Channel.EMAIL,
            sender_email=mail.sender if person is None else "",
            now=now,
        )
        if original_text:  # ticket_reply takes what every channel has; this is mail's alone
            TicketMessage.objects.filter(pk=reply.pk).update(original_text=original_text)
            reply.original_text = original_text
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
            sender_email=mail.sender, channel=Channel.EMAIL, origin=mail.message_id, **common
        )
    else:
        ticket = ticket_file(
            actor=person,
            service=None,
            severity=severity,
            channel=Channel.EMAIL,
            origin=mail.message_id,
            **common,
        )
    detail = f"created {ticket.reference} (severity {ticket.severity}) from {mail.sender}"
    if ticket.unregistered_sender:
        detail += " as unregistered"
    return InboundOutcome("created", detail, ticket, None, tuple(left_out))


# ---------------------------------------------------------------- the service


def _duplicate(mail: ParsedMail) -> InboundOutcome | None:
    if not mail.message_id:
        return None
    # The sender too: a Message-ID is only what the sending client wrote.
    seen = InboundEmail.objects.filter(message_id=mail.message_id, sender=mail.sender)
    seen = seen.select_related("ticket")
    first = seen.first()
    if first is None:
        return None
    detail = f"{mail.message_id} was already taken in ({first.ticket.reference}); nothing new"
    return InboundOutcome("duplicate", detail, first.ticket, first.reply)


def _take_in_once(mail: ParsedMail, now: datetime) -> InboundOutcome:
    outcome = _duplicate(mail)
    if outcome is not None:
        return outcome
    try:
        return _take_in(mail, now)
    except IntegrityError:
        outcome = _duplicate(mail)  # the other delivery won the claim
        if outcome is None:
            raise
        return outcome


def _take_in(mail: ParsedMail, now: datetime) -> InboundOutcome:
    if not mail.subject and not mail.body:
        raise InboundRejected("The message has neither a subject nor any text.")
    with atomic_with_files() as stored:
        # Claim the (Message-ID, sender) pair before writing anything: a second delivery
        # of the same message waits here for the first and then fails on the unique
        # constraint.
        claim = InboundEmail.objects.create(
            message_id=mail.message_id, sender=mail.sender, received_at=now
        )
        person = registered_sender(mail.sender)
        pk = ticket_pk_from_reference(mail.subject)
        if pk is None:  # a reply to one of our e-mails whose subject lost the reference
            pk = ticket_pk_from_thread(mail.thread_ids)
        if pk is not None:
            outcome = _reply(mail, pk, person, now)
        else:
            outcome = _new_ticket(mail, person, now)
        # The services remove their files if they fail; these are for a failure after.
        files = Attachment.objects.filter(ticket=outcome.ticket, message=outcome.reply)
        stored.extend(files.values_list("file", flat=True))
        claim.ticket, claim.reply = outcome.ticket, outcome.reply
        claim.save(update_fields=["ticket", "reply"])
        watchers_from_cc(outcome.ticket, mail.cc)
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
            try:
                outcome = _take_in_once(mail, now)
            except (DataError, UnicodeError) as exc:
                # What parse_mail let through and a column still refuses (a value too
                # long, an encoding): the message's fault, so a bounce, not a retry
                # that would fail the same way for days.
                reason = one_line(str(exc))[:200]
                raise InboundRejected(
                    f"The message could not be stored as it stands ({reason})."
                ) from exc
    except (ValidationError, PermissionDenied, InboundRejected) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        origin = f"{mail.message_id or '(no Message-ID)'} from {mail.sender}" if mail else ""
        log.warning("inbound mail %s rejected: %s", origin or "(unreadable)", reason)
        raise InboundRejected(reason) from exc
    log.info("inbound mail %s: %s", mail.message_id or "(no Message-ID)", outcome.detail)
    for line in outcome.left_out:
        log.warning("inbound mail %s: attachment not kept: %s", mail.message_id, line)
    return outcome
