"""``manage.py ingest_email``: real RFC 822 messages on standard input become tickets or
replies; refused mail (bad data included) exits 65 with its reason and saves nothing; a
message delivered twice by one sender is taken in once; a staff From counts only with
our relay's Authentication-Results."""

from __future__ import annotations

import io
import sys
from email.message import EmailMessage

import pytest
import time_machine
from django.core.management.base import CommandError
from django.db import DataError, OperationalError
from django.urls import reverse

from tests.support.factories import CustomerUserFactory, StaffFactory, ticket_contract
from tests.support.mail_helpers import NOW, ingest, mail, saved, stored_files
from tickets.models import InboundEmail, Ticket, TicketMessage
from tickets.services import ticket_file, ticket_set_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
RELAY = "mx.provider.test"  # the authserv-id of our own mail server
VOUCHED = (
    f"Authentication-Results: {RELAY}; dkim=pass header.d=provider.test header.s=mail;"
    " spf=pass (sender SPF authorized) smtp.mailfrom=agent@provider.test"
)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def refused(raw: bytes) -> str:
    with pytest.raises(CommandError) as caught:
        ingest(raw)
    assert caught.value.returncode == 65  # EX_DATAERR: the mail server bounces it
    return str(caught.value)


@pytest.fixture
def person(customer_user, tiered_contract):
    customer_user.email = "Dana.Reyes@Customer.test"
    customer_user.save(update_fields=["email"])
    return customer_user


@pytest.fixture
def trusted_relay(settings):
    settings.INBOUND_TRUSTED_RELAY = RELAY
    settings.INBOUND_STAFF_DOMAIN = "provider.test"


@pytest.fixture
def agent_by_mail(db):
    return StaffFactory(role="agent", email="agent@provider.test")


def relayed(raw: bytes, *headers: str) -> bytes:
    """``raw`` as a relay hands it on: its header lines added on top, the first one
    topmost (RFC 8601 §5)."""
    return "".join(f"{header}\n" for header in headers).encode() + raw


@pytest.fixture
def ticket(person, ticket_service) -> Ticket:
    return ticket_file(
        actor=person,
        service=ticket_service,
        subject="Search is down",
        description="No results.",
        severity=2,
        now=NOW,
    )


# ---------------------------------------------------------------- new tickets


def test_a_registered_person_opens_a_ticket_with_its_severity_and_files(person, media):
    raw = mail(
        "Dana Reyes <dana.reyes@customer.test>",
        "[Sev 2] Publishing fails",
        files=[("trace.log", b"stack trace\n", "text/plain"), ("shot.png", PNG, "image/png")],
    )
    output = ingest(raw)
    ticket = Ticket.objects.get()
    assert output.strip() == (
        f"created {ticket.reference} (severity 2) from dana.reyes@customer.test"
    )
    assert (ticket.subject, ticket.severity, ticket.channel) == ("Publishing fails", 2, "email")
    assert (ticket.customer, ticket.requester, ticket.unregistered_sender) == (
        person.customer,
        person,
        False,
    )
    assert ticket.description == "Every publish job ends with error 500."
    assert ticket.received_at == NOW
    assert ticket.response_due_at is not None
    files = list(ticket.attachments.order_by("filename"))
    assert [(f.filename, f.content_type, f.size) for f in files] == [
        ("shot.png", "image/png", len(PNG)),
        ("trace.log", "text/plain", 12),
    ]
    assert files[1].file.read() == b"stack trace\n"
    assert len(stored_files(media)) == 2
    assert InboundEmail.objects.get().ticket == ticket


@pytest.mark.parametrize(
    ("subject", "body", "severity"),
    [
        ("Severity: 1 - site down", "Nothing loads.", 1),
        ("Site slow", "Pages are slow.\nSeverity: 4\nThanks", 4),
        ("Site slow", "Not severity 1, just slow.", 3),
        ("[Sev 7] Site slow", "Slow.", 3),
    ],
)
def test_the_severity_comes_from_the_mail_or_defaults_to_3(person, subject, body, severity):
    ingest(mail(person.email, subject, body))
    assert Ticket.objects.get().severity == severity


def test_an_unknown_sender_gets_a_severity_4_ticket_marked_unregistered(person, media):
    raw = mail(
        "Someone <someone@elsewhere.test>",
        "[Sev 1] Everything is down",
        files=[("error.pdf", b"%PDF-1.4 fake", "application/pdf")],
    )
    assert "as unregistered" in ingest(raw)
    ticket = Ticket.objects.get()
    assert (ticket.severity, ticket.unregistered_sender) == (4, True)
    assert (ticket.customer, ticket.contract, ticket.requester) == (None, None, None)
    assert ticket.sender_email == "someone@elsewhere.test"
    assert [a.filename for a in ticket.attachments.all()] == ["error.pdf"]


