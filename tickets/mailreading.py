"""Reading an inbound e-mail: the parts of one RFC 822 message that
``tickets.services.inbound`` uses, and what its text says (severity, the reply without
the thread it quotes, which mail-parser-reply finds). Pure Python, no database.

Whatever the bytes, reading either returns text every column can hold or raises
``InboundRejected`` with a one-line reason: a NUL byte, text no charset decodes to
storable characters, or a message the standard library's parser fails on is the
message's fault, never a failure on our side to retry.
"""

from __future__ import annotations

import email
import email.policy
import html
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.utils.html import strip_tags
from mailparser_reply import EmailMessage as QuotedThread

from tickets.models import InboundEmail

# No policy field names a default severity for mail; 3 is the middle of the table for a
# customer who did not say (staff reclassify on reading it, as the SLA allows).
DEFAULT_SEVERITY = 3
SEVERITY_IN_SUBJECT = re.compile(r"\[\s*sev(?:erity)?\s*[:#=-]?\s*([1-4])\s*\]", re.I)
SEVERITY_WORDS = re.compile(r"\bsev(?:erity)?\s*[:#=-]?\s*([1-4])\b", re.I)
SEVERITY_LINE = re.compile(r"^[ \t]*severity[ \t]*[:=][ \t]*([1-4])\b", re.I | re.M)
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "auto_reply"}
# A signed mail's signature is not a file anyone sent us; no note that it was left out.
SIGNATURES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}


class InboundRejected(Exception):
    """A message refused as it stands; ``str()`` is the reason for the log and the bounce."""


@dataclass
class ParsedMail:
    sender: str
    subject: str
    body: str
    message_id: str
    automatic: str = ""  # why it is an automatic message; empty for a person's mail
    files: list[SimpleUploadedFile] = field(default_factory=list)
    # The Authentication-Results header values, top first (tickets.mailauth).
    authentication_results: tuple[str, ...] = ()
    # The Message-IDs it answers (In-Reply-To, then References): finds the ticket of a
    # reply whose subject lost its reference (tickets.mailthread).
    thread_ids: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()  # the Cc addresses: registered colleagues become watchers


# ---------------------------------------------------------------- reading the message


def one_line(value: str) -> str:
    return " ".join(str(value or "").split())


def _sender(message: EmailMessage) -> str:
    header = message.get("From")
    if header is None or not str(header).strip():
        raise InboundRejected("The message has no From address.")
    addresses = [a.addr_spec for a in getattr(header, "addresses", ()) if "@" in a.addr_spec]
    if len(addresses) != 1:
        raise InboundRejected(f"The From header names no single address: {one_line(header)!r}.")
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
    submitted = one_line(message.get("Auto-Submitted", "")).lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = one_line(message.get("Precedence", "")).lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return name
    if one_line(message.get("Return-Path", "")) == "<>" or sender.startswith("mailer-daemon@"):
        return "a bounce"
    return ""


def _text(part: EmailMessage) -> str:
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset: keep what we can
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", "", text)
        # HTML's rule: a run of spaces and line breaks in the source is one space, but in
        # <pre>. Outlook's "<b>From:</b> …<br>\r\n<b>Sent:</b>" is one line break, and
        # its header block is found only if its lines follow one another.
        text = "".join(
            chunk if chunk[:4].lower() == "<pre" else re.sub(r"[ \t\r\n\f]+", " ", chunk)
            for chunk in re.split(r"(?is)(<pre\b.*?</pre\s*>)", text)
        )
        text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h\d)\s*>", "\n", text)
        text = html.unescape(strip_tags(text))
        text = "\n".join(line.strip(" ") for line in text.split("\n"))
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
        name = part.get_filename() or f"{one_line(inner.get('Subject', '')) or 'message'}.eml"
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


def _message_id(message: EmailMessage) -> str:
    # At most 998 bytes, as a header line: the unique index holds it with the sender,
    # and PostgreSQL refuses an index entry past ~2.7 kB (3 bytes per U+FFFD).
    value = one_line(message.get("Message-ID", ""))
    return value.encode("utf-8", "replace")[:998].decode("utf-8", "ignore")


MESSAGE_IDS = re.compile(r"<[^<>\s]{1,500}>")


