"""The headers an outbox message carries besides its own: threading, replies, and the
one-click unsubscribe of list-like mail (RFC 2369 ``List-Unsubscribe`` with RFC 8058's
``List-Unsubscribe-Post``: mail clients show an "Unsubscribe" button that POSTs to the
link, and large mailbox providers expect both on bulk mail)."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError


def mail_domain() -> str:
    """The domain of our Message-IDs: the sender address's."""
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"


# Headers a caller may set (threading, replies, unsubscribing); anything else is ours to
# write.
HEADERS = ("In-Reply-To", "References", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post")


def checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(headers) - set(HEADERS))
    if unknown:
        raise ValidationError({"headers": [f"Not a header callers set: {', '.join(unknown)}."]})
    folded = {name: " ".join(str(value).split()) for name, value in headers.items()}
    if any(len(value) > 2000 for value in folded.values()):
        raise ValidationError({"headers": ["A header is too long."]})
    return {name: value for name, value in folded.items() if value}
