"""Exactly-once e-mail against a real SMTP server on loopback: a message is claimed by one
attempt, marked before DATA and after the 250; a crash after the 250 never sends it
again (held for an operator), a crash before DATA is sent again once by reconciliation,
and every copy carries the Message-ID made when it was queued."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.services import email as email_service
from outbox.services import (
    outbox_confirm_delivered,
    outbox_deliver,
    outbox_dispatch_overdue,
    outbox_enqueue,
    outbox_reconcile,
    outbox_release,
)
from outbox.services.recovery import sending_timeout
from outbox.tasks import outbox_flush, outbox_send
from tests.support.concurrency import run_concurrently


class Killed(BaseException):
    """The worker dying on the spot: no ``except Exception`` in the sender sees it."""


def queue(key: str = "exactly-once:1") -> OutboxMessage:
    """Queue a message without its send task: each test plays the workers itself."""
    with mock.patch.object(email_service, "_dispatch"):
        message, created = outbox_enqueue(
            to=["customer@example.test"],
            subject="Your statement",
            body="Hello",
            dedupe_key=key,
        )
    assert created
    return message


def after_timeout() -> datetime:
    """Past the claim's timeout (the suite's clock stands still: ``frozen_now``)."""
    return timezone.now() + sending_timeout() + timedelta(seconds=1)


def killed_after_250(*args, **kwargs) -> None:
    """In place of recording the 250: the worker dies after the server accepted."""
    raise Killed("SIGKILL after the server's 250, before the row says sent")


def kill_at_rcpt(monkeypatch) -> None:
    """The next attempt dies while the server answers RCPT TO: before DATA."""
    rcpt = smtplib.SMTP.rcpt

    def dying(self, *args, **kwargs):
        monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt)
        raise Killed("SIGKILL at RCPT TO")

    monkeypatch.setattr(smtplib.SMTP, "rcpt", dying)


def slow_server(smtp, seconds: float) -> None:
    """The server keeps the message, then takes ``seconds`` to say 250."""
    accept = smtp.handle_DATA

    async def slow(server, session, envelope):
        reply = await accept(server, session, envelope)
        await asyncio.sleep(seconds)
        return reply

    smtp.handle_DATA = slow  # read by each new SMTP session


def test_a_second_worker_given_a_message_being_sent_skips_it(db, smtp, monkeypatch):
    message = queue()
    rcpt = smtplib.SMTP.rcpt
    second: list[str] = []

    def rcpt_then_second_worker(self, *args, **kwargs):
        second.append(outbox_deliver(message_id=message.pk).status)
        return rcpt(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt_then_second_worker)
    assert outbox_deliver(message_id=message.pk).status == "sent"
    assert second == ["skipped"]
    assert len(smtp.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_four_workers_sending_the_same_message_at_once_send_it_once(
    postgres, transactional_db, smtp
):
    message = queue()
    slow_server(smtp, 0.5)  # the winner is still in the SMTP conversation as the rest try

    results = run_concurrently(lambda _: outbox_deliver(message_id=message.pk).status, 4)

    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"], results
    [received] = smtp.received
    assert received["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_a_crash_after_the_250_is_never_sent_again(db, smtp, monkeypatch, celery_eager):
    message = queue()
    monkeypatch.setattr(email_service, "_record_sent", killed_after_250)
    with pytest.raises(Killed):
        outbox_deliver(message_id=message.pk)
    monkeypatch.undo()
    assert len(smtp.received) == 1
    message.refresh_from_db()
    assert message.status == "sending" and message.data_started_at is not None

    # The task redelivered to another worker, and the periodic flush within the timeout.
    assert outbox_send.apply(args=[message.pk]).get() == "skipped"
    assert outbox_dispatch_overdue(now=after_timeout() - timedelta(seconds=2)) == 0
    # After the timeout, twice: held, nothing dispatched.
    assert outbox_dispatch_overdue(now=after_timeout()) == 0
    assert outbox_dispatch_overdue(now=after_timeout() + timedelta(hours=1)) == 0

    [received] = smtp.received
    assert received["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == ("held", 1, None)
    assert "may have been delivered" in message.last_error


def test_a_crash_before_data_is_sent_again_once_by_reconciliation(
    db, smtp, monkeypatch, celery_eager
):
    message = queue()
    kill_at_rcpt(monkeypatch)
    with pytest.raises(Killed):
        outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.data_started_at) == ("sending", None)
    assert smtp.received == []

    assert outbox_flush.apply().get() == 0  # the claim is recent: the attempt may be alive
    assert outbox_dispatch_overdue(now=after_timeout()) == 1
    assert outbox_dispatch_overdue(now=after_timeout() + timedelta(minutes=5)) == 0

    [received] = smtp.received
    assert received["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")


def test_a_message_stuck_before_data_after_its_last_attempt_is_failed(
    db, smtp, monkeypatch, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = queue()
    kill_at_rcpt(monkeypatch)
    with pytest.raises(Killed):
        outbox_deliver(message_id=message.pk)
    reconciled = outbox_reconcile(now=after_timeout())
    assert (reconciled.resend, reconciled.held, reconciled.failed) == ([], [], [message.pk])
    message.refresh_from_db()
    assert message.status == "failed" and "before DATA" in message.last_error
    assert smtp.received == []


def test_no_reply_to_the_content_holds_the_message_instead_of_retrying(
    db, smtp, settings, celery_eager
):
    settings.EMAIL_TIMEOUT = 1
    slow_server(smtp, 2)  # accepts the message after the client stopped waiting
    message = queue()

    delivery = outbox_deliver(message_id=message.pk)

    assert (delivery.status, delivery.retry_in) == ("held", None)
    assert outbox_dispatch_overdue(now=timezone.now() + timedelta(days=1)) == 0
    assert outbox_send.apply(args=[message.pk]).get() == "skipped"
    assert len(smtp.received) == 1
    message.refresh_from_db()
    assert message.status == "held" and "after DATA, with no reply" in message.last_error


def test_an_attempt_whose_claim_was_taken_over_stops_before_data(
    db, smtp, monkeypatch, celery_eager
):
    message = queue()
    rcpt = smtplib.SMTP.rcpt
    taken_over: list[list[int]] = []

    def stalls_past_the_timeout(self, *args, **kwargs):
        monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt)
        taken_over.append(outbox_reconcile(now=after_timeout()).resend)
        return rcpt(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", stalls_past_the_timeout)
    assert outbox_deliver(message_id=message.pk).status == "skipped"
    assert taken_over == [[message.pk]]
    assert smtp.received == []  # the old attempt sent no DATA
    message.refresh_from_db()
    assert message.status == "pending"

    assert outbox_send.apply(args=[message.pk]).get() == "sent"
    assert len(smtp.received) == 1


def test_a_250_is_recorded_after_the_database_comes_back(transactional_db, smtp, monkeypatch):
    message = queue()
    mark_sent = email_service._mark_sent
    tries: list[int] = []

    def database_restarting(*args, **kwargs):
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("the database system is shutting down")
        return mark_sent(*args, **kwargs)

    monkeypatch.setattr(email_service, "_mark_sent", database_restarting)
    monkeypatch.setattr(email_service, "RECORD_SENT_PAUSES", (0.0,))
    assert outbox_deliver(message_id=message.pk).status == "sent"
    assert len(tries) == 2 and len(smtp.received) == 1
    message.refresh_from_db()
    assert message.status == "sent"


def held_message(smtp, monkeypatch) -> OutboxMessage:
    message = queue()
    monkeypatch.setattr(email_service, "_record_sent", killed_after_250)
    with pytest.raises(Killed):
        outbox_deliver(message_id=message.pk)
    monkeypatch.undo()
    assert outbox_reconcile(now=after_timeout()).held == [message.pk]
    assert len(smtp.received) == 1
    return message


def test_an_administrator_confirms_a_held_message_delivered(db, smtp, monkeypatch, admin_user):
    message = held_message(smtp, monkeypatch)
    outbox_confirm_delivered(message_id=message.pk, actor=admin_user)
    message.refresh_from_db()
    assert message.status == "sent" and message.sent_at == message.data_started_at
    assert outbox_dispatch_overdue(now=timezone.now() + timedelta(days=1)) == 0
    assert len(smtp.received) == 1


def test_an_administrator_releases_a_held_message_sent_again_with_its_message_id(
    db, smtp, monkeypatch, admin_user, celery_eager, django_capture_on_commit_callbacks
):
    message = held_message(smtp, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_release(message_id=message.pk, actor=admin_user)
    first, second = smtp.received
    assert first["Message-ID"] == second["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)


def test_only_an_administrator_decides_on_a_held_message(
    db, smtp, monkeypatch, account_manager, agent, operations
):
    from django.core.exceptions import PermissionDenied

    message = held_message(smtp, monkeypatch)
    for actor in (account_manager, agent, operations):
        for decide in (outbox_confirm_delivered, outbox_release):
            with pytest.raises(PermissionDenied):
                decide(message_id=message.pk, actor=actor)
    message.refresh_from_db()
    assert message.status == "held"


def test_only_a_held_message_can_be_released(db, admin_user):
    from django.core.exceptions import ValidationError

    message = queue()
    with pytest.raises(ValidationError):
        outbox_release(message_id=message.pk, actor=admin_user)
    message.refresh_from_db()
    assert message.status == "pending"


def test_the_outbox_admin_lists_held_messages_and_confirms_them(
    db, smtp, monkeypatch, admin_user, client
):
    message = held_message(smtp, monkeypatch)
    client.force_login(admin_user)
    changelist = reverse("admin:outbox_outboxmessage_changelist")
    listed = client.get(changelist, {"status__exact": "held"})
    assert listed.status_code == 200 and message.subject in listed.content.decode()
    response = client.post(
        changelist, {"action": "confirm_delivered", "_selected_action": [message.pk]}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "sent"
