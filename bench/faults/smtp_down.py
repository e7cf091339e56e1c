"""Stop the SMTP server during a monthly run: the statement e-mails wait in the outbox
(temporary failures, retried with backoff) and are delivered once it is back, each once."""

import harness as h
from harness import say


def main() -> bool:
    h.fresh_database()
    from outbox.models import OutboxMessage

    data = h.build(contracts=24)
    smtp = h.Smtp()
    smtp.start()
    worker = h.worker("only")
    try:
        h.tick()
        say("statements tick sent")
        h.wait_for(lambda: len(smtp.statement_numbers()) >= 3, 120, "3 statement e-mails")
        smtp.stop()
        say(f"SMTP server stopped after {len(smtp.statement_numbers())} statement e-mails")

        def waiting() -> int:
            h.approve_pending(data["manager"])
            return OutboxMessage.objects.filter(
                status=OutboxMessage.Status.PENDING, attempts__gte=1
            ).count()

        h.wait_for(lambda: h.statements_done(data) and waiting() >= 5, 180, "failed attempts")
        pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        errors = set(pending.exclude(last_error="").values_list("last_error", flat=True))
        say(f"all statements issued; {pending.count()} e-mails waiting in the outbox: {errors}")
        smtp.start()
        say("SMTP server started again on the same port")
        h.run_to_the_end(data, smtp)
        retried = OutboxMessage.objects.filter(attempts__gt=1).count()
        say(f"every statement e-mail delivered; {retried} of them after one or more retries")
        return h.verify(data, smtp) and retried > 0
    finally:
        worker.stop()
        smtp.stop()


if __name__ == "__main__":
    h.scenario(main)
