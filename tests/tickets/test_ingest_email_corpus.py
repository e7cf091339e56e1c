"""Every message of CPython's own e-mail test corpus (odd MIME, broken headers, old mail
clients' habits) piped through ``manage.py ingest_email``, once from an unknown sender
and once from a customer's person: each is taken in (0) or refused (65), never a
failure to retry (75) nor a traceback, and a refusal saves nothing."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from tests.support.mail_helpers import ingest, saved, stored_files
from tickets.models import Ticket

CORPUS = Path(email.__file__).parent.parent / "test" / "test_email" / "data"
MESSAGES = sorted(CORPUS.glob("msg_*.txt")) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(
    not MESSAGES,
    reason=f"no msg_*.txt in {CORPUS}: this Python was installed without its test package",
)

FROM_HEADER = re.compile(rb"^From:[^\n]*\n(?:[ \t][^\n]*\n)*", re.I | re.M)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def from_header_rewritten(raw: bytes, sender: str) -> bytes:
    """``raw`` with ``sender`` as its only From header (kept below an mbox "From " line)."""
    raw = raw.replace(b"\r\n", b"\n")
    head, blank, body = raw.partition(b"\n\n")
    head = FROM_HEADER.sub(b"", head + b"\n")
    envelope = b""
    if head.startswith(b"From "):
        envelope, _, head = head.partition(b"\n")
        envelope += b"\n"
    return envelope + f"From: {sender}\n".encode() + head.rstrip(b"\n") + b"\n" + blank + body


def pipe_all(messages: list[tuple[str, bytes]], media, caplog) -> list[str]:
    """Each message through the command; what went wrong, one line per message."""
    problems = []
    for name, raw in messages:
        before, files_before = saved(), len(stored_files(media))
        caplog.clear()
        try:
            ingest(raw)
        except CommandError as exc:
            if exc.returncode != 65:
                problems.append(f"{name}: exit {exc.returncode}: {exc}")
            elif (saved(), len(stored_files(media))) != (before, files_before):
                problems.append(f"{name}: refused, but {before} became {saved()}")
        traced = [r.getMessage() for r in caplog.records if r.exc_info]
        if traced:
            problems.append(f"{name}: a traceback was logged: {traced[0]}")
    return problems


def test_the_corpus_from_an_unknown_sender(db, caplog, media):
    messages = [(path.name, path.read_bytes()) for path in MESSAGES]
    assert pipe_all(messages, media, caplog) == []


def test_the_corpus_from_a_customers_person(customer_user, tiered_contract, caplog, media):
    customer_user.email = "dana.reyes@customer.test"
    customer_user.save(update_fields=["email"])
    messages = [
        (path.name, from_header_rewritten(path.read_bytes(), "Dana <dana.reyes@customer.test>"))
        for path in MESSAGES
    ]
    assert pipe_all(messages, media, caplog) == []
    # The rewrite worked: most of the corpus became the person's own tickets.
    assert Ticket.objects.filter(requester=customer_user).count() >= len(MESSAGES) // 2