def _cc(message: EmailMessage) -> tuple[str, ...]:
    """The Cc header's addresses, lower case (at most 50)."""
    header = message.get("Cc")
    found = [a.addr_spec.lower() for a in getattr(header, "addresses", ()) if "@" in a.addr_spec]
    return tuple(dict.fromkeys(found))[:50]


def _thread_ids(message: EmailMessage) -> tuple[str, ...]:
    """The ``<…>`` ids of In-Reply-To and References (at most 50: a long thread's
    References keeps growing, and only ours matter)."""
    text = " ".join(str(message.get(name, "")) for name in ("In-Reply-To", "References"))
    return tuple(dict.fromkeys(MESSAGE_IDS.findall(text)))[:50]


def _storable(mail: ParsedMail) -> None:
    """``InboundRejected`` for text no database column can hold: a NUL character (from
    an encoded word, quoted-printable ``=00``, a ``unicode_escape`` charset) or half a
    UTF-16 pair (``utf-7``), which a lying charset decodes to."""
    texts = [("From address", mail.sender), ("Subject", mail.subject)]
    texts += [("Message-ID", mail.message_id), ("text", mail.body)]
    texts += [("attachment's file name", file.name or "") for file in mail.files]
    for where, text in texts:
        if "\x00" in text:
            raise InboundRejected(f"The message's {where} contains a NUL character.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InboundRejected(f"The message's {where} cannot be decoded as text.") from exc


def parse_mail(raw: bytes) -> ParsedMail:
    """The parts of a message we use; ``InboundRejected`` when it cannot be read."""
    if not raw or not raw.strip():
        raise InboundRejected("The message is empty.")
    if b"\x00" in raw:
        # RFC 5322 allows no NUL anywhere (binary parts travel encoded), and PostgreSQL
        # text cannot hold one: refused as it stands, rather than failing on the insert.
        raise InboundRejected("The message contains a NUL byte, which e-mail may not carry.")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = _sender(message)
        body_part = message.get_body(preferencelist=("plain", "html"))
        mail = ParsedMail(
            sender=sender,
            subject=one_line(message.get("Subject", "")),
            body=_tidy(_text(body_part)) if body_part is not None else "",
            message_id=_message_id(message),
            automatic=_automatic(message, sender),
            authentication_results=tuple(
                str(value) for value in message.get_all("Authentication-Results", ())
            ),
            thread_ids=_thread_ids(message),
            cc=_cc(message),
        )
        for name, data, content_type in _files(message, body_part):
            mail.files.append(SimpleUploadedFile(name, data, content_type=content_type))
    except InboundRejected:
        raise
    except Exception as exc:
        # Not only email.errors: the standard library's header parser raises what it
        # happens to (AttributeError for a group in From, RecursionError for deep
        # nesting); reading touches nothing but the message, so the message is at fault.
        reason = one_line(f"{exc.__class__.__name__}: {exc}")[:200]
        raise InboundRejected(f"The message could not be read ({reason}).") from exc
    _storable(mail)
    return mail


# ---------------------------------------------------------------- what the text says


def severity_and_subject(subject: str, body: str) -> tuple[int, str]:
    """The severity the sender asked for (``DEFAULT_SEVERITY`` when they did not), and
    the subject without a ``[Sev N]`` tag."""
    tag = SEVERITY_IN_SUBJECT.search(subject)
    if tag:
        return int(tag.group(1)), one_line(SEVERITY_IN_SUBJECT.sub(" ", subject, count=1))
    found = SEVERITY_WORDS.search(subject) or SEVERITY_LINE.search(body)
    return (int(found.group(1)) if found else DEFAULT_SEVERITY), subject


# ---------------------------------------------------------------- the reply in a thread

# The languages whose reply headers mail-parser-reply knows ("On … wrote:", Outlook's
# "From: … Sent: …" block and their translations) that we look for. Not Polish: its
# pattern takes one line starting "Data:" or "Do:" for a header, which would cut off
# the rest of a customer's own text. Japanese, Korean and Chinese wait for a customer
# who writes in them.
REPLY_LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "da", "sv", "cs")
# Headers mail-parser-reply 1.36 misses, looked for besides its own: its Spanish pattern
# never matches an unquoted line (its look-ahead refuses what it then asks for), and
# its French one misses Gmail's header wrapped onto a second line ("… <a@b> a\nécrit :").
MORE_HEADERS = {
    ("es", "wrote_header"): r"^((?:> ?)*El\s.+?\s?.+?\s?escribi[óo]\s?:)$",
    ("fr", "wrote_header"): r"^((?:> ?)*Le\s.+?\s?.+?\sa\s[ée]crit\s?:)$",
}
# The library's patterns backtrack: 100 lines of 1,000 characters starting "Am" and full
# of "schrieb" took two minutes, and the time grows faster than the square of a line's
# length. So it reads the first lines only, each cut to the length a header line can
# have (a header further down is not looked for: the text is kept whole). The worst we
# found then: ~4 s for a 6 MB message.
HEADER_LINE_MAX = 200
LINES_READ = 1000
RULE = re.compile(r"[_-]{32,}")  # the rule Outlook draws above its header block
TRAILING_RULE = re.compile(r"[_\-=*~]{10,}")
# A message the sender forwards is what they are telling us, not a quote of our thread.
FORWARDED = re.compile(
    r"^(?:-{2,}\s*(?:Forwarded message|Message transféré|Weitergeleitete Nachricht"
    r"|Mensaje reenviado)\s*-{2,}|Begin forwarded message:|Début du message réexpédié\s?:"
    r"|Anfang der weitergeleiteten Nachricht:|Inicio del mensaje reenviado:)$",
    re.I,
)


