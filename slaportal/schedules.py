"""Every periodic job, as code. ``manage.py setup_schedules`` writes them into
django-celery-beat's tables (idempotently), each with an explicit time zone; the one
``celery beat`` process reads them with the database scheduler."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str = "0"
    hour: str = "*"
    timezone: str = "UTC"
    description: str = ""


SCHEDULES = [
    Schedule(
        name="credits: expire balances of terminated contracts",
        task="credits.tasks.expire_credits_on_termination",
        minute="15",
        hour="0",
        timezone="UTC",
        description="Daily: a terminated contract's credits expire (multiplier SLA).",
    ),
]
