"""``manage.py fetch_email`` and its minute tick, against a real IMAP server (dovecot on
loopback, tests/support/imap_server.py): every message of the inbox is taken in once and
moved on, taken-in mail to the processed folder, refused mail to the rejected folder;
what the database could not take yet, and what a crash left behind, stays in the inbox
and is taken in once by the next run."""

from __future__ import annotations

import email
import imaplib
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from imap_tools import BaseMailBox, MailBoxUnencrypted

from tests.support.factories import CustomerUserFactory, ticket_contract
from tests.support.imap_server import (  # noqa: F401 (fixtures: imap_server, imap_account)
    PASSWORD,
    ImapServer,
    imap_account_fixture,
    imap_server_fixture,
)
from tests.support.mail_helpers import NOW, mail, saved
from tests.support.smtp import free_port
from tickets.models import InboundEmail, Ticket
from tickets.tasks import fetch_email

SENDER = "dana.reyes@customer.test"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def person(catalog, customer):
    ticket_contract(customer)
    return CustomerUserFactory(customer=customer, email=SENDER)


@pytest.fixture
def mailbox_url(settings, imap_server: ImapServer, imap_account: str) -> str:
    settings.IMAP_URL = imap_server.url(imap_account)
    settings.IMAP_PROCESSED_FOLDER, settings.IMAP_REJECTED_FOLDER = "Processed", "Rejected"
    return settings.IMAP_URL


@pytest.fixture
def imap(imap_server: ImapServer, imap_account: str, mailbox_url):
    """A mail client's own session on the test's mailbox, to deliver and to look."""
    with MailBoxUnencrypted(imap_server.host, imap_server.port).login(
        imap_account, PASSWORD
    ) as client:
        yield client


def deliver(imap, *messages: bytes) -> None:
    for raw in messages:
        imap.append(raw, "INBOX")


def in_folder(imap, folder: str) -> list[bytes]:
    """The messages of ``folder``, as the server keeps them (a fresh look each time)."""
    if not imap.folder.exists(folder):
        return []
    imap.folder.set(folder)
    uids = imap.uids()
    found = []
    for uid in uids:
        status, data = imap.client.uid("FETCH", uid, "(BODY.PEEK[])")
        assert status == "OK"
        found.append(data[0][1])
    imap.folder.set("INBOX")
    return found


