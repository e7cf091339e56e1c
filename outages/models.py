"""Outages of a service, their public/internal timeline, and the after-the-fact changes
that make an already-measured month need its statement re-issued."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from contracts.models import Contract, Customer, DowntimeCategory, Service


class Outage(models.Model):
    class Scope(models.TextChoices):
        ALL = "all", "Every customer of the service"
        CUSTOMERS = "customers", "Chosen customers only"

    class Impact(models.TextChoices):
        """How badly the service was hit, as customers saw it: apart from the cause
        (``category``), which decides what counts under a policy."""

        DEGRADED = "degraded", "Degraded performance"
        PARTIAL = "partial_outage", "Partial outage"
        MAJOR = "major_outage", "Major outage"

    class Source(models.TextChoices):
        MANUAL = "manual", "Recorded by operations"
        ALERT = "alert", "Opened by a monitoring alert"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="outages")
    started_at = models.DateTimeField(help_text="When the service became unavailable.")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Empty while ongoing.")
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the provider confirmed the service unavailable."
    )
    announced_at = models.DateTimeField(
        null=True, blank=True, help_text="When a maintenance window was announced."
    )
    category = models.CharField(max_length=30, choices=DowntimeCategory.choices)
    impact = models.CharField(max_length=20, choices=Impact.choices, default=Impact.MAJOR)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    dismissed_at = models.DateTimeField(
        null=True, blank=True, help_text="Dismissed (a false alarm): it never counts anywhere."
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismiss_reason = models.CharField(max_length=300, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ALL)
    customers = models.ManyToManyField(Customer, blank=True, related_name="outages")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Public: customers see this.")
    internal_notes = models.TextField(blank=True, help_text="Staff only.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["service", "started_at"]),
            # The outage lists, newest first (API and operations pages).
            models.Index(fields=["-started_at", "-id"], name="outage_newest_idx"),
            # The unconfirmed outages at the top of /ops/: few, so a small partial index.
            models.Index(
                fields=["-started_at"],
                name="outage_unconfirmed_idx",
                condition=Q(source="alert", confirmed_at__isnull=True, dismissed_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="outage_ends_after_start",
                violation_error_message="An outage must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(confirmed_at__gte=F("started_at")),
                name="outage_confirmed_after_start",
                violation_error_message="An outage cannot be confirmed before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=DowntimeCategory.values),
                name="outage_known_category",
                violation_error_message="Unknown outage category.",
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["all", "customers"]),
                name="outage_known_scope",
                violation_error_message="Scope is 'all' or 'customers'.",
            ),
            models.CheckConstraint(
                condition=Q(announced_at__isnull=True) | Q(category="scheduled_maintenance"),
                name="outage_announced_only_maintenance",
                violation_error_message="Only scheduled maintenance is announced in advance.",
            ),
            models.CheckConstraint(
                condition=Q(impact__in=["degraded", "partial_outage", "major_outage"]),
                name="outage_known_impact",
                violation_error_message="Unknown impact.",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["manual", "alert"]),
                name="outage_known_source",
                violation_error_message="Unknown outage source.",
            ),
            models.CheckConstraint(
                condition=Q(dismissed_at__isnull=True) | ~Q(dismiss_reason=""),
                name="outage_dismissed_with_reason",
                violation_error_message="Say why the outage is dismissed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.title}"

    @property
    def is_dismissed(self) -> bool:
        return self.dismissed_at is not None

    @property
    def is_unconfirmed(self) -> bool:
        """Opened by an alert and neither confirmed nor dismissed by operations yet."""
        return (
            self.source == self.Source.ALERT
            and self.confirmed_at is None
            and self.dismissed_at is None
        )

    @property
    def is_ongoing(self) -> bool:
        return self.ended_at is None

    @property
    def is_maintenance(self) -> bool:
        return self.category == DowntimeCategory.SCHEDULED_MAINTENANCE


class Stage(models.TextChoices):
    """Where an incident stands, given with every public update (Statuspage's words):
    the first four for incidents, the last four for maintenance windows."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


INCIDENT_STAGES = (Stage.INVESTIGATING, Stage.IDENTIFIED, Stage.MONITORING, Stage.RESOLVED)
MAINTENANCE_STAGES = (Stage.SCHEDULED, Stage.IN_PROGRESS, Stage.VERIFYING, Stage.COMPLETED)


class OutageUpdate(models.Model):
    """One entry of an outage's timeline; public entries appear to customers, each with
    the incident's stage at that moment."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="updates")
    posted_at = models.DateTimeField()
    text = models.TextField()
    public = models.BooleanField(default=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["posted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(public=False) | Q(stage__in=Stage.values),
                name="outage_update_public_has_stage",
                violation_error_message="A public update gives the incident's stage.",
            ),
            models.CheckConstraint(
                condition=~Q(text=""),
                name="outage_update_not_blank",
                violation_error_message="An update needs some text.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.posted_at:%Y-%m-%d %H:%M} {'public' if self.public else 'internal'}"


class ReissueRequest(models.Model):
    """An outage changed after its month had ended (in the contract's policy zone): the
    month's figures may differ from what was measured. The statements module decides
    whether an issued statement must be re-issued and marks the request resolved."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="reissues")
    month = models.DateField(help_text="First day of the month.")
    outage = models.ForeignKey(Outage, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Resolution(models.TextChoices):
        REISSUED = "reissued", "Re-issued"
        UNCHANGED = "unchanged", "Figures unchanged: nothing re-issued"
        NO_STATEMENT = "no_statement", "No issued statement: nothing to re-issue"
        DISMISSED = "dismissed", "Dismissed"

    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.CharField(
        max_length=300, blank=True, help_text="Why it was dismissed, or what was re-issued."
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="reissue_month_first_day",
                violation_error_message="A month is given by its first day.",
            ),
            models.CheckConstraint(
                condition=~Q(resolution="dismissed") | ~Q(resolution_note=""),
                name="reissue_dismissed_with_reason",
                violation_error_message="Say why the re-issue request is dismissed.",
            ),
            # One open request per contract and month: later changes pile onto it.
            models.UniqueConstraint(
                fields=["contract", "month"],
                condition=Q(resolved_at__isnull=True),
                name="reissue_one_open_per_contract_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.month:%Y-%m}"


class FactsStamp(models.Model):
    """The version of what a service's shared availability facts are made of: its outages,
    their scopes, the contract lines and contracts that count its customers, the service
    itself. Database triggers (outages migration 0002) give it a new version on every such
    write, whatever code makes it (services, admin, factories, ``QuerySet.update``, raw
    SQL), so a stored ``ServiceMonthFacts`` is current exactly while its version equals
    this one. No row yet: version 0."""

    service_id = models.BigIntegerField(primary_key=True)  # no FK: stamped while one is deleted
    # A token, never handed out twice (not a count, which a rollback would hand out again).
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"service {self.service_id} v{self.version}"


class ServiceMonthFacts(models.Model):
    """What every contract of a service shares in a month, stored once for every worker on
    every machine (``outages.shared_facts``): the month's outages of the service as engine
    facts, and how many customers it has that month. Stored rather than derived on each
    read: counting the customers reads every contract line of the service (174 ms at 50,000
    contracts), and the monthly run would do it once per statement. A derived copy, never a
    record: valid only while ``version`` equals the service's ``FactsStamp``; anything stale
    or missing is computed again on read."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    version = models.BigIntegerField(help_text="The service's FactsStamp it was computed at.")
    customers = models.PositiveIntegerField(help_text="Customers of the service in the month.")
    outages = models.JSONField(help_text="The month's outages of the service as engine facts.")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "month"], name="facts_one_per_service_month"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="facts_month_first_day",
                violation_error_message="A month is given by its first day.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.month:%Y-%m} v{self.version}"


# ---------------------------------------------------------------- alert intake


class AlertSource(models.Model):
    """A monitoring system that may open outages (one Alertmanager, say). It sends its
    bearer token with every webhook call; only the token's SHA-256 is stored."""

    name = models.CharField(max_length=100, unique=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertRoute(models.Model):
    """The mapping table: an alert whose label ``label`` equals ``value`` is about
    ``service``, and opens an outage of this category and impact. Routes are tried by
    ``position``; a route without a source applies to every source."""

    source = models.ForeignKey(
        AlertSource, null=True, blank=True, on_delete=models.CASCADE, related_name="routes"
    )
    label = models.CharField(max_length=100, default="service")
    value = models.CharField(max_length=200)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(
        max_length=30, choices=DowntimeCategory.choices, default=DowntimeCategory.INTERNAL
    )
    impact = models.CharField(
        max_length=20, choices=Outage.Impact.choices, default=Outage.Impact.MAJOR
    )
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            # Two constraints, not one with NULLS NOT DISTINCT, which SQLite lacks.
            models.UniqueConstraint(
                fields=["source", "label", "value"],
                condition=Q(source__isnull=False),
                name="alert_route_unique",
                violation_error_message="A route for this label and value exists already.",
            ),
            models.UniqueConstraint(
                fields=["label", "value"],
                condition=Q(source__isnull=True),
                name="alert_route_unique_any_source",
                violation_error_message="A route for this label and value exists already.",
            ),
            models.CheckConstraint(
                condition=~Q(label="") & ~Q(value=""),
                name="alert_route_label_value",
                violation_error_message="Give the label and the value to match.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}={self.value} → {self.service}"


class Alert(models.Model):
    """One alert as the monitoring system knows it: a fingerprint (its label set) and the
    moment it started firing. Alertmanager repeats and regroups the same alert; they all
    land on this one row, so they open one outage at most."""

    source = models.ForeignKey(AlertSource, on_delete=models.PROTECT, related_name="alerts")
    fingerprint = models.CharField(max_length=100)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Set once it resolved.")
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    route = models.ForeignKey(
        AlertRoute, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outage = models.ForeignKey(
        Outage, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    received_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["-starts_at", "-id"], name="alert_newest_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint", "starts_at"], name="alert_one_per_firing"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.fingerprint} {self.starts_at:%Y-%m-%d %H:%M}"
