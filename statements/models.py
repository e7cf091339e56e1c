"""Monthly availability statements, and the runs that produce them.

A ``Statement`` is an issued document: it copies the terms and figures it used into
``snapshot`` (see ``statements.snapshot`` for its shape) and is never edited or deleted
once issued. Database triggers (PostgreSQL and SQLite, migration 0002) enforce that
whatever the code path; the only changes they let through on an issued row are the
document's own life cycle:

* ``status`` issued → superseded (a re-issue replaces it with revision n + 1);
* ``pdf``, ``pdf_sha256``, ``pdf_rendered_at``, ``pdf_credits`` set once, from empty;
* ``pdf`` and ``pdf_sha256`` replaced only by a restore, which moves ``pdf_restored_at``
  forward (``statement_pdf_restore``; migration 0004);
* ``emailed_at`` set once, from empty.

We chose transitions in the trigger over a separate delivery table: the row carries
everything a page or the API shows (the PDF link, when it was e-mailed), and every
other column, including any added later, is frozen by default on PostgreSQL (the
trigger compares the whole row less those columns). A draft is a staff preview
and stays mutable and deletable until it is issued.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from contracts.models import Contract
from contracts.validators import CURRENCIES
from credits.models import Credit
from slaportal.encoded_json import EncodedJSONEncoder

# Owed its delivery: an issued statement whose PDF is not stored or whose e-mail is not
# queued yet, or a superseded one never rendered (kept for the record, never sent). The
# hourly tick looks for these among every statement ever issued; a partial index on
# this condition keeps that to the handful still owed.
UNDELIVERED = Q(status="issued") & (Q(pdf="") | Q(emailed_at__isnull=True)) | Q(
    status="superseded", pdf=""
)


class Statement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        SUPERSEDED = "superseded", "Superseded"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(help_text="First day of the month (in the policy's zone).")
    number = models.CharField(max_length=40, unique=True)
    revision = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices)
    reason = models.CharField(
        max_length=300, blank=True, help_text="Why this revision was issued (re-issues)."
    )
    # Written as the text ``statements.snapshot`` assembled: a month's snapshots share
    # most of theirs, encoded once (``slaportal.encoded_json``).
    snapshot = models.JSONField(
        encoder=EncodedJSONEncoder, help_text="The terms and figures the statement used."
    )
    credits = models.ManyToManyField(
        Credit, through="StatementCredit", blank=True, related_name="statements"
    )
    # Stored from the snapshot so lists and the API need not open it: the month's
    # computed credits (pending or decided) in the contract's currency.
    credit_amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    pdf = models.FileField(upload_to="statements/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    # The credits' states the stored PDF was rendered with (``statements.credit_report``),
    # written with the PDF, once: the document is final once its credits are decided, and
    # a re-render (``statement_pdf_restore``) reproduces it from this and the snapshot.
    pdf_credits = models.JSONField(null=True, blank=True)
    pdf_restored_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff last re-rendered a missing or altered PDF."
    )
    created_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the e-mail was queued (see the outbox row)."
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    run = models.ForeignKey(
        "StatementRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-month", "contract", "-revision"]
        indexes = [
            # The API's list order (statements.api.StatementViewSet).
            models.Index(
                fields=["-month", "contract", "-revision", "-id"], name="statement_list_idx"
            ),
            models.Index(fields=["month", "status"], name="statement_month_status_idx"),
            models.Index(
                fields=["issued_at"], condition=UNDELIVERED, name="statement_undelivered_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "month", "revision"],
                name="statement_one_per_contract_month_revision",
                violation_error_message="This revision of the month's statement exists already.",
            ),
            # The current statement of a month: one, however many workers generate it.
            models.UniqueConstraint(
                fields=["contract", "month"],
                condition=~Q(status="superseded"),
                name="statement_one_current_per_contract_month",
                violation_error_message="The month already has a current statement.",
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="statement_month_first_day",
                violation_error_message="A month is given by its first day.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "issued", "superseded"]),
                name="statement_known_status",
                violation_error_message="Unknown statement status.",
            ),
            models.CheckConstraint(
                condition=Q(revision=1, supersedes__isnull=True)
                | Q(revision__gt=1, supersedes__isnull=False),
                name="statement_revision_supersedes",
                violation_error_message="A later revision names the statement it replaces.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", issued_at__isnull=True, emailed_at__isnull=True)
                | Q(status__in=["issued", "superseded"], issued_at__isnull=False),
                name="statement_issued_at_iff_issued",
                violation_error_message="Only an issued statement has an issue time.",
            ),
            models.CheckConstraint(
                condition=Q(pdf="", pdf_sha256="", pdf_rendered_at__isnull=True)
                | (~Q(pdf="") & ~Q(pdf_sha256="") & Q(pdf_rendered_at__isnull=False)),
                name="statement_pdf_with_checksum",
                violation_error_message="A rendered PDF records its checksum and time.",
            ),
            models.CheckConstraint(
                condition=Q(credit_amount__gte=0),
                name="statement_credit_not_negative",
                violation_error_message="A credit cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=CURRENCIES),
                name="statement_currency",
                violation_error_message="Unsupported currency.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display().lower()})"


class StatementCredit(models.Model):
    """A credit the statement reports (one per service with something to decide).
    Written once when the statement is issued; append-only like the statement."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="+")
    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "credit"], name="statement_credit_once_per_statement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} → credit {self.credit_id}"


class StatementRun(models.Model):
    """One fan-out of statement generation for a month: by the hourly tick, the
    ``generate_statements`` command, the API, or a staff retry of the failures."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        API = "api", "API"
        RETRY = "retry", "Retry of failures"

    month = models.DateField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stored counters, moved with F() as each item finishes, so a run's page needs no
    # count over its items and two workers finishing at once both count.
    planned = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="statement_run_month_first_day",
                violation_error_message="A month is given by its first day.",
            ),
            models.CheckConstraint(
                condition=Q(trigger__in=["schedule", "command", "api", "retry"]),
                name="statement_run_known_trigger",
                violation_error_message="Unknown run trigger.",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=F("planned") - F("failed")),
                name="statement_run_counts_add_up",
                violation_error_message="A run cannot finish more items than it planned.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.trigger} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def pending(self) -> int:
        return self.planned - self.done - self.failed


class StatementRunItem(models.Model):
    """One contract of a run. A pending item is the claim on its contract-month: the
    partial unique index keeps a second run (a beat tick firing twice, the command
    during the tick) from planning the same contract-month while it is pending."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="items")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The run's month (kept here for the claim's index).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    statement = models.ForeignKey(
        Statement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(help_text="When its task was (last) sent off.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "contract"], name="statement_item_once_per_run"),
            models.UniqueConstraint(
                fields=["contract", "month"],
                condition=Q(status="pending"),
                name="statement_item_one_pending_claim",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "done", "failed"]),
                name="statement_item_known_status",
                violation_error_message="Unknown item status.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: contract {self.contract_id} {self.status}"
