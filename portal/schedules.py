"""Every periodic job, as code. ``manage.py setup_schedules`` writes them into
django-celery-beat's tables (idempotently), each with an explicit time zone; the one
``celery beat`` process reads them with the database scheduler.

Every job carries an expiry of one period (``expire_seconds``, sent as the task's
``expires``): a tick still queued when the next one is due is dropped by the worker, since
each job is a sweep and the next tick does the same work. So workers that were down or
busy find at most one tick of each job waiting, never a backlog that runs one by one.
(Queued behind a monthly run, the hourly statements tick would otherwise pile up.)"""

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
    # Seconds after which a tick not yet started is dropped: the job's period.
    expire_seconds: int = 3600


SCHEDULES = [
    Schedule(
        name="credits: expire balances of terminated contracts",
        task="credits.tasks.expire_credits_on_termination",
        minute="15",
        hour="*",
        timezone="UTC",
        description="Hourly: a terminated contract's credits expire (multiplier SLA) once its "
        "termination day has ended in the policy's zone, which is a local midnight.",
    ),
    Schedule(
        name="credits: apply approved credits to open invoices",
        task="credits.tasks.credits_apply_owed_task",
        minute="20",
        hour="*",
        timezone="UTC",
        description="Hourly: credits left on an account where an open invoice of that "
        "currency exists (an application lost with its worker) go on the invoice now.",
    ),
    Schedule(
        name="credits: deliver credit notes owed their PDF or e-mail",
        task="credits.tasks.credit_notes_deliver_owed_task",
        minute="25",
        hour="*",
        timezone="UTC",
        description="Hourly: a credit note whose PDF or e-mail task was lost is rendered, "
        "stored and e-mailed once.",
    ),
    Schedule(
        name="tickets: escalate tickets nearing or past an SLA target",
        task="tickets.tasks.escalate_tickets",
        minute="*",
        hour="*",
        timezone="UTC",
        expire_seconds=60,
        description="Every minute: flag breaches; e-mail at 75 % of a target and at breach, "
        "once per ticket, target and level.",
    ),
    Schedule(
        name="tickets: take in e-mail from the IMAP mailbox",
        task="tickets.tasks.fetch_email",
        minute="*",
        hour="*",
        timezone="UTC",
        expire_seconds=60,
        description="Every minute, when IMAP_URL is set: each message in the mailbox becomes "
        "a ticket or a reply and moves to IMAP_PROCESSED_FOLDER (refused mail to "
        "IMAP_REJECTED_FOLDER); without IMAP_URL the tick does nothing.",
    ),
    Schedule(
        name="outbox: re-dispatch overdue e-mail",
        task="outbox.tasks.outbox_flush",
        minute="*/5",
        hour="*",
        timezone="UTC",
        expire_seconds=300,
        description="Every 5 minutes: send again the pending e-mail whose own task was lost.",
    ),
    Schedule(
        name="outbox: send due webhook deliveries",
        task="outbox.tasks.webhook_flush",
        minute="*/5",
        hour="*",
        timezone="UTC",
        expire_seconds=300,
        description="Every 5 minutes: send the pending webhook deliveries that are due (a "
        "retry whose task was lost, or a first attempt whose dispatch failed).",
    ),
    Schedule(
        name="statements: issue the statements of every month that has ended",
        task="statements.tasks.statements_tick_task",
        minute="5",
        hour="*",
        timezone="UTC",
        description="Hourly: a month ends at local midnight in each policy's zone, so every "
        "zone's statements follow within the hour; a month missed while the scheduler was down "
        "(up to three back) is caught up, statements still owed their PDF or e-mail are "
        "delivered, and re-issue requests are fanned out.",
    ),
    Schedule(
        name="status: fan out incident updates owed their e-mail",
        task="status.tasks.fanout_sweep_task",
        minute="*/5",
        hour="*",
        timezone="UTC",
        expire_seconds=300,
        description="Every 5 minutes: e-mail the public updates not fanned out yet (a lost "
        "task, maintenance whose announcement time has come, an alert's outage just "
        "confirmed) to subscribers or the affected customers' people, once each.",
    ),
    Schedule(
        name="portal: delete expired sessions",
        task="portal.tasks.clear_expired_sessions_task",
        minute="50",
        hour="*",
        timezone="UTC",
        description="Hourly: sessions past their expiry (Django's clearsessions) are deleted; "
        "Django never deletes them itself.",
    ),
]
