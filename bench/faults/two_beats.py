"""Two ``celery beat`` processes by mistake, both firing the statements tick (every 2 s
here instead of hourly): still one statement per contract and month, each e-mailed once
(the tick claims each contract-month in the database before dispatching it)."""

import re

import harness as h
from harness import say


def main() -> bool:
    h.fresh_database()
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    tick = PeriodicTask.objects.get(task="statements.tasks.statements_tick_task")
    every, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    tick.crontab, tick.interval = None, every
    tick.save()
    say(f"schedule '{tick.name}' set to every 2 s for the scenario")
    data = h.build(contracts=24)
    smtp = h.Smtp()
    smtp.start()
    worker = h.worker("only")
    beats = [h.beat("beat-one"), h.beat("beat-two")]
    try:
        h.run_to_the_end(data, smtp)
        sent = [len(re.findall(r"Sending due task .*statements_tick", b.log())) for b in beats]
        say(f"both beats ticked while the run went on: {sent[0]} and {sent[1]} ticks sent")
        ok = h.verify(data, smtp)
        sent = [len(re.findall(r"Sending due task .*statements_tick", b.log())) for b in beats]
        say(f"ticks sent by the end: {sent}")
        return ok and all(n >= 2 for n in sent)
    finally:
        for process in (*beats, worker):
            process.stop()
        smtp.stop()


if __name__ == "__main__":
    h.scenario(main)
