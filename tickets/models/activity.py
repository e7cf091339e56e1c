"""A ticket's conversation, attachments, history, pauses and escalations."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from tickets.models.tickets import Channel, Ticket


class TicketMessage(models.Model):
    """One entry of the conversation: a public reply, or an internal note (staff only,
    never shown or e-mailed to the customer)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_email = models.EmailField(blank=True, help_text="For mail from an unregistered sender.")
    from_staff = models.BooleanField(default=False)
    # Mail From a staff address that our mail server did not vouch for: kept as a
    # customer-side message, so it can neither speak for the support team nor stop the
    # first-response clock, and marked for the agents (tickets.services.inbound).
    sender_unverified = models.BooleanField(default=False)
    body = models.TextField()
    # An e-mailed reply's whole text, the thread it quotes included; ``body`` is the reply
    # without it. Staff only.
    original_text = models.TextField(blank=True)
    public = models.BooleanField(default=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        # The thread in order (keyset pages of the API's messages list).
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="ticket_message_thread_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body=""),
                name="ticket_message_not_blank",
                violation_error_message="A message needs some text.",
            ),
            models.CheckConstraint(
                condition=Q(public=True) | Q(from_staff=True),
                name="ticket_message_internal_is_staff",
                violation_error_message="Only staff write internal notes.",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="ticket_message_known_channel",
                violation_error_message="Unknown channel.",
            ),
            models.CheckConstraint(
                condition=Q(author__isnull=False) | ~Q(author_email=""),
                name="ticket_message_has_author",
                violation_error_message="A message has an author or a sender address.",
            ),
        ]

    def __str__(self) -> str:
        kind = "reply" if self.public else "internal note"
        return f"{self.ticket.reference} {kind} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # A random name on disk: the customer's filename is kept in a column, never trusted
    # as a path.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file on a ticket (filed with it) or on one of its messages."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gt=0),
                name="attachment_not_empty",
                violation_error_message="An attachment cannot be empty.",
            ),
            models.CheckConstraint(
                condition=~Q(filename=""),
                name="attachment_has_filename",
                violation_error_message="An attachment keeps its file name.",
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def public(self) -> bool:
        """Customers see files filed with the ticket and those on public messages."""
        return self.message_id is None or self.message.public


class TicketEvent(models.Model):
    """The ticket's history: what changed, who did it, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS_CHANGED = "status_changed", "Status changed"
        RECLASSIFIED = "reclassified", "Severity reclassified"
        ASSIGNED = "assigned", "Assigned"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    from_severity = models.PositiveSmallIntegerField(null=True, blank=True)
    to_severity = models.PositiveSmallIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["created", "status_changed", "reclassified", "assigned"]),
                name="ticket_event_known_kind",
                violation_error_message="Unknown ticket event.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reclassified")
                | (
                    Q(from_severity__isnull=False, to_severity__isnull=False)
                    & ~Q(from_severity=F("to_severity"))
                    & ~Q(reason="")
                ),
                name="ticket_event_reclassified_has_reason",
                violation_error_message="A reclassification records both severities and the reason.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="status_changed") | (~Q(from_status="") & ~Q(to_status="")),
                name="ticket_event_status_has_both",
                violation_error_message="A status change records both statuses.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class TicketPause(models.Model):
    """Time the SLA clocks did not run: waiting on the customer, or resolved until reopened."""

    class Kind(models.TextChoices):
        WAITING = "waiting", "Waiting on the customer"
        RESOLVED = "resolved", "Resolved, later reopened"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="ticket_pause_ends_after_start",
                violation_error_message="A pause cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["waiting", "resolved"]),
                name="ticket_pause_known_kind",
                violation_error_message="Unknown pause.",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(ended_at__isnull=True),
                name="ticket_one_open_pause",
                violation_error_message="The ticket is already paused.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """An escalation sent: one per ticket, target and level, however often the job runs."""

    class Target(models.TextChoices):
        RESPONSE = "response", "First response"
        RESOLUTION = "resolution", "Resolution"

    class Level(models.TextChoices):
        AT_RISK = "at_risk", "75 % of the target used"
        BREACH = "breach", "Target breached"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    target = models.CharField(max_length=10, choices=Target.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="The deadline in force when it fired (None: paused)."
    )
    created_at = models.DateTimeField()
    recipients = models.JSONField(default=list)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "level"],
                name="escalation_once_per_ticket_target_level",
                violation_error_message="This escalation was already sent.",
            ),
            models.CheckConstraint(
                condition=Q(target__in=["response", "resolution"]),
                name="escalation_known_target",
                violation_error_message="Unknown escalation target.",
            ),
            models.CheckConstraint(
                condition=Q(level__in=["at_risk", "breach"]),
                name="escalation_known_level",
                violation_error_message="Unknown escalation level.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.level}"