class _Thread(QuotedThread):
    """mail-parser-reply's reading of a message, with the headers of ``MORE_HEADERS``."""

    def _get_language_regex(self, language: str, regex_key: str) -> str:
        found = super()._get_language_regex(language=language, regex_key=regex_key)
        more = MORE_HEADERS.get((language, regex_key), "")
        return "|".join(pattern for pattern in (found, more) if pattern)


def _for_reading(lines: list[str]) -> str:
    """The copy of the text the library reads: one line for each of ours, as it would
    leave it (each line stripped; it would delete an Outlook rule under a blank line), so
    that the reply it finds is a number of our lines; no-break spaces as spaces (French
    clients put one before a colon: "De :", "a écrit :"); no line longer than a header's."""
    copy = []
    for line in lines[:LINES_READ]:
        line = RULE.sub("", line.replace("\xa0", " ").replace("\u202f", " ")).strip()
        copy.append(line[:HEADER_LINE_MAX].strip())
    return "\n".join(copy)


def _written_among_quotes(lines: list[str], *, below_too: bool) -> bool:
    """Whether the sender wrote between ``>`` quoted lines (answers inline) or, with
    ``below_too``, below them (a reply under the quote)."""
    quoted = written = False
    for line in lines:
        if line.lstrip().startswith(">"):
            if written:
                return True
            quoted = True
        elif quoted and line.strip():
            written = True
    return written and below_too


def reply_text(text: str) -> str:
    """What the sender wrote above the thread their e-mail quotes (the Outlook header
    block, Gmail's "On … wrote:" and the like, in ``REPLY_LANGUAGES``), with its own line
    breaks and indents: the latest reply as mail-parser-reply finds it, signature and
    disclaimers kept (the library's cut at "Thanks," or at a "- " list item would lose
    text). "" when the text is all quote. The whole ``text`` when nothing is quoted, and
    when cutting would lose what the sender wrote: answers between quoted lines or under
    a quote that opens the text, or a message they forward."""
    lines = text.split("\n")
    copy = _for_reading(lines)
    thread = _Thread(text=copy, languages=list(REPLY_LANGUAGES)).read()
    latest = thread.latest_reply or ""
    if thread.replies[0].headers:  # the text opens with a quoted header
        return text if _written_among_quotes(lines, below_too=True) else ""
    start = len(copy) - len(copy.lstrip())
    if len(thread.replies) == 1 or not copy.startswith(latest, start):
        return text  # nothing quoted (the library's reply is always a start of its text)
    count = copy.count("\n", 0, start + len(latest)) + 1
    kept = lines[:count]
    if FORWARDED.match(copy.split("\n")[count - 1]):
        return text
    if _written_among_quotes(lines[count:], below_too=False):
        return text
    while kept and (not kept[-1].strip() or TRAILING_RULE.fullmatch(kept[-1].strip())):
        kept.pop()
    return "\n".join(kept)
