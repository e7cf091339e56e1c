"""Reads: credit terms from a policy, balances, pending credits, the ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from contracts.models import Customer, Invoice, SLAPolicy, User
from contracts.terms import Band
from credits.models import Balance, Credit, CreditEvent, LedgerEntry
from credits.rules import CreditTerms
from slaportal.money import round_money
from slaportal.roles import ADMIN, has_role


def credit_terms(policy: SLAPolicy) -> CreditTerms:
    """The policy's credit terms as the pure rules take them (bands, clauses, label)."""
    bands = tuple(
        Band(band.lower_pct, band.upper_pct, band.credit_pct) for band in policy.bands.all()
    )
    return CreditTerms(
        rule=policy.credit_rule,
        target_pct=policy.target_availability,
        bands=bands,
        multiplier=policy.credit_multiplier,
        cap_pct=policy.credit_cap_pct,
        requires_paid_invoices=policy.requires_paid_invoices,
        expire_on_termination=policy.credits_expire_on_termination,
        credit_clause=policy.credit_clause,
        cap_clause=policy.credit_cap_clause,
        eligibility_clause=policy.eligibility_clause,
        policy_label=f"{policy.name} v{policy.version}",
    )


def customer_balances(customer: Customer) -> dict[str, Decimal]:
    """The customer's credit balance per currency (only currencies with a balance row)."""
    return dict(
        Balance.objects.filter(customer=customer)
        .order_by("currency")
        .values_list("currency", "amount")
    )


def customer_balance(customer: Customer, currency: str) -> Decimal:
    """The customer's credit balance in ``currency``; zero when nothing was ever granted."""
    amount = (
        Balance.objects.filter(customer=customer, currency=currency)
        .values_list("amount", flat=True)
        .first()
    )
    return round_money(amount or 0, currency)


def pending_credits_for(account_manager: User) -> QuerySet[Credit]:
    """Credits awaiting a decision by this account manager (their customers only)."""
    return (
        Credit.objects.filter(
            status=Credit.Status.PENDING,
            contract__customer__account_managers=account_manager,
        )
        .select_related("contract__customer", "service")
        .order_by("month", "contract__reference", "service__name")
        .distinct()
    )


def credits_for_customer(customer: Customer) -> QuerySet[Credit]:
    return Credit.objects.filter(contract__customer=customer).select_related(
        "contract", "service", "decided_by"
    )


def credit_history(credit: Credit) -> QuerySet[CreditEvent]:
    return credit.events.select_related("actor").order_by("at", "pk")


def ledger_for(customer: Customer) -> QuerySet[LedgerEntry]:
    """The customer's ledger, oldest first, with what each entry points at."""
    return (
        LedgerEntry.objects.filter(customer=customer)
        .select_related("contract", "credit__service", "invoice_line__invoice", "created_by")
        .order_by("created_at", "pk")
    )


def ledger_newest_first(customer: Customer) -> QuerySet[LedgerEntry]:
    """The customer's ledger as their credits page lists it: newest entry first."""
    return ledger_for(customer).order_by("-created_at", "-pk")


def credits_for_staff(user: User) -> QuerySet[Credit]:
    """Credits a staff member may open: an account manager's customers' (another
    customer's credit is not there, so it is a 404); an administrator's, every credit."""
    credits = Credit.objects.select_related(
        "contract__customer", "contract__policy", "service", "decided_by"
    )
    if not has_role(user, ADMIN):
        credits = credits.filter(contract__customer__account_managers=user)
    return credits


def invoices_for_staff(user: User) -> QuerySet[Invoice]:
    """Invoices of the customers ``user`` manages; an administrator's, every invoice."""
    invoices = Invoice.objects.select_related("customer", "contract")
    if not has_role(user, ADMIN):
        invoices = invoices.filter(customer__account_managers=user)
    return invoices.order_by("-issued_on", "-pk")


def invoices_for_customer(customer: Customer) -> QuerySet[Invoice]:
    return customer.invoices.select_related("contract").order_by("-issued_on", "-pk")
