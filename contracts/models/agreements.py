"""Contracts (customer × policy version × service lines) and their invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from contracts.models.organisations import Customer, Service
from contracts.models.policies import InvoiceKind, SLAPolicy
from contracts.models.schedules import Calendar
from contracts.validators import CURRENCIES, validate_currency

# "In force", the one rule: a contract is in force from its start date to its last day in
# force, both inclusive; the last day is the earlier of the end of the term and the
# termination day. The termination day is in force, as the API's ``active_on`` filter and
# the availability engine have always read it (the SLA documents say nothing finer): a
# ticket can be filed that day, its downtime counts, its month gets a statement, and its
# credits expire only once it has ended. Days are local dates; the caller picks the zone
# (the customer's when filing a ticket, the policy's for months and credit expiry).
# ``ContractQuerySet`` states the rule for queries and the ``Contract`` methods for a
# loaded contract: change both together (``test_contract_in_force`` checks they agree).


class ContractQuerySet(models.QuerySet):
    def in_force_during(self, first: date, last: date) -> ContractQuerySet:
        """Contracts in force on at least one day of ``first``–``last`` (inclusive)."""
        return self.filter(
            Q(start_date__lte=last),
            Q(end_date__isnull=True) | Q(end_date__gte=first),
            Q(terminated_on__isnull=True) | Q(terminated_on__gte=first),
        )

    def in_force_on(self, day: date) -> ContractQuerySet:
        return self.in_force_during(day, day)


class Contract(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    policy = models.ForeignKey(SLAPolicy, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=50, unique=True)
    start_date = models.DateField(help_text="First day in force.")
    end_date = models.DateField(
        null=True,
        blank=True,
        help_text="Last day of the term, still in force (inclusive); empty: open-ended.",
    )
    terminated_on = models.DateField(
        null=True,
        blank=True,
        help_text="Termination day: the last day in force (inclusive); credits expire "
        "once it has ended in the policy's zone.",
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    support_calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Overrides the policy's support calendar (order-form support terms).",
    )
    services = models.ManyToManyField(Service, through="ContractLine", related_name="contracts")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["customer__name", "start_date"]
        # The contract list reads customers by name (their unique index), then each one's
        # contracts in order from this one.
        indexes = [
            models.Index(fields=["customer", "start_date", "id"], name="contract_customer_list_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="contract_ends_after_start",
                violation_error_message="The contract cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(terminated_on__isnull=True) | Q(terminated_on__gte=F("start_date")),
                name="contract_terminated_after_start",
                violation_error_message="The contract cannot be terminated before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=CURRENCIES),
                name="contract_currency",
                violation_error_message="Unsupported currency.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.customer}"

    @property
    def last_day_in_force(self) -> date | None:
        """The earlier of the end of the term and the termination day; None: open-ended."""
        return min(filter(None, [self.end_date, self.terminated_on]), default=None)

    def days_in_force(self, first: date, last: date) -> tuple[date, date] | None:
        """The days of ``first``–``last`` the contract is in force, as (first, last),
        both inclusive; None when it is in force on none of them."""
        until = self.last_day_in_force
        first, last = max(first, self.start_date), min(last, until or last)
        return (first, last) if first <= last else None

    def in_force_on(self, day: date) -> bool:
        return self.days_in_force(day, day) is not None

    def terminated_by(self, day: date) -> bool:
        """Terminated, with the termination day over by ``day`` (a date in the zone that
        matters to the caller)."""
        return self.terminated_on is not None and self.terminated_on < day


class ContractLine(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="contract_lines")
    monthly_fee = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["contract", "service__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "service"],
                name="line_unique_service",
                violation_error_message="A service appears on two lines of the contract.",
            ),
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0),
                name="line_fee_not_negative",
                violation_error_message="A monthly fee cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.monthly_fee}/month"


class Invoice(models.Model):
    """An invoice as the billing system issued it: a snapshot. Once recorded, only its
    payment (``paid_at``) and its ``total`` (the sum of its lines, as credit lines are
    added) may change; the database refuses anything else, and any deletion (contracts
    migration 0006). Its lines are never changed or deleted: a correction is a new line."""

    Kind = InvoiceKind

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=50, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.SUBSCRIPTION)
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    # Stored, not derived on each read: the amount plus its (negative) credit lines.
    # The services keep it equal to the sum of the lines under a row lock, the database
    # keeps it from going below zero, and `manage.py check_ledger` verifies both.
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    issued_on = models.DateField()
    due_on = models.DateField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_on", "number"]
        # The invoice lists, newest first (API and pages): everyone's and a customer's.
        indexes = [
            models.Index(fields=["-issued_on", "-id"], name="invoice_newest_idx"),
            models.Index(fields=["customer", "-issued_on", "-id"], name="invoice_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="invoice_period_order",
                violation_error_message="The invoice period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("issued_on")),
                name="invoice_due_after_issue",
                violation_error_message="An invoice cannot fall due before it is issued.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="invoice_amount_not_negative",
                violation_error_message="An invoice amount cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=CURRENCIES),
                name="invoice_currency",
                violation_error_message="Unsupported currency.",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0),
                name="invoice_total_not_negative",
                violation_error_message="Credits cannot take an invoice below zero.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceKind.values),
                name="invoice_known_kind",
                violation_error_message="Unknown invoice kind.",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    """A line of an invoice: the charge, or a service credit applied as a negative line."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        CREDIT = "credit", "Service credit"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=300)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="charge", amount__gte=0) | Q(kind="credit", amount__lt=0),
                name="invoice_line_sign_follows_kind",
                violation_error_message="A charge is not negative; a credit line is negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.description} {self.amount}"
