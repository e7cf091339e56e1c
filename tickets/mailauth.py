"""Whether our own mail server vouches for a message's sender: its
``Authentication-Results`` headers (RFC 8601). Pure Python, no ORM.

Anyone can write any From address, and anyone can write an ``Authentication-Results``
header too. Only a header our relay added means something: the relay adds its own at the
top of the message (RFC 8601 §5), above everything the sender wrote, and must remove
or rename any header that arrives carrying its name. So the headers are read from the
top, and only the first ones carrying the relay's name (one per checking filter, e.g.
DKIM and SPF) count; the first header naming anyone else ends what we trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["AuthResult", "parse_authentication_results", "relay_vouches_for"]


@dataclass(frozen=True)
class AuthResult:
    """One method's result, e.g. ``dkim=pass header.d=provider.test``."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


def _without_comments(value: str) -> str:
    """``value`` with each ``(comment)`` made a space; quoted strings kept as they are."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if not depth:
                out.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
            if not depth:
                out.append(char)
        elif quoted:
            out.append(char)
            quoted = char != '"'
        elif char == "(":
            depth += 1
            if depth == 1:
                out.append(" ")
        elif depth:
            if char == ")":
                depth -= 1
        elif char == ")":
            raise ValueError("a ) without its (")
        else:
            out.append(char)
            quoted = char == '"'
    if depth or quoted:
        raise ValueError("an unclosed comment or quoted string")
    return "".join(out)


def _split(text: str, separators: str) -> list[str]:
    """``text`` cut at each of ``separators`` outside a quoted string."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char in separators and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _pairs(section: str) -> list[tuple[str, str]]:
    """The ``name=value`` pairs of one result, whitespace allowed around "=" (CFWS);
    a value is everything up to the next space, "=" included (an SRS address has some)."""
    words = [word for word in _split(section, " ") if word]
    pairs: list[tuple[str, str]] = []
    index = 0
    while index < len(words):
        name, equals, value = words[index].partition("=")
        index += 1
        if not equals and index < len(words) and words[index].startswith("="):
            equals, value = "=", words[index][1:]  # "dkim =pass", "dkim = pass"
            index += 1
        if not equals:
            if name.lower() == "none" and not pairs and len(words) == 1:
                return []  # "authserv-id; none": no method was applied
            raise ValueError(f"{name!r} is not name=value")
        if not value and index < len(words):
            value = words[index]  # "dkim= pass"
            index += 1
        if not name or not value:
            raise ValueError("a name or a value is missing")
        pairs.append((name.lower(), _unquoted(value)))
    return pairs


def parse_authentication_results(value: str) -> tuple[str, list[AuthResult]]:
    """The authserv-id (lower case) and the results of one header's value;
    ``ValueError`` when it is not an RFC 8601 value."""
    text = _without_comments(" ".join(value.split()))
    head, *sections = _split(text, ";")
    words = _split(head.strip(), " ")
    authserv_id = _unquoted(words[0]).lower()
    if not authserv_id:
        raise ValueError("no authserv-id")
    results = []
    for section in sections:
        pairs = _pairs(section)
        if not pairs:
            continue
        (method, result), properties = pairs[0], dict(pairs[1:])
        properties.pop("reason", None)
        # "dkim/1=pass": the method's version says nothing about the result.
        results.append(AuthResult(method.split("/", 1)[0], result.lower(), properties))
    return authserv_id, results


def _domain(value: str) -> str:
    return value.strip().strip("<>").rpartition("@")[2].rstrip(".").lower()


def _passes_for(result: AuthResult, domain: str) -> bool:
    if result.result != "pass":
        return False
    if result.method == "dkim":
        # d= is the signing domain; i= (an address or @domain) only when d= is missing.
        signer = result.properties.get("header.d") or result.properties.get("header.i", "")
        return _domain(signer) == domain
    if result.method == "spf":
        # The envelope sender's domain; a HELO name says nothing about who wrote the mail.
        return _domain(result.properties.get("smtp.mailfrom", "")) == domain
    return False


def relay_vouches_for(headers: Iterable[str], *, relay: str, domain: str) -> bool:
    """Whether the relay ``relay`` (its authserv-id) found DKIM or SPF passing for
    ``domain``, in the ``Authentication-Results`` header values ``headers`` as they
    stand in the message, top first. An empty relay or domain trusts nothing."""
    relay, domain = relay.strip().lower(), domain.strip().lower().rstrip(".")
    if not relay or not domain:
        return False
    for value in headers:
        try:
            authserv_id, results = parse_authentication_results(value)
        except ValueError:
            return False  # unreadable: we cannot tell whose it is, so the trust ends here
        if authserv_id != relay:
            return False  # written before our relay saw the message: anyone could have
        if any(_passes_for(result, domain) for result in results):
            return True
    return False
