"""Verify the stored figures against the rows they summarise: each customer's balance
equals the sum of their ledger entries (per currency); each invoice's total equals the
sum of its lines, and its customer is its contract's. Exits non-zero naming the first
mismatch. (The database refuses such an invoice today, contracts migration 0006; this
finds rows written before it, or with its triggers lifted.)"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum

from contracts.models import Customer, Invoice, InvoiceLine
from credits.models import Balance, LedgerEntry
from slaportal.money import round_money

ZERO = Decimal("0.00")


def ledger_mismatches() -> list[str]:
    """Every disagreement, customers by name then invoices by number."""
    stored: dict[tuple[int, str], Decimal] = {
        (row["customer_id"], row["currency"]): row["amount"]
        for row in Balance.objects.values("customer_id", "currency", "amount")
    }
    summed: dict[tuple[int, str], Decimal] = {
        (row["customer_id"], row["currency"]): row["total"]
        for row in LedgerEntry.objects.values("customer_id", "currency").annotate(
            total=Sum("amount")
        )
    }
    by_customer: dict[int, set[str]] = defaultdict(set)
    for customer_id, currency in {*stored, *summed}:
        by_customer[customer_id].add(currency)
    problems: list[str] = []
    for customer in Customer.objects.filter(pk__in=by_customer).order_by("name"):
        for currency in sorted(by_customer[customer.pk]):
            # SQLite sums decimals loosely; both sides are whole minor units.
            balance = round_money(stored.get((customer.pk, currency), ZERO), currency)
            entries = round_money(summed.get((customer.pk, currency), ZERO), currency)
            if balance != entries:
                problems.append(
                    f"customer {customer.name!r} ({customer.pk}): balance {balance} {currency} "
                    f"!= sum of ledger entries {entries} {currency}"
                )
    lines = dict(
        InvoiceLine.objects.values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    invoices = Invoice.objects.order_by("number").values_list(
        "pk",
        "number",
        "total",
        "currency",
        "customer_id",
        "customer__name",
        "contract__reference",
        "contract__customer_id",
        "contract__customer__name",
    )
    for pk, number, total, currency, customer_id, customer, *contract in invoices:
        summed_lines = round_money(lines.get(pk, ZERO), currency)
        if total != summed_lines:
            problems.append(
                f"invoice {number}: total {total} {currency} "
                f"!= sum of its lines {summed_lines} {currency}"
            )
        reference, contract_customer_id, contract_customer = contract
        if customer_id != contract_customer_id:
            problems.append(
                f"invoice {number}: customer {customer!r} is not the customer of its contract "
                f"{reference} ({contract_customer!r})"
            )
    return problems


class Command(BaseCommand):
    help = (
        "Check every balance against its ledger entries, and every invoice's total against its "
        "lines and its customer against its contract's."
    )

    def handle(self, *args, **options):
        problems = ledger_mismatches()
        for problem in problems:
            self.stderr.write(f"MISMATCH {problem}")
        if problems:
            raise CommandError(
                f"Ledger check failed: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger OK: {Balance.objects.count()} balance(s), "
                f"{Invoice.objects.count()} invoice(s) checked."
            )
        )