def test_a_deactivated_person_is_not_a_registered_user(person):
    person.is_active = False
    person.save(update_fields=["is_active"])
    ingest(mail(person.email, "[Sev 1] Down"))
    assert Ticket.objects.get().unregistered_sender is True


def test_an_html_only_message_is_read_as_text(person):
    message = EmailMessage()
    message["From"] = person.email
    message["Subject"] = "Broken export"
    message.set_content(
        "<html><head><style>p {color: red}</style></head>"
        "<body><p>Export fails &amp; times out.</p><p>Since Monday.</p></body></html>",
        subtype="html",
    )
    ingest(message.as_bytes())
    assert Ticket.objects.get().description == "Export fails & times out.\nSince Monday."


def test_the_plain_text_is_the_body_and_neither_html_nor_a_signature_is_a_file(person):
    message = EmailMessage()
    message["From"] = person.email
    message["Subject"] = "Signed report"
    message.set_content("Plain words.")
    message.add_alternative("<p>HTML words.</p>", subtype="html")
    message.add_attachment(
        b"0\x82signature", maintype="application", subtype="pkcs7-signature", filename="smime.p7s"
    )
    ingest(message.as_bytes())
    ticket = Ticket.objects.get()
    assert ticket.description == "Plain words."
    assert not ticket.attachments.exists()


def test_a_forwarded_message_is_kept_whole_as_an_eml_file(person):
    forwarded = EmailMessage()
    forwarded["From"] = "monitor@customer.test"
    forwarded["Subject"] = "ALERT"
    forwarded.set_content("CPU 100 %")
    message = EmailMessage()
    message["From"] = person.email
    message["Subject"] = "See the alert below"
    message.set_content("Forwarding our monitoring alert.")
    message.add_attachment(forwarded)
    ingest(message.as_bytes())
    file = Ticket.objects.get().attachments.get()
    assert (file.filename, file.content_type) == ("ALERT.eml", "message/rfc822")
    assert b"CPU 100 %" in file.file.read()


def test_a_refused_file_is_left_out_and_the_ticket_says_why(person, settings, media):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 100
    raw = mail(
        person.email,
        files=[
            ("setup.exe", b"MZ" * 10, "application/octet-stream"),
            ("big.log", b"x" * 101, "text/plain"),
            ("ok.txt", b"fine", "text/plain"),
        ],
    )
    output = ingest(raw)
    ticket = Ticket.objects.get()
    assert [a.filename for a in ticket.attachments.all()] == ["ok.txt"]
    assert len(stored_files(media)) == 1
    assert "[Attachment not kept: setup.exe: .exe files are not accepted." in ticket.description
    assert "[Attachment not kept: big.log is 0.0 MB; the limit is 0.0 MB.]" in ticket.description
    assert "attachment not kept: setup.exe" in output


# ---------------------------------------------------------------- replies


def test_a_reply_by_reference_joins_the_thread_without_the_quoted_text(person, ticket, agent):
    ticket_set_status(ticket=ticket, status="waiting_on_customer", actor=agent, now=NOW)
    colleague = CustomerUserFactory(customer=person.customer, email="lee@customer.test")
    body = (
        "It works again after the restart.\n\n"
        "On Mon, 8 Jun 2026 at 09:00, Support <support@provider.test> wrote:\n"
        "> Could you restart the job?\n"
        ">\n"
        "> Regards\n"
    )
    raw = mail(
        "lee@customer.test",
        f"Re: [{ticket.reference}] Search is down",
        body,
        files=[("after.png", PNG, "image/png")],
    )
    assert ingest(raw).strip() == f"reply on {ticket.reference} from lee@customer.test"
    reply = TicketMessage.objects.get()
    assert (reply.ticket, reply.author, reply.channel) == (ticket, colleague, "email")
    assert (reply.public, reply.from_staff) == (True, False)
    assert reply.body == "It works again after the restart."
    assert [a.filename for a in reply.attachments.all()] == ["after.png"]
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the customer answered: the clocks run again
    assert InboundEmail.objects.get().reply == reply


