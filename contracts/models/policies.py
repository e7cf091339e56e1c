"""SLA policies: one version of an SLA document expressed as data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from contracts.models.schedules import Calendar


class DowntimeCategory(models.TextChoices):
    """Why a service was down. Policies say which categories they exclude."""

    INTERNAL = "internal", "Internal fault"
    THIRD_PARTY = "third_party", "Third-party app or provider"
    EXTERNAL_NETWORK = "external_network", "External network or equipment"
    PERFORMANCE_DEGRADATION = "performance_degradation", "Slow but usable"
    BETA_FEATURE = "beta_feature", "Pilot, alpha or beta feature"
    NON_CRITICAL_WORKFLOW = "non_critical_workflow", "Non-critical workflow / has workaround"
    REPORTING_CONFIG = "reporting_config", "Reporting, configuration or user management"
    SCHEDULED_MAINTENANCE = "scheduled_maintenance", "Scheduled maintenance"
    CUSTOMER_AUTHORIZED = "customer_authorized", "Authorised by the customer (excused)"


class InvoiceKind(models.TextChoices):
    """What an invoice bills (``Invoice.Kind``). Policies say which kinds a credit may go to."""

    SUBSCRIPTION = "subscription", "Subscription services"
    PROFESSIONAL_SERVICES = "professional_services", "Professional services"


def default_credit_invoice_kinds() -> list[str]:
    return [InvoiceKind.SUBSCRIPTION.value]


def validate_invoice_kinds(value: Any) -> None:
    """A non-empty list of known invoice kinds, each once; the first is the default."""
    if not isinstance(value, list) or not value:
        raise ValidationError(
            'Give at least one invoice kind (the first is the default), e.g. ["subscription"].',
            code="required",
        )
    unknown = [kind for kind in value if kind not in InvoiceKind.values]
    if unknown:
        raise ValidationError(
            "%(unknown)s: not an invoice kind (%(known)s).",
            code="invalid_choice",
            params={
                "unknown": ", ".join(map(str, unknown)),
                "known": ", ".join(InvoiceKind.values),
            },
        )
    if len(set(value)) != len(value):
        raise ValidationError("An invoice kind is listed twice.", code="duplicate")


class SLAPolicy(models.Model):
    """One version of an SLA document, expressed as data. Contracts point at a version."""

    class DenominatorBasis(models.TextChoices):
        CALENDAR_MINUTES = "calendar_minutes", "All minutes of the month"
        BUSINESS_MINUTES = "business_minutes", "Business minutes of the month"

    class DowntimeStart(models.TextChoices):
        DETECTION = "detection", "When the outage started"
        CONFIRMATION = "confirmation", "When the outage was confirmed"

    class CreditRule(models.TextChoices):
        TIERED = "tiered", "Availability bands"
        MULTIPLIER = "multiplier", "Multiple of the fee for excess downtime"

    code = models.SlugField(max_length=50)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    source_document = models.CharField(max_length=200, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    # Availability
    target_availability = models.DecimalField(max_digits=6, decimal_places=3)
    measurement_calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, related_name="measured_policies"
    )
    denominator_basis = models.CharField(max_length=20, choices=DenominatorBasis.choices)
    downtime_starts_at = models.CharField(max_length=20, choices=DowntimeStart.choices)
    significant_subset_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="An outage affecting fewer than this share of the service's customers is "
        "permitted downtime. Empty: every outage counts.",
    )

    counts_only_critical_services = models.BooleanField(
        default=False, help_text="Only downtime of services marked critical counts."
    )
    change_notice_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Notice given to customers of material changes."
    )

    # Credits
    credit_rule = models.CharField(max_length=20, choices=CreditRule.choices)
    credit_multiplier = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    credit_cap_pct = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    requires_paid_invoices = models.BooleanField(
        default=False, help_text="An invoice due before the downtime and still unpaid voids it."
    )
    credits_expire_on_termination = models.BooleanField(default=False)
    credits_cash_refundable = models.BooleanField(
        default=False, help_text="A credit may be paid out in cash; off: it never becomes a payout."
    )
    credits_sole_remedy = models.BooleanField(default=False)
    credit_applies_to = models.CharField(max_length=300, blank=True)
    credit_invoice_kinds = models.JSONField(
        default=default_credit_invoice_kinds,
        validators=[validate_invoice_kinds],
        help_text="The kinds of invoice a credit may be applied to, the default first, e.g. "
        '["subscription", "professional_services"].',
    )
    # The contract's own words, quoted in every credit's working.
    credit_clause = models.TextField(blank=True)
    credit_cap_clause = models.TextField(blank=True)
    eligibility_clause = models.TextField(blank=True)

    # Support
    support_terms_in_order_form = models.BooleanField(
        default=False,
        help_text="Support hours and response times are set per contract (order form).",
    )
    support_calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="support_policies"
    )
    support_language = models.CharField(max_length=50, blank=True)
    support_channels = models.CharField(max_length=300, blank=True)
    off_hours_severity1_channel = models.CharField(max_length=200, blank=True)
    unregistered_sender_severity = models.PositiveSmallIntegerField(null=True, blank=True)
    support_notes = models.TextField(
        blank=True, help_text="Support inclusions and exclusions that carry no target."
    )
    filing_notice = models.TextField(
        blank=True, help_text="Shown to customers before they submit a ticket."
    )

    # Data protection
    backup_retention_days = models.PositiveIntegerField(null=True, blank=True)
    backup_frequency = models.CharField(max_length=50, blank=True)
    rpo_hours = models.PositiveIntegerField(null=True, blank=True)
    status_page_url = models.URLField(blank=True)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"],
                name="policy_unique_code_version",
                violation_error_message="A policy with this code and version already exists.",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="policy_effective_to_after_from",
                violation_error_message="A policy cannot stop being effective before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(target_availability__gt=0, target_availability__lte=100),
                name="policy_target_0_100",
                violation_error_message="Target availability must be above 0 and at most 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(significant_subset_pct__isnull=True)
                | Q(significant_subset_pct__gt=0, significant_subset_pct__lte=100),
                name="policy_subset_0_100",
                violation_error_message="The significant-subset share must be above 0 and at most 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(credit_rule="tiered", credit_multiplier__isnull=True)
                | Q(
                    credit_rule="multiplier",
                    credit_multiplier__isnull=False,
                    credit_multiplier__gt=0,
                ),
                name="policy_multiplier_iff_multiplier_rule",
                violation_error_message="A multiplier credit rule needs a positive multiplier; a tiered rule has none.",
            ),
            models.CheckConstraint(
                condition=Q(credit_cap_pct__isnull=True)
                | Q(credit_cap_pct__gt=0, credit_cap_pct__lte=100),
                name="policy_cap_0_100",
                violation_error_message="The credit cap must be above 0 and at most 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(support_terms_in_order_form=True) | Q(support_calendar__isnull=False),
                name="policy_support_calendar_unless_order_form",
                violation_error_message="Give a support calendar, or mark support terms as set by the order form.",
            ),
            models.CheckConstraint(
                condition=Q(unregistered_sender_severity__isnull=True)
                | Q(unregistered_sender_severity__gte=1, unregistered_sender_severity__lte=4),
                name="policy_unregistered_severity_1_4",
                violation_error_message="Severity for unregistered senders must be 1–4.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class CreditBand(models.Model):
    """Availability in [lower_pct, upper_pct) earns credit_pct; upper_pct empty = through 100 %."""

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="bands")
    lower_pct = models.DecimalField(max_digits=6, decimal_places=3)
    upper_pct = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    credit_pct = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["policy", "-lower_pct"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "lower_pct"],
                name="band_unique_lower",
                violation_error_message="Two bands start at the same availability.",
            ),
            models.CheckConstraint(
                condition=Q(lower_pct__gte=0),
                name="band_lower_not_negative",
                violation_error_message="A band cannot start below 0 %%.",
            ),
            models.CheckConstraint(
                condition=Q(upper_pct__isnull=True)
                | Q(upper_pct__gt=F("lower_pct"), upper_pct__lte=100),
                name="band_upper_after_lower",
                violation_error_message="A band's upper bound must be above its lower bound and at most 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(credit_pct__gte=0, credit_pct__lte=100),
                name="band_credit_0_100",
                violation_error_message="A band's credit must be 0–100 %%.",
            ),
        ]

    def __str__(self) -> str:
        upper = f"{self.upper_pct})" if self.upper_pct is not None else "100]"
        return f"[{self.lower_pct}, {upper} → {self.credit_pct} %"


class PolicyExclusion(models.Model):
    """A downtime category the policy does not count, and how it treats it."""

    class Treatment(models.TextChoices):
        PERMITTED = "permitted", "Not counted as downtime"
        REMOVED_FROM_DENOMINATOR = "removed", "Not counted, and removed from the denominator"

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="exclusions")
    category = models.CharField(max_length=30, choices=DowntimeCategory.choices)
    treatment = models.CharField(max_length=10, choices=Treatment.choices)
    clause = models.TextField(help_text="The words of the SLA that grant the exclusion.")

    class Meta:
        ordering = ["policy", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "category"],
                name="exclusion_unique",
                violation_error_message="That category is already excluded by this policy.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=DowntimeCategory.values),
                name="exclusion_known_category",
                violation_error_message="Unknown downtime category.",
            ),
            models.CheckConstraint(
                condition=Q(treatment__in=["permitted", "removed"]),
                name="exclusion_treatment",
                violation_error_message="Unknown exclusion treatment.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.get_treatment_display()})"


class TargetUnit(models.TextChoices):
    MINUTES = "minutes", "minutes"
    BUSINESS_DAYS = "business_days", "business days"
    NONE = "none", "no target"


class SeverityTerm(models.Model):
    """What a severity means and its response/resolution targets, for a policy or (when
    the policy leaves support to the order form) for one contract."""

    policy = models.ForeignKey(
        SLAPolicy, null=True, blank=True, on_delete=models.CASCADE, related_name="severities"
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="severities",
    )
    severity = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    description = models.TextField()
    around_the_clock = models.BooleanField(
        default=False, help_text="Targets run 24x7 rather than on the support calendar."
    )
    response_value = models.PositiveIntegerField(null=True, blank=True)
    response_unit = models.CharField(max_length=20, choices=TargetUnit.choices)
    resolution_value = models.PositiveIntegerField(null=True, blank=True)
    resolution_unit = models.CharField(max_length=20, choices=TargetUnit.choices)

    class Meta:
        ordering = ["severity"]
        constraints = [
            models.CheckConstraint(
                condition=Q(policy__isnull=False, contract__isnull=True)
                | Q(policy__isnull=True, contract__isnull=False),
                name="severity_policy_xor_contract",
                violation_error_message="Severity terms belong to a policy or to a contract, not both.",
            ),
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=4),
                name="severity_1_4",
                violation_error_message="Severity must be 1–4.",
            ),
            models.UniqueConstraint(
                fields=["policy", "severity"],
                condition=Q(policy__isnull=False),
                name="severity_unique_per_policy",
                violation_error_message="That severity is already defined for this policy.",
            ),
            models.UniqueConstraint(
                fields=["contract", "severity"],
                condition=Q(contract__isnull=False),
                name="severity_unique_per_contract",
                violation_error_message="That severity is already defined for this contract.",
            ),
            models.CheckConstraint(
                condition=Q(response_unit="none", response_value__isnull=True)
                | (
                    Q(
                        response_unit__in=["minutes", "business_days"],
                        response_value__isnull=False,
                        response_value__gt=0,
                    )
                ),
                name="severity_response_target",
                violation_error_message="A response target needs a positive value, or the unit 'none' and no value.",
            ),
            models.CheckConstraint(
                condition=Q(resolution_unit="none", resolution_value__isnull=True)
                | (
                    Q(
                        resolution_unit__in=["minutes", "business_days"],
                        resolution_value__isnull=False,
                        resolution_value__gt=0,
                    )
                ),
                name="severity_resolution_target",
                violation_error_message="A resolution target needs a positive value, or the unit 'none' and no value.",
            ),
        ]

    def __str__(self) -> str:
        return f"Severity {self.severity} — {self.name}"
