"""SIGKILL the worker sending an e-mail right after the SMTP server's 250, before the
outbox row says sent; then SIGKILL another right before DATA. Each e-mail reaches the
server exactly once, with the Message-ID it was queued with.

After the 250: the SMTP server (aiosmtpd, in this process) keeps the message and, before
replying 250, takes a row lock on the message's outbox row. The worker reads the 250 and
its "sent" UPDATE waits on that lock — proof that it has the 250 — and at that moment the
worker's process group gets SIGKILL. Its database session is terminated too: PostgreSQL
would otherwise finish the UPDATE once the lock is released, and the kill must stand for
one a moment earlier, before that UPDATE left the worker. A second worker receives the
redelivered task (acks late) and skips the message, still "sending"; reconciliation, run
as the periodic flush runs it once the claim has timed out, holds it for an operator
instead of sending it again; an administrator confirms it delivered.

Before DATA: the server kills the worker while answering RCPT TO. Its task, redelivered,
is skipped; reconciliation sends it again, and a third worker delivers it once.

Its own database and broker database (``FAULTS_DATABASE_URL``, ``FAULTS_BROKER_URL``), so
it can run beside the other scenarios.
"""

import os

os.environ.setdefault(
    "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_fault_after250"
)
os.environ.setdefault("FAULTS_BROKER_URL", "redis://127.0.0.1:6379/14")

import email  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import harness as h  # noqa: E402
from harness import say  # noqa: E402

AFTER_250 = "killed-after-250@example.test"
BEFORE_DATA = "killed-before-data@example.test"


class KillingSmtp(h.Smtp):
    """Accepts every message; kills the sender of the two victims at their moment."""

    def __init__(self) -> None:
        super().__init__()
        self.kill_at_rcpt: h.Process | None = None
        self.row_lock = None  # the psycopg connection holding the victim's row lock
        self.replied_250 = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == BEFORE_DATA and self.kill_at_rcpt is not None:
            self.kill_at_rcpt.kill()
            say(f"SIGKILL to worker '{self.kill_at_rcpt.name}' while answering RCPT TO")
            self.kill_at_rcpt = None
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content)
        self.messages.append(message)
        if AFTER_250 in envelope.rcpt_tos and self.row_lock is None:
            import psycopg

            self.row_lock = psycopg.connect(h.DATABASE_URL)
            self.row_lock.execute(
                "SELECT id FROM outbox_outboxmessage WHERE message_id = %s FOR UPDATE",
                [message["Message-ID"]],
            )
            self.replied_250.set()
        return "250 OK"

    def copies(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.messages)