def test_an_agent_reply_our_relay_vouches_for_gives_the_first_response(
    ticket, agent_by_mail, trusted_relay
):
    raw = mail("agent@provider.test", f"RE: {ticket.reference}", "Restarted the indexer.")
    ingest(relayed(raw, VOUCHED))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.responded_at) == ("open", NOW)
    reply = TicketMessage.objects.get()
    assert (reply.author, reply.from_staff, reply.sender_unverified) == (
        agent_by_mail,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("relay", "results"),
    [
        (RELAY, []),  # our relay added nothing: no DKIM, no SPF
        (RELAY, ["Authentication-Results: mx.elsewhere.test; dkim=pass header.d=provider.test"]),
        (RELAY, [f"Authentication-Results: {RELAY}; dkim=fail header.d=provider.test"]),
        (RELAY, [f"Authentication-Results: {RELAY}; spf=softfail smtp.mailfrom=provider.test"]),
        (RELAY, [f"Authentication-Results: {RELAY}; dkim=pass header.d=elsewhere.test"]),
        (RELAY, [f"Authentication-Results: {RELAY}; spf=pass smtp.helo=provider.test"]),
        # The sender wrote our relay's name into a header of their own, under another's.
        (
            RELAY,
            [
                f"Authentication-Results: {RELAY}; dkim=none",
                "Authentication-Results: mx.elsewhere.test; spf=none",
                VOUCHED,
            ],
        ),
        ("", [VOUCHED]),  # no relay configured: nothing is trusted
    ],
)
def test_a_forged_staff_reply_is_kept_flagged_and_the_response_clock_runs(
    ticket, agent_by_mail, settings, relay, results
):
    settings.INBOUND_TRUSTED_RELAY = relay
    settings.INBOUND_STAFF_DOMAIN = "provider.test"
    raw = mail("Support <agent@provider.test>", f"RE: {ticket.reference}", "Please pay here.")
    output = ingest(relayed(raw, *results))
    assert "staff sender not verified" in output
    reply = TicketMessage.objects.get()
    assert (reply.author, reply.author_email, reply.body) == (
        None,
        "agent@provider.test",
        "Please pay here.",
    )
    assert (reply.public, reply.from_staff, reply.sender_unverified) == (True, False, True)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.responded_at) == ("new", None)  # the clock still runs
    assert InboundEmail.objects.get().reply == reply


def test_a_vouched_mail_from_another_domain_is_not_staff(ticket, trusted_relay):
    # DKIM passing for provider.test says nothing about a From address elsewhere.
    StaffFactory(role="agent", email="contractor@elsewhere.test")
    raw = mail("contractor@elsewhere.test", f"RE: {ticket.reference}", "Done.")
    ingest(relayed(raw, VOUCHED))
    assert TicketMessage.objects.get().sender_unverified is True
    ticket.refresh_from_db()
    assert ticket.responded_at is None


def test_a_forged_staff_reply_does_not_end_the_wait_on_the_customer(ticket, agent_by_mail):
    ticket_set_status(ticket=ticket, status="waiting_on_customer", actor=agent_by_mail, now=NOW)
    ingest(mail("agent@provider.test", f"RE: {ticket.reference}", "Any news?"))
    ticket.refresh_from_db()
    assert ticket.status == "waiting_on_customer"


def test_a_forged_staff_reply_to_a_closed_ticket_is_refused(ticket, agent_by_mail, media):
    ticket_set_status(ticket=ticket, status="closed", actor=agent_by_mail, now=NOW)
    before = saved()
    raw = mail(
        "agent@provider.test",
        f"RE: {ticket.reference}",
        "Hi",
        files=[("a.txt", b"a", "text/plain")],
    )
    assert "This ticket is closed and takes no more replies" in refused(raw)
    assert saved() == before
    assert stored_files(media) == []


def test_the_desk_marks_a_reply_whose_staff_sender_is_not_verified(ticket, agent_by_mail, desk):
    raw = mail(
        "agent@provider.test",
        f"RE: {ticket.reference}",
        "Please pay here.",
        files=[("invoice.pdf", b"%PDF-1.4 fake", "application/pdf")],
    )
    ingest(raw)
    assert [a.filename for a in TicketMessage.objects.get().attachments.all()] == ["invoice.pdf"]
    html = desk.get(reverse("desk-ticket", args=[ticket.pk])).content.decode()
    assert html.count("Sender not verified") == 1
    assert "agent@provider.test" in html


def test_an_unregistered_sender_continues_their_own_ticket(person):
    ingest(mail("someone@elsewhere.test", "Login broken"))
    ticket = Ticket.objects.get()
    ingest(mail("Someone@Elsewhere.test", f"Re: {ticket.reference} Login broken", "Still."))
    reply = TicketMessage.objects.get()
    assert (reply.author, reply.author_email, reply.body) == (
        None,
        "someone@elsewhere.test",
        "Still.",
    )


