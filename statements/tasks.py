"""Thin Celery tasks: ids in, one service call, a short outcome out.

Each task is named after the service it calls, with ``_task``: ``statement_render_task``
calls ``statement_render``, and nothing else in the app shares a task's name (the PDF
renderer ``statements.pdf.render_statement_pdf`` once had a task of the same name).

Every task is idempotent (a second delivery finds its work done and returns), so they
run with ``acks_late``: a worker killed mid-task leaves the message to be delivered
again rather than lost. A database outage (``OperationalError``) is retried with
backoff; anything else is recorded where staff see it (the run's failed items). None
holds work only in its message: the hourly tick finds every lost one again in the
database (a pending claim, a statement owed its delivery, an open re-issue request),
which is also what covers messages queued under a task's earlier name.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from contracts.models import Contract
from statements.services import (
    statement_generate,
    statement_render,
    statement_run_item_process,
    statements_tick,
)

log = logging.getLogger(__name__)

RETRYING = {
    "acks_late": True,
    # The database restarting or failing over: the connection is gone; retry reconnects.
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task
def statements_tick_task() -> dict:
    """Hourly (django-celery-beat): fan out the statements every ended month still owes,
    and the deliveries still owed."""
    outcome = statements_tick().as_dict()
    log.info("statements tick: %s", outcome)
    return outcome


@shared_task(**RETRYING)
def statement_generate_task(contract_id: int, month_iso: str, item_id: int | None = None) -> str:
    """One contract's statement for a month; with ``item_id``, as an item of a run, with
    the items after it that no other worker holds (``statement_run_item_process``)."""
    if item_id is not None:
        return statement_run_item_process(item_id=item_id).status
    contract = Contract.objects.select_related("policy__measurement_calendar").get(pk=contract_id)
    return statement_generate(contract=contract, month=date.fromisoformat(month_iso)).number


@shared_task(**RETRYING)
def statement_render_task(statement_id: int) -> str:
    """Store the statement's PDF once its credits are decided, then e-mail it."""
    return statement_render(statement_id=statement_id)
