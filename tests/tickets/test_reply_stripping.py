"""Replies e-mailed by a ticket's requester from Outlook (desktop and web), Gmail, Apple
Mail and Thunderbird, in English, French, German and Spanish: the message keeps what the
sender wrote above the thread their e-mail quotes; the whole e-mail is kept for the
agents, on the desk page behind "Show the whole e-mail", and never shown to the customer
(portal page, API).

Each ``tests/tickets/fixtures/replies/<name>.eml`` answers our notification about ticket
T-000123 on Monday 7 December 2026; ``<name>.expected.txt`` is the reply its sender
wrote and ``<name>.quoted.txt`` a phrase of the thread it quotes."""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerUserFactory, StaffFactory
from tests.support.mail_helpers import mail
from tickets.models import Ticket, TicketMessage
from tickets.services import ticket_file
from tickets.services.inbound import InboundRejected, ticket_ingest_email

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "replies"
NAMES = sorted(path.stem for path in FIXTURES.glob("*.eml"))
# The ticket is filed the Friday before the notification the fixtures answer, and the
# clock stands at the reply: nothing depends on the day the suite runs.
FILED = datetime(2026, 12, 4, 9, tzinfo=UTC)
RECEIVED = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
WHOLE_EMAIL = re.compile(
    r"<details[^>]*>\s*<summary>Show the whole e-mail</summary>\s*<pre[^>]*>(.*?)</pre>", re.S
)
QUOTING = (
    "Thanks.\n\n"
    "On Mon, 7 Dec 2026 at 10:02, Sam Support <support@provider.test> wrote:\n"
    "> Could you restart the search indexer?\n"
)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(RECEIVED, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def flat(text: str) -> str:
    return " ".join(text.split())


def sender_of(raw: bytes) -> str:
    return email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses[0].addr_spec


def ticket_of(customer, ticket_service, address: str) -> Ticket:
    """A ticket filed by the customer person whose address is ``address``."""
    person = CustomerUserFactory(customer=customer, email=address)
    return ticket_file(
        actor=person,
        service=ticket_service,
        subject="Search is down",
        description="No search results since this morning.",
        severity=2,
        now=FILED,
    )


def take_in(raw: bytes, ticket: Ticket) -> TicketMessage:
    # The fixtures answer T-000123; this run's ticket has a number of its own.
    raw = raw.replace(b"T-000123", ticket.reference.encode())
    outcome = ticket_ingest_email(raw=raw, now=RECEIVED)
    assert (outcome.action, outcome.ticket) == ("replied", ticket)
    outcome.reply.refresh_from_db()
    return outcome.reply


def page(user, name: str, ticket: Ticket) -> str:
    session = Client()
    session.force_login(user)
    response = session.get(reverse(name, args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_fixtures_cover_every_client_and_language():
    """<client>_<language>[_<what else>]: each client at least once, each language twice."""
    assert len(NAMES) >= 12
    for client in ("outlook_desktop", "owa", "gmail", "apple", "thunderbird"):
        assert any(name.startswith(f"{client}_") for name in NAMES), client
    for language in ("en", "fr", "de", "es"):
        assert sum(language in name.split("_") for name in NAMES) >= 2, language
    for name in NAMES:
        for suffix in (".expected.txt", ".quoted.txt"):
            assert (FIXTURES / f"{name}{suffix}").is_file(), f"{name}{suffix}"


@pytest.mark.parametrize("name", NAMES)
def test_a_reply_keeps_what_its_sender_wrote_and_only_staff_see_the_whole_email(
    name, customer, ticket_service, agent
):
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    ticket = ticket_of(customer, ticket_service, sender_of(raw))
    expected = (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8")
    quoted = flat((FIXTURES / f"{name}.quoted.txt").read_text(encoding="utf-8"))

    reply = take_in(raw, ticket)

    assert flat(reply.body) == flat(expected)
    assert (reply.author, reply.channel) == (ticket.requester, "email")
    whole = flat(reply.original_text)
    assert whole.startswith(flat(expected))
    assert quoted in whole[len(flat(expected)) :]

    portal = page(ticket.requester, "portal-ticket", ticket)
    for line in filter(None, (line.strip() for line in expected.splitlines())):
        assert html.escape(line) in portal
    assert quoted not in flat(html.unescape(portal))
    assert "Show the whole e-mail" not in portal

    desk = page(agent, "desk-ticket", ticket)
    shown = [flat(html.unescape(text)) for text in WHOLE_EMAIL.findall(desk)]
    assert shown == [whole]
    assert quoted not in flat(html.unescape(WHOLE_EMAIL.sub("", desk)))


def test_the_reply_keeps_its_own_line_breaks_and_indents(customer, ticket_service):
    raw = (FIXTURES / "thunderbird_en.eml").read_bytes()
    reply = take_in(raw, ticket_of(customer, ticket_service, sender_of(raw)))
    assert "warning every few minutes:\n\n    WARN  indexer.queue  backlog=1842" in reply.body


def test_the_whole_email_is_shown_escaped(customer, ticket_service, agent):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    body = QUOTING + "> <script>alert('x')</script>\n"
    take_in(mail("dana@customer.test", f"Re: {ticket.reference}", body), ticket)
    desk = page(agent, "desk-ticket", ticket)
    assert "<script>alert" not in desk
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in desk


def test_a_reply_with_no_quote_has_no_original_text(customer, ticket_service, agent):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    text = "It works again.\n\n> not a quote of anything, just a line\n\nDana"
    reply = take_in(mail("dana@customer.test", f"Re: {ticket.reference}", text), ticket)
    assert (reply.body, reply.original_text) == (text, "")
    assert "Show the whole e-mail" not in page(agent, "desk-ticket", ticket)


def test_a_reply_that_is_all_quote_with_files_keeps_the_files_and_the_whole_email(
    customer, ticket_service
):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    quote_only = QUOTING.split("\n\n", 1)[1]
    raw = mail(
        "dana@customer.test",
        f"Re: {ticket.reference}",
        quote_only,
        files=[("indexer.log", b"restarted\n", "text/plain")],
    )
    reply = take_in(raw, ticket)
    assert reply.body == "(Files sent by e-mail.)"
    assert reply.original_text == quote_only.strip()
    assert [a.filename for a in reply.attachments.all()] == ["indexer.log"]


def test_a_reply_that_is_all_quote_without_files_is_refused(customer, ticket_service):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    outlook_quote = (
        "From: Sam Support <support@provider.test>\nSent: Monday, December 7, 2026 10:02 AM\n"
        f"To: Dana <dana@customer.test>\nSubject: [{ticket.reference}] New reply\n\nRestart it."
    )
    raw = mail("dana@customer.test", f"RE: {ticket.reference}", outlook_quote)
    with pytest.raises(InboundRejected, match=f"The reply to {ticket.reference} has no text"):
        ticket_ingest_email(raw=raw, now=RECEIVED)
    assert TicketMessage.objects.count() == 0


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "See my answers below.\n\n"
            "On Mon, 7 Dec 2026 at 10:02, Sam Support <support@provider.test> wrote:\n"
            "> Did the restart help?\nYes, at once.\n> Which version do you run?\n4.2.1",
            id="answers between quoted lines",
        ),
        pytest.param(
            "On Mon, 7 Dec 2026 at 10:02, Sam Support <support@provider.test> wrote:\n"
            "> Did the restart help?\n\nYes, at once.",
            id="a reply under the quote",
        ),
        pytest.param(
            "Our monitoring sent this:\n\n---------- Forwarded message ---------\n"
            "From: Monitor <monitor@customer.test>\nDate: Mon, 7 Dec 2026 at 09:58\n"
            "Subject: Indexer down\nTo: <ops@customer.test>\n\nindexer: no heartbeat for 300 s",
            id="a forwarded message",
        ),
    ],
)
def test_what_the_sender_wrote_among_or_below_quotes_is_kept_whole(text, customer, ticket_service):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    reply = take_in(mail("dana@customer.test", f"Re: {ticket.reference}", text), ticket)
    assert (reply.body, reply.original_text) == (text, "")


def test_an_unverified_staff_reply_keeps_the_whole_email_too(customer, ticket_service):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    StaffFactory(role="agent", email="agent@provider.test")
    reply = take_in(mail("agent@provider.test", f"Re: {ticket.reference}", QUOTING), ticket)
    assert (reply.sender_unverified, reply.body) == (True, "Thanks.")
    assert reply.original_text == QUOTING.strip()


def test_the_api_gives_the_whole_email_to_staff_only(customer, ticket_service, agent):
    ticket = ticket_of(customer, ticket_service, "dana@customer.test")
    take_in(mail("dana@customer.test", f"Re: {ticket.reference}", QUOTING), ticket)
    url = f"{API}tickets/{ticket.pk}/messages/"

    staff = client_for(agent).get(url).json()["results"]
    customers = client_for(ticket.requester).get(url).json()["results"]

    assert [(m["body"], m["original_text"]) for m in staff] == [("Thanks.", QUOTING.strip())]
    assert [(m["body"], m["original_text"]) for m in customers] == [("Thanks.", "")]
