"""Re-issue requests: an outage changed after its month ended (``outages.services``
opens one per contract-month it touches) may change what that month's statement said.

* ``reissue_requests_settle`` — the hourly tick resolves, without a person, the requests
  of months with no issued statement (``no_statement``: such a month is measured as it
  stands when its statement is generated). A stated month's request waits for staff.
* ``statement_reissue_requested`` — measure the month again and resolve its requests:
  ``reissued`` (revision n + 1) when the figures changed, ``unchanged`` when they did
  not, ``no_statement`` when there is nothing to re-issue;
* ``reissue_request_reissue`` / ``reissue_request_dismiss`` — the staff page's two
  actions on one waiting request (a dismissal says why).

Only the customer's own account managers and administrators act (the system too:
``actor=None``); every resolution is audit-logged.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import Contract, User
from outages.models import ReissueRequest
from slaportal import authority
from statements.models import Statement
from statements.selectors import current_statement, issued_statements, open_reissue_requests
from statements.services.generate import statement_reissue
from statements.services.prepare import locked_contracts

Resolution = ReissueRequest.Resolution
NOTE_LENGTH = ReissueRequest._meta.get_field("resolution_note").max_length
NOTHING_STATED = (
    "No issued statement: the month is measured as it stands when its statement is generated."
)


def _resolve(
    requests: list[ReissueRequest],
    resolution: str,
    *,
    actor: User | None,
    now: datetime,
    note: str,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    ReissueRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        resolved_at=now, resolution=resolution, resolved_by=actor, resolution_note=note
    )
    for request in requests:
        audit_record(
            actor=actor,
            action=action,
            obj=request,
            changes={"resolution": {"before": None, "after": resolution}, **(changes or {})},
            reason=note,
            at=now,
        )


def _open(reissue_request: ReissueRequest) -> ReissueRequest:
    """The request locked, still waiting; a ValidationError once someone resolved it."""
    locked = ReissueRequest.objects.select_for_update().get(pk=reissue_request.pk)
    if locked.resolved_at is not None:
        how = locked.get_resolution_display() or "resolved"
        raise ValidationError({"resolution": [f"This request was resolved already ({how})."]})
    return locked


def statement_reissue_requested(
    *,
    contract: Contract,
    month: date,
    now: datetime | None = None,
    actor: User | None = None,
) -> Statement | None:
    """Resolve the contract-month's open re-issue requests by measuring the month again:
    re-issue its issued statement when the figures changed (``reissued``), keep it when
    they did not (``unchanged``); a month without an issued statement needs nothing
    (``no_statement``). Returns the month's current statement (None: there is none)."""
    authority.require_acts_for(actor, contract.customer_id, what="re-issue its statements")
    now = now or timezone.now()
    month = month.replace(day=1)
    with transaction.atomic():
        # The contract first, as generation and the tick lock it; then its requests,
        # resolved in the transaction that measures the month again, so a change that
        # lands after this point opens a new request.
        locked_contracts([contract.pk])
        requests = list(
            open_reissue_requests().select_for_update().filter(contract=contract, month=month)
        )
        current = current_statement(contract, month)
        if not requests:
            return current
        action = "reissue_request.reissue"
        if current is None or current.status == Statement.Status.DRAFT:
            _resolve(
                requests,
                Resolution.NO_STATEMENT,
                actor=actor,
                now=now,
                note=NOTHING_STATED,
                action=action,
            )
            return current
        reason = "Re-issued: " + "; ".join(dict.fromkeys(r.reason for r in requests))
        statement = statement_reissue(
            contract=contract, month=month, now=now, actor=actor, reason=reason[:300]
        )
        if statement.pk == current.pk:
            resolution = Resolution.UNCHANGED
            note = f"The figures did not change: {current.number} stands."
        else:
            resolution = Resolution.REISSUED
            note = f"Re-issued as {statement.number} (revision {statement.revision})."
        change = {"statement": {"before": current.number, "after": statement.number}}
        _resolve(
            requests, resolution, actor=actor, now=now, note=note, action=action, changes=change
        )
        return statement


def reissue_request_reissue(
    *, reissue_request: ReissueRequest, actor: User | None, now: datetime | None = None
) -> ReissueRequest:
    """Staff: measure the request's month again (``statement_reissue_requested``); the
    request comes back resolved, saying how."""
    contract = reissue_request.contract
    authority.require_acts_for(actor, contract.customer_id, what="re-issue its statements")
    with transaction.atomic():
        locked_contracts([contract.pk])
        _open(reissue_request)
        statement_reissue_requested(
            contract=contract, month=reissue_request.month, now=now, actor=actor
        )
    reissue_request.refresh_from_db()
    return reissue_request


def reissue_request_dismiss(
    *,
    reissue_request: ReissueRequest,
    actor: User | None,
    note: str,
    now: datetime | None = None,
) -> ReissueRequest:
    """Staff: resolve the request without measuring again, saying why (kept with the
    request and in the audit log)."""
    authority.require_acts_for(
        actor, reissue_request.contract.customer_id, what="dismiss its re-issue requests"
    )
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say why the request is dismissed."]})
    if len(note) > NOTE_LENGTH:
        raise ValidationError({"note": [f"Keep the reason to {NOTE_LENGTH} characters."]})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _open(reissue_request)
        _resolve(
            [locked],
            Resolution.DISMISSED,
            actor=actor,
            now=now,
            note=note,
            action="reissue_request.dismiss",
        )
    reissue_request.refresh_from_db()
    return reissue_request


def reissue_requests_settle(*, now: datetime) -> int:
    """The hourly tick's part: resolve, without a person, every open request whose month
    has no issued statement (``no_statement``); how many. A stated month's request waits
    for the customer's account manager (the re-issue requests page): re-issuing sends
    the customer a revised statement, which a person decides."""
    pairs = set(open_reissue_requests().values_list("contract_id", "month"))
    if not pairs:
        return 0
    contract_ids = sorted({contract_id for contract_id, _ in pairs})
    with transaction.atomic():
        # Locked as generation locks them (in id order): a statement being issued right
        # now has either committed (the month is stated: its request waits) or not yet
        # read the month (it reads the changed outage, committed before its request).
        list(
            Contract.objects.select_for_update()
            .filter(pk__in=contract_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        stated = set(issued_statements(pairs))
        unstated = [
            request
            for request in open_reissue_requests()
            .select_for_update()
            .filter(contract_id__in=contract_ids)
            if (request.contract_id, request.month) not in stated
        ]
        _resolve(
            unstated,
            Resolution.NO_STATEMENT,
            actor=None,
            now=now,
            note=NOTHING_STATED,
            action="reissue_request.settle",
        )
    return len(unstated)
