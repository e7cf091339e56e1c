"""Reads: credit terms from a policy, balances, pending credits, the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum

from contracts.models import Customer, Invoice, SLAPolicy, User
from contracts.terms import Band
from credits.models import Balance, Credit, CreditEvent, CreditNote, LedgerEntry
from credits.rules import CreditTerms
from slaportal import authority
from slaportal.money import round_money


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
    return authority.scope_acted_for(credits, user, "contract__customer")


def invoices_for_staff(user: User) -> QuerySet[Invoice]:
    """Invoices of the customers ``user`` manages; an administrator's, every invoice."""
    invoices = Invoice.objects.select_related("customer", "contract")
    return authority.scope_acted_for(invoices, user).order_by("-issued_on", "-pk")


def invoices_for_customer(customer: Customer) -> QuerySet[Invoice]:
    return customer.invoices.select_related("contract").order_by("-issued_on", "-pk")


# ---------------------------------------------------------------- a credit's state now

Chain = tuple[int, int, date]  # contract, service, month: the revisions of one credit


def chain_of(credit: Credit) -> Chain:
    return (credit.contract_id, credit.service_id, credit.month)


@dataclass(frozen=True)
class Application:
    """Part of a credit applied to an invoice by a credit note (net of any reversal)."""

    invoice_number: str
    credit_note_number: str
    amount: Decimal
    at: datetime
    reversed_by: str = ""  # the reversing note's number, when reversed


@dataclass(frozen=True)
class CreditState:
    """What became of a credit, read from the ledger and its credit notes.

    ``status``: the credit's own status (pending, approved, rejected, ineligible) or,
    for an approved one, ``applied`` (all of it is on invoices), ``partly_applied`` (some
    of it), ``expired`` (written off at termination) or ``withdrawn`` (its grant was
    reversed, by a later revision or by staff). ``remaining`` is on the customer's account,
    on no invoice yet; ``applied`` lists every application, reversed ones included (with
    ``reversed_by``)."""

    status: str
    label: str
    reason: str
    amount: Decimal
    currency: str
    granted: Decimal = Decimal("0")
    applied: tuple[Application, ...] = field(default_factory=tuple)
    remaining: Decimal = Decimal("0")
    expired: Decimal = Decimal("0")

    @property
    def applied_amount(self) -> Decimal:
        return sum((a.amount for a in self.applied if not a.reversed_by), Decimal("0"))

    @property
    def live_applications(self) -> tuple[Application, ...]:
        return tuple(a for a in self.applied if not a.reversed_by)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _label(credit: Credit, status: str, applied: tuple[Application, ...], remaining, expired):
    live = [a for a in applied if not a.reversed_by]
    on = "; ".join(
        f"{_money(a.amount, credit.currency)} applied to invoice {a.invoice_number} "
        f"by credit note {a.credit_note_number}"
        for a in live
    )
    if status == "applied":
        if len(live) == 1:
            return (
                f"Applied to invoice {live[0].invoice_number} by credit note "
                f"{live[0].credit_note_number}"
            )
        return f"Applied: {on}"
    if status == "partly_applied":
        return f"{on}; {_money(remaining, credit.currency)} held on your account"
    if status == "expired":
        text = f"{_money(expired, credit.currency)} expired on termination"
        return f"{on}; {text}" if on else text[0].upper() + text[1:]
    if status == "withdrawn":
        return "Withdrawn (replaced by a later revision or reversed)"
    if status == Credit.Status.APPROVED:
        return (
            f"Approved: {_money(remaining, credit.currency)} held on your account, "
            "not yet on an invoice"
        )
    return credit.get_status_display()