def blocked_sent_update() -> tuple[int, str] | None:
    """The database session whose UPDATE of an outbox row waits on a lock, if any."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE \"outbox_outboxmessage\"%%'"
        )
        return cursor.fetchone()


def terminate(pid: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    h.wait_for(lambda: not _alive(pid), 30, f"database session {pid} to end")


def _alive(pid: int) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def next_worker(name: str, task_sent_at: float) -> h.Process:
    """Start a worker once the killed worker's task is past the visibility timeout: the
    new worker's first sweep of unacknowledged messages (10 s after it starts; kombu
    throttles the later ones to about every 100 s) then hands it the task again, which
    it must skip."""
    visible_after = int(h.ENV["CELERY_VISIBILITY_TIMEOUT"]) + 1
    time.sleep(max(0.0, visible_after - (time.monotonic() - task_sent_at)))
    worker = h.worker(name, concurrency=1)
    h.wait_for(lambda: "'skipped'" in worker.log(), 120, f"the redelivered task on '{name}'")
    say(f"worker '{name}' got the killed worker's task again and skipped it")
    return worker


def main() -> bool:
    h.fresh_database()
    from django.utils import timezone

    from outbox.models import OutboxMessage
    from outbox.services import outbox_confirm_delivered, outbox_dispatch_overdue, outbox_enqueue
    from outbox.services.recovery import sending_timeout
    from tests.support.factories import StaffFactory

    smtp = KillingSmtp()
    smtp.start()
    workers = [h.worker("first", concurrency=1)]
    try:
        # ---- killed after the 250
        sent_at = time.monotonic()
        after, _ = outbox_enqueue(
            to=[AFTER_250], subject="Killed after 250", body="once", dedupe_key="fault:after-250"
        )
        say(f"queued message {after.pk} to {AFTER_250} ({after.message_id})")
        if not smtp.replied_250.wait(60):
            raise TimeoutError("the server never got the message")
        h.wait_for(lambda: blocked_sent_update() is not None, 30, "the worker's 'sent' UPDATE")
        pid, query = blocked_sent_update()
        say(f"server replied 250; the worker's UPDATE waits on the row: {query[:90]}…")
        workers[0].kill()
        terminate(pid)
        smtp.row_lock.rollback()
        smtp.row_lock.close()
        say("SIGKILL to worker 'first' after the 250; its database session terminated")
        after.refresh_from_db()
        say(f"row {after.pk}: {after.status}, DATA marked at {after.data_started_at:%H:%M:%S}")
        stuck_after = after.status == "sending" and after.data_started_at is not None

        workers.append(next_worker("second", sent_at))

        # ---- killed before DATA
        smtp.kill_at_rcpt = workers[1]
        sent_at = time.monotonic()
        before, _ = outbox_enqueue(
            to=[BEFORE_DATA], subject="Killed before DATA", body="once", dedupe_key="fault:before"
        )
        say(f"queued message {before.pk} to {BEFORE_DATA} ({before.message_id})")
        h.wait_for(lambda: workers[1].process.poll() is not None, 60, "worker 'second' killed")
        before.refresh_from_db()
        say(f"row {before.pk}: {before.status}, DATA marked: {before.data_started_at}")
        stuck_before = before.status == "sending" and before.data_started_at is None

        workers.append(next_worker("third", sent_at))

        # ---- reconciliation, as outbox_flush runs it once the claims have timed out
        later = timezone.now() + sending_timeout()
        dispatched = outbox_dispatch_overdue(now=later)
        say(f"reconciliation {sending_timeout()} later: {dispatched} message(s) sent again")
        h.wait_for(
            lambda: OutboxMessage.objects.get(pk=before.pk).status == "sent", 60, "the resend"
        )
        again = outbox_dispatch_overdue(now=later + sending_timeout())
        say(f"reconciliation run again: {again} dispatched")
        time.sleep(5)  # a late duplicate would arrive now
        after.refresh_from_db()
        before.refresh_from_db()
        copies = smtp.copies()
        say(
            f"server copies: {copies[after.message_id]} of {after.pk} ({after.status}), "
            f"{copies[before.message_id]} of {before.pk} ({before.status}, "
            f"{before.attempts} attempts)"
        )
        held = (after.status, after.attempts) == ("held", 1)
        admin = StaffFactory(role="admin")
        outbox_confirm_delivered(message_id=after.pk, actor=admin)
        after.refresh_from_db()
        say(f"an administrator confirmed {after.pk} delivered: {after.status}")
        once_after, once_before = copies[after.message_id], copies[before.message_id]
        checks = {
            "killed after the 250: the row was left 'sending' with its DATA mark": stuck_after,
            "killed before DATA: the row was left 'sending' without one": stuck_before,
            "the message killed after the 250 reached the server exactly once": once_after == 1,
            "…held by reconciliation after one attempt, not sent again": held,
            "…sent once the operator confirmed it": after.status == "sent",
            "the message killed before DATA reached the server exactly once": once_before == 1,
            "…sent again by reconciliation, on its second attempt": (
                before.status,
                before.attempts,
            )
            == ("sent", 2),
            "every copy carries the Message-ID it was queued with": set(copies)
            == {after.message_id, before.message_id},
            "reconciliation dispatched one message, and none when run again": (dispatched, again)
            == (1, 0),
        }
        for label, ok in checks.items():
            say(f"  {'OK  ' if ok else 'FAIL'} {label}")
        return all(checks.values())
    finally:
        for worker in workers:
            worker.stop()
        smtp.stop()


if __name__ == "__main__":
    h.scenario(main)
