"""Helpers shared by the credit services: who may act, and the locked balance row."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from contracts.models import Contract, Customer, User
from credits.models import Balance, LedgerEntry
from slaportal import authority


def manages(actor: User | None, customer: Customer) -> bool:
    """An account manager assigned to this customer."""
    return authority.manages(actor, customer.pk)


def require_account_manager(actor: User | None, customer: Customer) -> None:
    # The message never says whether the customer exists: the API turns this into a 404.
    if not manages(actor, customer):
        raise PermissionDenied("Only an account manager of this customer may decide.")


def require_staff_for(actor: User | None, customer: Customer) -> None:
    """An account manager of the customer, or an administrator (never the system: these
    are people's actions)."""
    if actor is None:
        raise PermissionDenied("Only this customer's account manager or an administrator may.")
    authority.require_acts_for(actor, customer.pk, what="do this")


def require_reason(reason: str, field: str = "reason", *, what: str = "") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field: [f"Give the reason{what}."]})
    return text


def locked_balance(customer: Customer, currency: str) -> Balance:
    """The customer's balance row in ``currency``, locked until the transaction ends.

    Every writer of a customer's ledger takes this lock first (then any invoice), so
    two writers for the same customer run one after the other and always in that order.
    """
    Balance.objects.get_or_create(customer=customer, currency=currency)
    return Balance.objects.select_for_update().get(customer=customer, currency=currency)


def post(
    balance: Balance,
    *,
    kind: str,
    amount: Decimal,
    description: str,
    actor: User | None,
    contract: Contract | None = None,
    **refs,
) -> LedgerEntry:
    """Append one entry and move the (already locked) balance by the same amount."""
    new_amount = balance.amount + amount
    if new_amount < 0:
        raise ValidationError(
            {
                "amount": [
                    f"The balance is {balance.amount} {balance.currency}; "
                    f"the balance has already been used and cannot go below zero."
                ]
            }
        )
    entry = LedgerEntry.objects.create(
        customer_id=balance.customer_id,
        contract=contract,
        kind=kind,
        amount=amount,
        currency=balance.currency,
        description=description[:300],
        created_by=actor,
        **refs,
    )
    balance.amount = new_amount
    balance.save(update_fields=["amount", "updated_at"])
    return entry