def credit_states(credit_ids: Iterable[int]) -> dict[int, CreditState]:
    """Each credit's current state (four queries, however many credits).

    What remains on the account is read per chain (the revisions of one service-month's
    credit), and shown on the chain's latest approved revision: a later revision's grant
    settles what an earlier one had already applied."""
    ids = list(dict.fromkeys(credit_ids))
    credits = list(Credit.objects.filter(pk__in=ids))
    if not credits:
        return {}
    siblings = list(
        Credit.objects.filter(
            contract_id__in={c.contract_id for c in credits},
            month__in={c.month for c in credits},
        ).values("pk", "contract_id", "service_id", "month", "revision", "status")
    )
    chain_members: dict[Chain, list[int]] = defaultdict(list)
    latest_approved: dict[Chain, tuple[int, int]] = {}
    for row in siblings:
        chain = (row["contract_id"], row["service_id"], row["month"])
        chain_members[chain].append(row["pk"])
        if row["status"] == Credit.Status.APPROVED:
            latest_approved[chain] = max(
                latest_approved.get(chain, (0, 0)), (row["revision"], row["pk"])
            )
    chain_for = {pk: chain for chain, pks in chain_members.items() for pk in pks}
    entries: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    chain_sum: dict[Chain, Decimal] = defaultdict(Decimal)
    for row in (
        LedgerEntry.objects.filter(credit_id__in=list(chain_for))
        .values("credit_id", "kind", "reverses__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        kind = row["kind"]
        if kind == LedgerEntry.Kind.REVERSAL:
            kind = f"reversal_of_{row['reverses__kind']}"
        entries[row["credit_id"]][kind] += row["total"]
        chain_sum[chain_for[row["credit_id"]]] += row["total"]
    notes: dict[int, list[CreditNote]] = defaultdict(list)
    reversal_of: dict[int, str] = {}
    for note in (
        CreditNote.objects.filter(credit_id__in=ids)
        .select_related("invoice")
        .order_by("issued_at", "pk")
    ):
        if note.kind == CreditNote.Kind.REVERSAL:
            reversal_of[note.reverses_id] = note.number
        else:
            notes[note.credit_id].append(note)
    states = {}
    for credit in credits:
        sums = entries[credit.pk]
        chain = chain_of(credit)
        applied = tuple(
            Application(
                invoice_number=note.invoice.number,
                credit_note_number=note.number,
                amount=note.amount,
                at=note.issued_at,
                reversed_by=reversal_of.get(note.pk, ""),
            )
            for note in notes[credit.pk]
        )
        granted = sums[LedgerEntry.Kind.CREDIT_GRANTED]
        withdrawn = -sums[f"reversal_of_{LedgerEntry.Kind.CREDIT_GRANTED}"]
        expired = -sums[LedgerEntry.Kind.CREDIT_EXPIRED]
        latest = latest_approved.get(chain, (0, 0))[1] == credit.pk
        remaining = max(chain_sum[chain], Decimal("0")) if latest else Decimal("0")
        live = any(not a.reversed_by for a in applied)
        status = credit.status
        if credit.status == Credit.Status.APPROVED:
            if expired > 0:
                status = "expired"
            elif live and remaining <= 0:
                status = "applied"
            elif live:
                status = "partly_applied"
            elif granted and withdrawn >= granted:
                status = "withdrawn"
        states[credit.pk] = CreditState(
            status=status,
            label=_label(credit, status, applied, remaining, expired),
            reason=credit.reason,
            amount=credit.amount,
            currency=credit.currency,
            granted=granted - withdrawn,
            applied=applied,
            remaining=remaining,
            expired=expired,
        )
    return states


# ---------------------------------------------------------------- credit notes


def _notes() -> QuerySet[CreditNote]:
    return CreditNote.objects.select_related(
        "customer", "invoice", "credit__service", "reverses", "file"
    ).order_by("-issued_at", "-pk")


def credit_notes_for_customer(customer: Customer) -> QuerySet[CreditNote]:
    return _notes().filter(customer=customer)


def credit_notes_for_customer_ids() -> QuerySet[CreditNote]:
    """Every note, for the API's tenant rule to narrow to the requester's customer."""
    return _notes()


def credit_notes_for_staff(user: User) -> QuerySet[CreditNote]:
    """Credit notes of the customers ``user`` manages; an administrator's, every note
    (anyone else's: none, so another customer's note is a 404)."""
    return authority.scope_acted_for(_notes(), user)