# ---------------------------------------------------------------- refused, nothing saved


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "The message is empty."),
        (b"\x01\x02 not a mail at all", "The message has no From address."),
        (b"\x00\x01\x02 not a mail at all", "The message contains a NUL byte"),
        (mail(None), "The message has no From address."),
        (mail("not an address"), "The From header names no single address"),
        (mail("a@x.test, b@x.test"), "The From header names no single address"),
        (mail("dana.reyes@customer.test", "", ""), "neither a subject nor any text"),
    ],
)
def test_malformed_mail_is_refused_and_saves_nothing(person, media, raw, reason, caplog):
    assert reason in refused(raw)
    assert saved() == (0, 0, 0, 0)
    assert stored_files(media) == []
    assert any("rejected" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_a_reply_to_a_closed_ticket_is_refused(person, ticket, agent, media):
    ticket_set_status(ticket=ticket, status="closed", actor=agent, now=NOW)
    before = saved()
    raw = mail(
        person.email, f"Re: {ticket.reference}", "Hello?", files=[("a.txt", b"a", "text/plain")]
    )
    assert "This ticket is closed and takes no more replies" in refused(raw)
    assert saved() == before
    assert stored_files(media) == []


def test_a_reply_to_another_customers_ticket_is_refused_like_a_missing_one(
    person, other_customer, media
):
    contract = ticket_contract(other_customer, reference="GLOBEX-1")
    foreign = ticket_file(
        actor=CustomerUserFactory(customer=other_customer),
        service=contract.lines.first().service,
        subject="Globex issue",
        description="Private.",
        severity=3,
        now=NOW,
    )
    before = saved()
    raw = mail(
        person.email, f"Re: {foreign.reference}", "Let me in", files=[("a.txt", b"a", "text/plain")]
    )
    foreign_reason = refused(raw)
    missing_reason = refused(mail(person.email, "Re: T-999999", "Let me in"))
    assert f"There is no ticket {foreign.reference} that dana.reyes@customer.test" in foreign_reason
    assert foreign_reason.replace(foreign.reference, "T-?") == missing_reason.replace(
        "T-999999", "T-?"
    )
    assert saved() == before
    assert stored_files(media) == []


def test_a_stranger_cannot_reply_on_a_customers_ticket(ticket):
    before = saved()
    assert "There is no ticket" in refused(
        mail("someone@elsewhere.test", f"Re: {ticket.reference}")
    )
    assert saved() == before


# ---------------------------------------------------------------- bad data: 65, not 75


def _with_nul(raw: bytes, marker: bytes) -> bytes:
    assert marker in raw
    return raw.replace(marker, marker[:2] + b"\x00" + marker[2:], 1)


def _multipart(sender: str, part: bytes) -> bytes:
    return (
        (
            f"From: {sender}\nSubject: Broken\nMessage-ID: <m@customer.test>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\n"
            "See the file.\n--XX\n"
        ).encode()
        + part
        + b"\n--XX--\n"
    )


BAD_DATA = {
    "a NUL byte in the text": (
        _with_nul(
            mail("dana.reyes@customer.test", files=[("a.txt", b"a", "text/plain")]), b"Every"
        ),
        "The message contains a NUL byte",
    ),
    "a NUL byte in a header": (
        _with_nul(mail("dana.reyes@customer.test"), b"Publishing"),
        "The message contains a NUL byte",
    ),
    "a NUL in an encoded Subject": (
        mail("dana.reyes@customer.test", "Down").replace(b"Down", b"=?utf-8?q?Down=00?=", 1),
        "The message's Subject contains a NUL character.",
    ),
    "a NUL in quoted-printable text": (
        b"From: dana.reyes@customer.test\nSubject: Down\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nDown=00 again\n",
        "The message's text contains a NUL character.",
    ),
    "a NUL in a file name": (
        _multipart(
            "dana.reyes@customer.test",
            b"Content-Type: text/plain\nContent-Disposition: attachment;"
            b" filename*=utf-8''trace%00.txt\n\nstack\n",
        ),
        "The message's attachment's file name contains a NUL character.",
    ),
    "text no charset decodes": (
        b"From: dana.reyes@customer.test\nSubject: Down\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-7\n\nHalf a pair: +2AA-\n",
        "The message's text cannot be decoded as text.",
    ),
    "an undecodable From address": (
        b"From: dana.reyes@customer.t\xe8st\nSubject: Down\n\nDown again.\n",
        "The message's From address cannot be decoded as text.",
    ),
    "a From header the parser chokes on": (
        b"From: x g: ; dana.reyes@customer.test\nSubject: Down\n\nDown again.\n",
        "The message could not be read (AttributeError",
    ),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_exits_65_with_a_one_line_reason_and_saves_nothing(
    person, media, monkeypatch, capsys, caplog, case
):
    from django.core.management import execute_from_command_line
    from django.core.management.base import connections

    raw, reason = BAD_DATA[case]
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the test's must stay open
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    with pytest.raises(SystemExit) as caught:
        execute_from_command_line(["manage.py", "ingest_email"])
    assert caught.value.code == 65  # EX_DATAERR, not 75: a retry would fail the same way
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("CommandError: Message refused: ") and reason in last
    assert not [r for r in caplog.records if r.exc_info]
    assert saved() == (0, 0, 0, 0)
    assert stored_files(media) == []


def test_a_value_the_database_refuses_is_refused_not_retried(person, media, monkeypatch):
    def too_long(*args, **kwargs):
        raise DataError("value too long for type character varying(200)")

    monkeypatch.setattr("tickets.services.inbound.ticket_file", too_long)
    reason = refused(mail(person.email, files=[("a.txt", b"a", "text/plain")]))
    assert "could not be stored as it stands (value too long" in reason
    assert saved() == (0, 0, 0, 0)
    assert stored_files(media) == []


def test_an_unavailable_database_is_retried_without_a_traceback(person, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise OperationalError("connection failed\n\tIs the server running on that host?")

    monkeypatch.setattr("tickets.services.inbound.registered_sender", down)
    with pytest.raises(CommandError) as caught:
        ingest(mail(person.email))
    assert caught.value.returncode == 75  # EX_TEMPFAIL: the mail server tries again later
    assert str(caught.value) == "Temporary failure (database unavailable); try again later."
    assert not [r for r in caplog.records if r.exc_info]
    assert saved() == (0, 0, 0, 0)


def test_a_failure_after_the_ticket_is_written_leaves_nothing_behind(person, media, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(InboundEmail, "save", broken)
    with pytest.raises(CommandError) as caught:
        ingest(mail(person.email, files=[("a.txt", b"a", "text/plain")]))
    assert caught.value.returncode == 75  # EX_TEMPFAIL: the mail server tries again later
    assert saved() == (0, 0, 0, 0)
    assert stored_files(media) == []


def test_the_command_line_exits_65_with_the_reason(person, tmp_path, monkeypatch, capsys):
    from django.core.management import execute_from_command_line
    from django.core.management.base import connections

    # The command closes its connections on the way out; the test's must stay open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    path = tmp_path / "message.eml"
    path.write_bytes(mail(None))
    with pytest.raises(SystemExit) as caught:
        execute_from_command_line(["manage.py", "ingest_email", "--file", str(path)])
    assert caught.value.code == 65
    assert "The message has no From address." in capsys.readouterr().err


# ---------------------------------------------------------------- dropped on purpose


def test_a_message_delivered_twice_is_taken_in_once(person):
    raw = mail(person.email, message_id="<once@customer.test>")
    ingest(raw)
    assert "was already taken in" in ingest(raw)
    assert saved() == (1, 0, 0, 1)


def test_a_strangers_mail_with_the_same_message_id_does_not_swallow_the_customers(person):
    shared = "<4f2a@customer.test>"  # read in a forwarded mail, or a careless client's
    ingest(mail("someone@elsewhere.test", "Hello", "Hi.", message_id=shared))
    output = ingest(mail(person.email, "[Sev 1] Everything is down", message_id=shared))
    assert output.startswith("created ")
    ticket = Ticket.objects.get(requester=person)
    assert (ticket.severity, ticket.subject) == (1, "Everything is down")
    assert "was already taken in" in ingest(
        mail(person.email, "[Sev 1] Everything is down", message_id=shared)
    )
    assert saved() == (2, 0, 0, 2)


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
        {"Return-Path": "<>"},
    ],
)
def test_automatic_mail_is_ignored_so_it_cannot_loop(person, ticket, headers):
    before = saved()
    raw = mail(
        person.email, f"Out of office: Re: {ticket.reference}", "Back Monday", headers=headers
    )
    assert "ignored" in ingest(raw)
    assert saved() == before


def test_two_deliveries_at_once_make_one_ticket(postgres, transactional_db, catalog, customer):
    from tests.support.concurrency import run_concurrently

    ticket_contract(customer)
    CustomerUserFactory(customer=customer, email="ops@customer.test")
    raw = mail("ops@customer.test", message_id="<race@customer.test>")
    results = run_concurrently(lambda i: ingest(raw), 2)
    assert sorted("already taken in" in str(r) for r in results) == [False, True], results
    assert Ticket.objects.count() == InboundEmail.objects.count() == 1
