"""The outbox against a real SMTP server on loopback (aiosmtpd, in-process): delivered
once, temporary failures retried with backoff, permanent ones failed without retry,
never queued twice, dispatched only after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from outbox.models import OutboxMessage
from outbox.services import OutboxFile, outbox_deliver, outbox_dispatch_overdue, outbox_enqueue
from outbox.tasks import outbox_send
from tests.support.smtp import free_port, use_smtp

NOW = datetime(2026, 6, 8, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def queue(key: str = "test:1", **kw) -> OutboxMessage:
    fields = {
        "to": ["customer@example.test"],
        "subject": "Your ticket T-000001",
        "body": "Hello",
        "dedupe_key": key,
        "now": NOW,
    }
    message, created = outbox_enqueue(**(fields | kw))
    assert created
    return message


def test_a_message_is_delivered_once_with_its_attachments(db, smtp):
    default_storage.save("statements/june.pdf", ContentFile(b"%PDF-1.7 june"))
    message = queue(
        html_body="<p>Hello</p>",
        attachments=[
            OutboxFile("trace.txt", "text/plain", content=b"line 1"),
            OutboxFile("june.pdf", "application/pdf", storage_path="statements/june.pdf"),
        ],
    )
    assert outbox_send.apply(args=[message.pk]).get() == "sent"
    assert outbox_send.apply(args=[message.pk]).get() == "skipped"  # idempotent
    [received] = smtp.received
    assert received["Subject"] == "Your ticket T-000001"
    assert received["To"] == "customer@example.test"
    assert received["Message-ID"] == message.message_id
    parts = {part.get_filename(): part.get_payload(decode=True) for part in received.walk()}
    assert parts["trace.txt"] == b"line 1"
    assert parts["june.pdf"] == b"%PDF-1.7 june"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.sent_at is not None


def test_a_temporary_failure_is_retried_with_backoff_and_then_delivered(db, smtp):
    smtp.replies = ["451 4.3.0 Try again later"]
    message = queue()
    first = outbox_deliver(message_id=message.pk, now=NOW)
    assert (first.status, first.retry_in) == ("pending", timedelta(minutes=1))
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert "451" in message.last_error
    assert message.next_attempt_at == NOW + timedelta(minutes=1)
    assert smtp.received == []
    second = outbox_deliver(message_id=message.pk, now=NOW + timedelta(minutes=1))
    assert second.status == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(smtp.received) == 1


def test_a_refused_connection_is_temporary(db, settings):
    use_smtp(settings, free_port())  # nothing listens there
    message = queue()
    delivery = outbox_deliver(message_id=message.pk, now=NOW)
    assert delivery.status == "pending" and delivery.retry_in == timedelta(minutes=1)
    message.refresh_from_db()
    assert "ConnectionRefusedError" in message.last_error


def test_a_permanent_failure_is_failed_without_retry(db, smtp):
    smtp.replies = ["550 5.1.1 No such user"]
    message = queue()
    delivery = outbox_deliver(message_id=message.pk, now=NOW)
    assert (delivery.status, delivery.retry_in) == ("failed", None)
    assert outbox_deliver(message_id=message.pk, now=NOW + timedelta(hours=1)).status == "skipped"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert "550" in message.last_error
    assert smtp.received == []


def test_temporary_failures_give_up_after_the_last_attempt(db, smtp, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp.replies = ["421 4.7.0 busy"] * 3
    message = queue()
    delays = [outbox_deliver(message_id=message.pk, now=NOW).retry_in for _ in range(3)]
    assert delays == [timedelta(minutes=1), timedelta(minutes=2), None]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)


def test_the_same_notification_is_never_queued_twice(db):
    first = queue("ticket-reply:7")
    again, created = outbox_enqueue(
        to="someone@example.test", subject="Other", body="x", dedupe_key="ticket-reply:7"
    )
    assert (again, created) == (first, False)
    assert OutboxMessage.objects.count() == 1


def test_bad_messages_are_refused(db):
    with pytest.raises(ValidationError) as refused:
        outbox_enqueue(to=["not-an-address"], subject="s", body="b", dedupe_key="k")
    assert "to" in refused.value.message_dict
    with pytest.raises(ValidationError):
        outbox_enqueue(to=[], subject="s", body="b", dedupe_key="k")
    with pytest.raises(ValidationError):
        outbox_enqueue(
            to=["a@example.test"],
            subject="s",
            body="b",
            dedupe_key="k",
            attachments=[OutboxFile("x.pdf", "application/pdf", content=b"1", storage_path="y")],
        )
    assert not OutboxMessage.objects.exists()


def test_sending_waits_for_the_commit(db, django_capture_on_commit_callbacks, celery_eager):
    with django_capture_on_commit_callbacks() as callbacks:
        message = queue()
    assert len(callbacks) == 1 and django_mail.outbox == []
    callbacks[0]()
    assert [m.subject for m in django_mail.outbox] == ["Your ticket T-000001"]
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_rolled_back_change_queues_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue()
            raise RuntimeError("the business change failed")
    assert callbacks == [] and not OutboxMessage.objects.exists()


def test_overdue_pending_messages_are_dispatched_again(db, celery_eager):
    stale = queue("stale")
    fresh = queue("fresh")
    OutboxMessage.objects.filter(pk=fresh.pk).update(next_attempt_at=NOW + timedelta(minutes=9))
    assert outbox_dispatch_overdue(now=NOW + timedelta(minutes=10)) == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == ("sent", "pending")
