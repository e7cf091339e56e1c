"""Outgoing e-mail and webhooks: one row per message (per endpoint, for a webhook), sent
once by a task (``outbox.tasks.outbox_send``, ``outbox.tasks.webhook_send``).

A message is queued in the same transaction as the business change that causes it,
so a rolled-back change sends nothing; ``dedupe_key`` is unique, so the same
notification can never be queued twice however often its job runs.

An e-mail goes pending → sending (claimed by one attempt) → sent; a message whose
attempt died after handing it to the SMTP server is ``held`` for an operator rather
than sent again (see ``outbox.services.email``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        HELD = "held", "Held for an operator"
        FAILED = "failed", "Failed"

    dedupe_key = models.CharField(
        max_length=200, unique=True, help_text="What this message is about, e.g. ticket-reply:42."
    )
    to = models.JSONField(help_text="Recipient addresses (a list).")
    subject = models.CharField(max_length=300)
    body = models.TextField(help_text="Plain-text body.")
    html_body = models.TextField(blank=True)
    message_id = models.CharField(
        max_length=200, help_text="Kept across retries, so a receiver can drop a duplicate."
    )
    headers = models.JSONField(
        default=dict,
        blank=True,
        help_text="Further headers: In-Reply-To and References (threading), Reply-To.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the latest attempt claimed the message."
    )
    claimed_by = models.CharField(
        max_length=100, blank=True, help_text="The latest attempt: host, process and a token."
    )
    data_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the latest attempt began handing the message over (SMTP DATA): "
        "from then on the server may have it.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="outbox_sending_idx",
                condition=Q(status="sending"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "held", "failed"]),
                name="outbox_known_status",
                violation_error_message="Unknown outbox status.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sending", "held"])
                | (Q(claimed_at__isnull=False) & ~Q(claimed_by="")),
                name="outbox_sending_is_claimed",
                violation_error_message="A message being sent or held names its attempt.",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(data_started_at__isnull=False),
                name="outbox_held_after_data",
                violation_error_message="Only a message handed to the server is held.",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_at_iff_sent",
                violation_error_message="Only a sent message has a sending time.",
            ),
            models.CheckConstraint(
                condition=~Q(dedupe_key=""),
                name="outbox_dedupe_key_not_blank",
                violation_error_message="Give the message a dedupe key.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)} ({self.status})"


class OutboxAttachment(models.Model):
    """A file sent with a message: its bytes, or the name of a file in default storage
    (a statement PDF already stored) read when the message is sent."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField(null=True, blank=True)
    storage_path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content__isnull=False, storage_path="")
                | Q(content__isnull=True) & ~Q(storage_path=""),
                name="outbox_attachment_bytes_xor_path",
                violation_error_message="An attachment has its bytes or a stored file, not both.",
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class WebhookEndpoint(models.Model):
    """A billing system's URL that receives the events it subscribed to, signed with its
    own secret (Standard Webhooks: ``whsec_`` + base64 of random bytes)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list, help_text="Names of the subscribed events.")
    is_active = models.BooleanField(default=True)
    deactivated_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(secret__startswith="whsec_"),
                name="webhook_endpoint_secret_form",
                violation_error_message="A webhook secret starts with whsec_.",
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="webhook_endpoint_http_url",
                violation_error_message="A webhook URL is http or https.",
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction of the change, sent by a
    task, retried with backoff. ``message_id`` stays the same across retries and replays,
    so a receiver can drop a duplicate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.CharField(max_length=100)
    message_id = models.CharField(max_length=100)
    payload = models.JSONField(help_text="The body sent: {type, timestamp, data}.")
    dedupe_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_pending_idx",
                condition=Q(status="pending"),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "dedupe_key"], name="webhook_delivery_once_per_endpoint"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]),
                name="webhook_known_status",
                violation_error_message="Unknown webhook delivery status.",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_at__isnull=False)
                | (~Q(status="delivered") & Q(delivered_at__isnull=True)),
                name="webhook_delivered_at_iff_delivered",
                violation_error_message="Only a delivered webhook has a delivery time.",
            ),
            models.CheckConstraint(
                condition=~Q(dedupe_key=""),
                name="webhook_dedupe_key_not_blank",
                violation_error_message="Give the webhook a dedupe key.",
            ),
            models.CheckConstraint(
                condition=Q(message_id__startswith="msg_"),
                name="webhook_message_id_form",
                violation_error_message="A webhook message id starts with msg_.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.status})"
