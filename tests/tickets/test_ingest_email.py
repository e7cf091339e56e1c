"""``manage.py ingest_email``: real RFC 822 messages on standard input become tickets or
replies; refused mail exits 65 with its reason and saves nothing; a message delivered
twice is taken in once."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
import time_machine
from django.core.management.base import CommandError

from tests.support.factories import CustomerUserFactory, StaffFactory, ticket_contract
from tests.support.mail_helpers import NOW, ingest, mail, saved, stored_files
from tickets.models import InboundEmail, Ticket, TicketMessage
from tickets.services import ticket_file, ticket_set_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


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


def test_an_agent_replying_by_mail_gives_the_first_response(ticket, person):
    agent = StaffFactory(role="agent", email="agent@provider.test")
    ingest(mail("agent@provider.test", f"RE: {ticket.reference}", "Restarted the indexer."))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.responded_at) == ("open", NOW)
    assert TicketMessage.objects.get().author == agent


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
        (b"\x00\x01\x02 not a mail at all", "The message has no From address."),
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
