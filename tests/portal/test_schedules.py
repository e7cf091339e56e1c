"""Periodic jobs are written by `setup_schedules`, once, with an explicit time zone."""

from __future__ import annotations

from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from portal.schedules import SCHEDULES
from slaportal.celery import app


def test_setup_schedules_writes_every_job_once_with_its_zone(db):
    call_command("setup_schedules", verbosity=0)
    call_command("setup_schedules", verbosity=0)
    tasks = PeriodicTask.objects.select_related("crontab")
    assert sorted(t.name for t in tasks) == sorted(s.name for s in SCHEDULES)
    expiry = tasks.get(task="credits.tasks.expire_credits_on_termination")
    # Hourly: a termination day ends at local midnight in its policy's zone.
    assert (expiry.crontab.hour, expiry.crontab.minute, str(expiry.crontab.timezone)) == (
        "*",
        "15",
        "UTC",
    )


def test_every_scheduled_task_is_a_registered_celery_task(db):
    app.loader.import_default_modules()
    for schedule in SCHEDULES:
        assert schedule.task in app.tasks, schedule.task


def test_a_job_removed_from_code_is_removed_from_the_scheduler(db):
    every = IntervalSchedule.objects.create(every=1, period="minutes")
    PeriodicTask.objects.create(name="old job", task="credits.tasks.gone", interval=every)
    call_command("setup_schedules", verbosity=0)
    assert not PeriodicTask.objects.filter(name="old job").exists()


def test_credit_sweeps_run_hourly_after_the_statements_tick(db):
    call_command("setup_schedules", verbosity=0)
    tasks = PeriodicTask.objects.select_related("crontab")
    minutes = {
        t.task: (t.crontab.hour, t.crontab.minute, str(t.crontab.timezone))
        for t in tasks.filter(task__startswith="credits.tasks.credit")
    }
    assert minutes == {
        "credits.tasks.credits_apply_owed_task": ("*", "20", "UTC"),
        "credits.tasks.credit_notes_deliver_owed_task": ("*", "25", "UTC"),
    }


def _period_seconds(minute: str, hour: str) -> int:
    """Seconds between two ticks of the crontabs SCHEDULES uses (every hour at a minute,
    every N minutes, every minute)."""
    assert hour == "*", "a schedule that is not hourly or faster: extend this helper"
    if minute == "*":
        return 60
    if minute.startswith("*/"):
        return 60 * int(minute[2:])
    return 3600


def test_the_minute_escalation_tick_expires_after_a_minute(db):
    call_command("setup_schedules", verbosity=0)
    tick = PeriodicTask.objects.get(task="tickets.tasks.escalate_tickets")
    assert (tick.crontab.minute, tick.expire_seconds, tick.expires) == ("*", 60, None)
    # What beat sends: the message's own expiry, so a backlog of ticks is dropped.
    from django_celery_beat.schedulers import ModelEntry

    assert ModelEntry(tick, app=app).options["expires"] == 60


def test_every_tick_expires_within_its_period_so_no_backlog_of_ticks_builds_up(db):
    call_command("setup_schedules", verbosity=0)
    for task in PeriodicTask.objects.exclude(name__startswith="celery.").select_related("crontab"):
        period = _period_seconds(task.crontab.minute, task.crontab.hour)
        assert task.expire_seconds is not None and 0 < task.expire_seconds <= period, task.name
