"""Service credits, their decisions, and the append-only credits ledger.

Ledger rows are never updated or deleted: database triggers (PostgreSQL and SQLite,
see migration 0002) refuse it, whatever the code path. A correction is a reversing
entry, and ``reverses`` is unique, so an entry is reversed at most once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import Contract, Customer, Invoice, InvoiceLine, Service
from contracts.validators import CURRENCIES


class Credit(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        INELIGIBLE = "ineligible", "Not eligible"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="credits")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="credits")
    month = models.DateField(help_text="First day of the month.")
    revision = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    availability_pct = models.DecimalField(
        max_digits=10, decimal_places=6, help_text="Exact availability, cut to 6 places."
    )
    working = models.JSONField(help_text="Every input and step of the computation.")
    status = models.CharField(max_length=12, choices=Status.choices)
    reason = models.TextField(blank=True, help_text="Why rejected or not eligible.")
    computed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    statement_number = models.CharField(
        max_length=40, blank=True, help_text="The statement that reported this credit."
    )
    invoice_kind = models.CharField(
        max_length=30,
        blank=True,
        help_text="The kind of invoice it goes to, where the account manager directed it; "
        "blank: the policy's default (the first of its credit invoice kinds).",
    )

    class Meta:
        ordering = ["-month", "contract", "service"]
        # The API's list order (credits.api.CreditViewSet).
        indexes = [
            models.Index(fields=["-month", "contract", "service", "id"], name="credit_list_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "service", "month", "revision"],
                name="credit_one_per_service_month_revision",
                violation_error_message="This month's credit was already computed.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="credit_amount_not_negative",
                violation_error_message="A credit cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="credit_month_first_day",
                violation_error_message="A month is given by its first day.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=CURRENCIES),
                name="credit_currency",
                violation_error_message="Unsupported currency.",
            ),
            # A decision names who and when; a pending or ineligible credit has neither.
            models.CheckConstraint(
                condition=(
                    Q(
                        status__in=["approved", "rejected"],
                        decided_by__isnull=False,
                        decided_at__isnull=False,
                    )
                    | Q(
                        status__in=["pending", "ineligible"],
                        decided_by__isnull=True,
                        decided_at__isnull=True,
                    )
                ),
                name="credit_decision_recorded",
                violation_error_message="A decision records who made it and when.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "ineligible"]) | ~Q(reason=""),
                name="credit_rejection_has_reason",
                violation_error_message="Give the reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.service} {self.month:%Y-%m}: {self.amount}"


class CreditEvent(models.Model):
    """The credit's history: computed, approved, rejected — who, when, why."""

    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.credit_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        CREDIT_GRANTED = "credit_granted", "Credit granted"
        CREDIT_APPLIED = "credit_applied", "Applied to an invoice"
        CREDIT_EXPIRED = "credit_expired", "Expired on termination"
        REVERSAL = "reversal", "Reversal"
        MANUAL_ADJUSTMENT = "manual_adjustment", "Manual adjustment"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ledger")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Signed.")
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300)
    credit = models.ForeignKey(
        Credit, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    invoice_line = models.OneToOneField(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="entry"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["customer", "currency"]),
            # The ledger lists, newest first: everyone's (API) and a customer's (pages, API).
            models.Index(fields=["-created_at", "-id"], name="ledger_newest_idx"),
            models.Index(
                fields=["customer", "-created_at", "-id"], name="ledger_customer_newest_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__in=CURRENCIES),
                name="ledger_currency",
                violation_error_message="Unsupported currency.",
            ),
            models.CheckConstraint(
                condition=~Q(amount=0),
                name="ledger_amount_not_zero",
                violation_error_message="A ledger entry moves some money.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="credit_granted", amount__gt=0, credit__isnull=False)
                    | Q(kind__in=["credit_applied", "credit_expired"], amount__lt=0)
                    | Q(kind="reversal", reverses__isnull=False)
                    | Q(kind="manual_adjustment")
                ),
                name="ledger_kind_shape",
                violation_error_message="The entry's sign or references do not fit its kind.",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal") | Q(reverses__isnull=True),
                name="ledger_only_reversals_reverse",
                violation_error_message="Only a reversal reverses an entry.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="credit_applied") | Q(invoice_line__isnull=False),
                name="ledger_applied_names_invoice_line",
                violation_error_message="An applied credit names its invoice line.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class Balance(models.Model):
    """A customer's credit balance in one currency.

    Stored so that writers can lock one row (``select_for_update``) while they read and
    change the balance; it always equals the sum of the customer's ledger entries in that
    currency, which ``manage.py check_ledger`` verifies.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "currency"], name="balance_one_per_customer_currency"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="balance_not_negative",
                violation_error_message="A credit balance cannot go below zero.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.amount} {self.currency}"


class ManualAdjustment(models.Model):
    """A manual ledger adjustment, written only once a second person approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting a second approval"
        APPROVED = "approved", "Approved and posted"
        REJECTED = "rejected", "Rejected"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="adjustments")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0),
                name="adjustment_amount_not_zero",
                violation_error_message="An adjustment moves some money.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="adjustment_has_reason",
                violation_error_message="Give the reason for the adjustment.",
            ),
            # The four-eyes rule, in the database: nobody approves their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="adjustment_second_person",
                violation_error_message="A second person must decide on an adjustment.",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(entry__isnull=False),
                name="adjustment_approved_is_posted",
                violation_error_message="An approved adjustment is posted to the ledger.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.amount} {self.currency} ({self.status})"


