"""Kill a Celery worker with SIGKILL in the middle of a monthly run; another worker takes
over. Afterwards every statement exists exactly once and every e-mail was sent exactly
once. (Acknowledgement after the task, ``CELERY_TASK_ACKS_LATE``: the killed worker's
messages go back to the broker and reach the other worker.)"""

import harness as h
from harness import say


def main() -> bool:
    h.fresh_database()
    data = h.build(contracts=24)
    smtp = h.Smtp()
    smtp.start()
    first = h.worker("first")
    second = None
    try:
        h.tick()
        say("statements tick sent")
        from statements.models import Statement

        h.wait_for(
            lambda: Statement.objects.filter(month=data["month"]).count() >= 6, 120, "6 statements"
        )
        done = Statement.objects.filter(month=data["month"]).count()
        first.kill()
        say(f"SIGKILL to worker 'first' and its pool after {done} of 24 statements")
        second = h.worker("second")
        h.run_to_the_end(data, smtp)
        say("worker 'second' finished the run; credits approved as they appeared")
        return h.verify(data, smtp)
    finally:
        for process in (first, second):
            if process:
                process.stop()
        smtp.stop()


if __name__ == "__main__":
    h.scenario(main)
