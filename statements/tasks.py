"""Thin Celery tasks: ids in, one service call, a short outcome out.

Every task is idempotent (a second delivery finds its work done and returns), so they
run with ``acks_late``: a worker killed mid-task leaves the message to be delivered
again rather than lost. A database outage (``OperationalError``) is retried with
backoff; anything else is recorded where staff see it (the run's failed items).
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from contracts.models import Contract
from statements.services import (
    statement_generate,
    statement_reissue_requested,
    statement_render,
    statement_run_item_process,
)
from statements.services import (
    statements_tick as tick,
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
def statements_tick() -> dict:
    """Hourly (django-celery-beat): fan out the statements every ended month still owes."""
    outcome = tick().as_dict()
    log.info("statements tick: %s", outcome)
    return outcome


@shared_task(**RETRYING)
def generate_statement(contract_id: int, month_iso: str, item_id: int | None = None) -> str:
    """One contract's statement for a month; with ``item_id``, as an item of a run."""
    if item_id is not None:
        return statement_run_item_process(item_id=item_id).status
    contract = Contract.objects.select_related("policy__measurement_calendar").get(pk=contract_id)
    return statement_generate(contract=contract, month=date.fromisoformat(month_iso)).number


@shared_task(**RETRYING)
def render_statement_pdf(statement_id: int) -> str:
    """Store the statement's PDF once its credits are decided, then e-mail it."""
    return statement_render(statement_id=statement_id)


@shared_task(**RETRYING)
def reissue_statement(contract_id: int, month_iso: str) -> str:
    """Resolve a contract-month's re-issue requests (re-issuing when figures changed)."""
    contract = Contract.objects.select_related("policy__measurement_calendar").get(pk=contract_id)
    statement = statement_reissue_requested(contract=contract, month=date.fromisoformat(month_iso))
    return statement.number if statement is not None else "no statement"