class CreditNoteSequence(models.Model):
    """The last credit note number used in a year. Locked (``select_for_update``) while a
    note is numbered and written in the same transaction, so numbers have no gaps: a
    rolled-back application gives its number back."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class CreditNote(models.Model):
    """A numbered, immutable document: a credit applied to an invoice (``credit``), or
    the reversal of one (``reversal``, which names the note it reverses).

    ``details`` keeps what the document says (seller, customer, invoice, statement, month,
    service, availability, clause) as it was at issue; the row is never changed or
    deleted (database triggers, migration 0004). Its PDF is a ``CreditNoteFile``."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Credit note"
        REVERSAL = "reversal", "Reversal"

    number = models.CharField(max_length=20, unique=True)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CREDIT)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.PROTECT, related_name="credit_note"
    )
    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="credit_notes")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="credit_note")
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Credited (or, on a reversal, charged back)."
    )
    currency = models.CharField(max_length=3)
    issued_at = models.DateTimeField()
    details = models.JSONField(help_text="What the document says, as issued.")

    class Meta:
        ordering = ["-issued_at", "-pk"]
        # The credit note lists, newest first: everyone's and a customer's.
        indexes = [
            models.Index(fields=["-issued_at", "-id"], name="credit_note_newest_idx"),
            models.Index(fields=["customer", "-issued_at", "-id"], name="credit_note_customer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "sequence"], name="credit_note_one_number_per_year"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="credit_note_amount_positive",
                violation_error_message="A credit note moves some money.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=CURRENCIES),
                name="credit_note_currency",
                violation_error_message="Unsupported currency.",
            ),
            models.CheckConstraint(
                condition=Q(kind="credit", reverses__isnull=True)
                | Q(kind="reversal", reverses__isnull=False),
                name="credit_note_reversal_names_original",
                violation_error_message="A reversal names the credit note it reverses.",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CreditNoteFile(models.Model):
    """A credit note's stored PDF and its SHA-256, written once (append-only)."""

    credit_note = models.OneToOneField(CreditNote, on_delete=models.PROTECT, related_name="file")
    pdf = models.FileField(upload_to="credit-notes/", max_length=200)
    sha256 = models.CharField(max_length=64)
    rendered_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.pdf.name
