"""The account manager's decision on each computed credit (``credits.services.computing``
computes them)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from contracts.models import User
from credits.models import Credit, CreditEvent, LedgerEntry
from credits.services._common import locked_balance, post, require_account_manager, require_reason
from credits.services.application import credits_apply
from credits.services.ledger import ledger_reverse
from credits.signals import credit_decided
from credits.webhooks import emit_credit

ALREADY = {
    Credit.Status.APPROVED: "This credit is already approved.",
    Credit.Status.REJECTED: "This credit is already rejected.",
    Credit.Status.INELIGIBLE: "This credit is not eligible; there is nothing to decide.",
}


def _locked_pending(credit: Credit, actor: User | None) -> Credit:
    locked = (
        Credit.objects.select_for_update(of=("self",))
        .select_related("contract__customer", "service")
        .get(pk=credit.pk)
    )
    require_account_manager(actor, locked.contract.customer)
    if locked.status != Credit.Status.PENDING:
        raise ValidationError({"status": [ALREADY[locked.status]]}, code="already_decided")
    return locked


@transaction.atomic
def credit_approve(*, credit: Credit, actor: User, now: datetime | None = None) -> Credit:
    """Approve a pending credit: it is granted to the customer's balance (one ledger
    entry, ``credit.entries``). When two
    managers act at once, the row lock makes the second see the first's decision.

    A later revision (a re-issued statement) replaces the earlier ones: their grants are
    reversed in the same transaction, after the new amount is granted."""
    locked = _locked_pending(credit, actor)
    now = now or timezone.now()
    locked.status = Credit.Status.APPROVED
    locked.decided_by = actor
    locked.decided_at = now
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    CreditEvent.objects.create(credit=locked, action="approved", actor=actor)
    _audit_decision(locked, actor, "credit.approve")
    if locked.amount > 0:  # a zero revision only withdraws the earlier grant
        balance = locked_balance(locked.contract.customer, locked.currency)
        post(
            balance,
            kind=LedgerEntry.Kind.CREDIT_GRANTED,
            amount=locked.amount,
            description=f"Service credit: {locked.service} {locked.month:%Y-%m} "
            f"({locked.contract.reference})",
            actor=actor,
            contract=locked.contract,
            credit=locked,
        )
    if locked.revision > 1:
        _reverse_earlier_grants(locked, actor)
    emit_credit(locked, now=now)
    # At once, where an open invoice of the policy's kind exists; else when one is recorded.
    credits_apply(customer=locked.contract.customer, currency=locked.currency, now=now)
    _decided(locked)
    _refresh(credit, locked)
    return credit


def _audit_decision(credit: Credit, actor: User, action: str, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=credit,
        changes={
            "status": {"before": Credit.Status.PENDING.value, "after": credit.status},
            "amount": {"before": credit.amount, "after": credit.amount},
        },
        reason=reason,
    )


def _reverse_earlier_grants(credit: Credit, actor: User) -> None:
    grants = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.CREDIT_GRANTED,
        credit__contract_id=credit.contract_id,
        credit__service_id=credit.service_id,
        credit__month=credit.month,
        credit__revision__lt=credit.revision,
        reversed_by__isnull=True,
    ).order_by("pk")
    for entry in grants:
        ledger_reverse(
            entry=entry,
            actor=actor,
            reason=f"replaced by revision {credit.revision} of the {credit.month:%Y-%m} credit",
        )


def _decided(credit: Credit) -> None:
    # A statement waits for its credits' decisions before it is rendered and e-mailed;
    # statements listens (credits never imports it: it is a layer above).
    credit_decided.send(sender=Credit, credit=credit)


@transaction.atomic
def credit_reject(
    *, credit: Credit, actor: User, reason: str, now: datetime | None = None
) -> Credit:
    """Reject a pending credit with the reason; nothing reaches the ledger."""
    locked = _locked_pending(credit, actor)
    text = require_reason(reason, what=" for rejecting the credit")
    locked.status = Credit.Status.REJECTED
    locked.reason = text
    locked.decided_by = actor
    locked.decided_at = now or timezone.now()
    locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    CreditEvent.objects.create(credit=locked, action="rejected", actor=actor, note=text)
    _audit_decision(locked, actor, "credit.reject", reason=text)
    emit_credit(locked, now=locked.decided_at)
    _decided(locked)
    _refresh(credit, locked)
    return credit


def _refresh(target: Credit, source: Credit) -> None:
    for name in ("status", "reason", "decided_by_id", "decided_at"):
        setattr(target, name, getattr(source, name))