def as_stored(raw: bytes) -> bytes:
    """What an IMAP server keeps of a message appended with bare LF line ends."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def fetch() -> str:
    out = io.StringIO()
    call_command("fetch_email", stdout=out)
    return out.getvalue()


def subjects_in(imap, folder: str) -> list[str]:
    return sorted(email.message_from_bytes(raw)["Subject"] for raw in in_folder(imap, folder))


# ---------------------------------------------------------------- taken in once


def test_fetch_email_takes_in_three_messages_once_and_a_second_run_takes_in_nothing(person, imap):
    deliver(imap, *(mail(SENDER, f"Publishing fails {n}") for n in (1, 2, 3)))

    output = fetch()

    tickets = list(Ticket.objects.order_by("pk"))
    assert [t.subject for t in tickets] == [f"Publishing fails {n}" for n in (1, 2, 3)]
    assert {(t.requester, t.customer, t.channel) for t in tickets} == {
        (person, person.customer, "email")
    }
    assert {t.received_at for t in tickets} == {NOW}
    lines = output.strip().splitlines()
    assert lines[:3] == [
        f"UID {n}: created {t.reference} (severity {t.severity}) from {SENDER} → Processed"
        for n, t in enumerate(tickets, start=1)
    ]
    assert lines[3] == (
        "Mailbox: 3 taken in, 0 duplicates, 0 ignored, 0 rejected, 0 left in the inbox."
    )
    assert in_folder(imap, "INBOX") == []
    assert subjects_in(imap, "Processed") == [f"Publishing fails {n}" for n in (1, 2, 3)]

    again = fetch()

    assert again.strip() == (
        "Mailbox: 0 taken in, 0 duplicates, 0 ignored, 0 rejected, 0 left in the inbox."
    )
    assert Ticket.objects.count() == 3
    assert len(in_folder(imap, "Processed")) == 3


def test_the_processed_folder_is_made_when_missing_and_keeps_the_mail_as_it_came(person, imap):
    raw = mail(SENDER, "Publishing fails", "Every publish job ends with error 500. Ünïcödé.")
    deliver(imap, raw)
    assert not imap.folder.exists("Processed")

    fetch()

    assert imap.folder.exists("Processed") and imap.folder.exists("Rejected")
    assert in_folder(imap, "Processed") == [as_stored(raw)]


def test_the_service_gets_the_bytes_the_server_keeps_not_a_re_serialisation(
    person, imap, monkeypatch
):
    from tickets import mailbox

    raw = mail(SENDER, "Publishing fails", "Ünïcödé text, sent as 8-bit UTF-8.")
    received: list[bytes] = []
    ingest = mailbox.ticket_ingest_email

    def spy(*, raw, now=None):  # the real service, watched
        received.append(raw)
        return ingest(raw=raw, now=now)

    monkeypatch.setattr(mailbox, "ticket_ingest_email", spy)
    deliver(imap, raw)

    fetch()

    assert received == [as_stored(raw)]
    # What imap-tools' parsed message would have given instead (LF line ends at least).
    assert email.message_from_bytes(as_stored(raw)).as_bytes() != as_stored(raw)
    assert Ticket.objects.get().description == "Ünïcödé text, sent as 8-bit UTF-8."


# ---------------------------------------------------------------- refused


def test_a_refused_message_goes_to_the_rejected_folder_and_nothing_is_saved(person, imap, settings):
    settings.IMAP_REJECTED_FOLDER = "Refused by the portal"
    no_text = mail(SENDER, "", "")
    deliver(imap, no_text)

    output = fetch()

    assert saved() == (0, 0, 0, 0)
    assert output.strip().splitlines() == [
        "UID 1: refused: The message has neither a subject nor any text. → Refused by the portal",
        "Mailbox: 0 taken in, 0 duplicates, 0 ignored, 1 rejected, 0 left in the inbox.",
    ]
    assert in_folder(imap, "Refused by the portal") == [as_stored(no_text)]
    assert in_folder(imap, "INBOX") == in_folder(imap, "Processed") == []


def test_a_reply_to_a_ticket_the_sender_may_not_see_is_refused_and_the_rest_taken_in(person, imap):
    deliver(
        imap,
        mail(SENDER, "Re: [T-999999] Search is down", "Any news?"),
        mail(SENDER, "Publishing fails"),
    )

    output = fetch()

    assert "1 taken in, 0 duplicates, 0 ignored, 1 rejected" in output
    assert saved() == (1, 0, 0, 1)
    assert subjects_in(imap, "Rejected") == ["Re: [T-999999] Search is down"]
    assert subjects_in(imap, "Processed") == ["Publishing fails"]


# ---------------------------------------------------------------- once, whatever happens


def test_a_message_appended_again_after_it_was_taken_in_makes_no_second_ticket(person, imap):
    raw = mail(SENDER, message_id="<first-report@customer.test>")
    deliver(imap, raw)
    fetch()
    deliver(imap, raw)

    output = fetch()

    ticket = Ticket.objects.get()
    assert output.strip().splitlines() == [
        f"UID 2: <first-report@customer.test> was already taken in ({ticket.reference}); "
        "nothing new → Processed",
        "Mailbox: 0 taken in, 1 duplicates, 0 ignored, 0 rejected, 0 left in the inbox.",
    ]
    assert InboundEmail.objects.count() == 1
    assert in_folder(imap, "INBOX") == []
    assert len(in_folder(imap, "Processed")) == 2


def test_a_crash_between_taking_in_and_moving_makes_no_second_ticket(person, imap, monkeypatch):
    deliver(imap, mail(SENDER, "Publishing fails"))

    def connection_lost(self, uid_list, destination_folder, chunks=None):
        raise imaplib.IMAP4.abort("socket error: EOF")

    with monkeypatch.context() as crash:
        crash.setattr(BaseMailBox, "move", connection_lost)
        with pytest.raises(CommandError, match="Mailbox unavailable: .*socket error: EOF"):
            fetch()
    assert Ticket.objects.count() == 1
    assert len(in_folder(imap, "INBOX")) == 1  # the move never happened

    output = fetch()

    assert "0 taken in, 1 duplicates" in output
    assert Ticket.objects.count() == 1
    assert in_folder(imap, "INBOX") == []
    assert subjects_in(imap, "Processed") == ["Publishing fails"]


def test_while_the_database_is_down_mail_stays_in_the_inbox_for_the_next_run(
    person, imap, monkeypatch
):
    deliver(imap, mail(SENDER, "Publishing fails 1"), mail(SENDER, "Publishing fails 2"))

    def down(*args, **kwargs):
        raise OperationalError("connection failed\n\tIs the server running on that host?")

    with monkeypatch.context() as outage:
        outage.setattr("tickets.services.inbound.registered_sender", down)
        output = fetch()  # exit 0: the mailbox was reached

    assert output.strip().splitlines() == [
        "UID 1: database unavailable; left in the inbox",
        "Mailbox: 0 taken in, 0 duplicates, 0 ignored, 0 rejected, 2 left in the inbox.",
    ]
    assert saved() == (0, 0, 0, 0)
    assert len(in_folder(imap, "INBOX")) == 2

    assert "2 taken in" in fetch()
    assert Ticket.objects.count() == 2
    assert in_folder(imap, "INBOX") == []


# ---------------------------------------------------------------- an unreachable mailbox


def test_a_mailbox_that_cannot_be_reached_is_the_only_non_zero_exit(db, settings):
    settings.IMAP_URL = f"imap://support:secret@127.0.0.1:{free_port()}/INBOX"
    with pytest.raises(CommandError, match="Mailbox unavailable: imap://support@127.0.0.1") as e:
        fetch()
    assert e.value.returncode == 1
    assert "secret" not in str(e.value)


def test_a_refused_login_is_reported_without_the_password(db, settings, imap_server):
    settings.IMAP_URL = imap_server.url("support").replace(PASSWORD, "wrong%40password")
    with pytest.raises(CommandError, match="MailboxLoginError") as e:
        fetch()
    assert "wrong" not in str(e.value)


# ---------------------------------------------------------------- the minute tick


def test_the_tick_does_nothing_without_an_imap_url(db, settings):
    settings.IMAP_URL = None
    assert fetch_email() is None


def test_the_tick_takes_in_the_mail_and_a_second_tick_nothing(person, imap, celery_eager):
    deliver(imap, mail(SENDER, "Publishing fails"))
    counts = fetch_email.delay().get()
    assert counts == {"taken_in": 1, "duplicates": 0, "ignored": 0, "rejected": 0, "left": 0}
    assert fetch_email.delay().get()["taken_in"] == 0
    assert Ticket.objects.count() == 1


def test_the_tick_is_scheduled_every_minute_and_expires_after_one(db):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from slaportal.celery import app

    call_command("setup_schedules", verbosity=0)
    tick = PeriodicTask.objects.get(task="tickets.tasks.fetch_email")
    assert (tick.crontab.minute, tick.crontab.hour, str(tick.crontab.timezone)) == ("*", "*", "UTC")
    assert (tick.expire_seconds, tick.expires, tick.enabled) == (60, None, True)
    # What beat sends: the message's own expiry, so ticks missed while workers were busy
    # do not pile up into a row of runs over one mailbox.
    assert ModelEntry(tick, app=app).options["expires"] == 60
