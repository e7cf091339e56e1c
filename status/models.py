"""Status page subscriptions: anyone may follow services by e-mail (double opt-in), and
a record of which public updates have been handed to the outbox, so each update reaches
each subscriber and each affected customer's people once, however often the fan-out runs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from contracts.models import Service
from outages.models import OutageUpdate


class Subscriber(models.Model):
    """One e-mail address following some services. It receives nothing until the address
    is confirmed (the link in the confirmation e-mail) and nothing after unsubscribing.
    ``token`` is the secret in its confirmation, management and unsubscribe links."""

    email = models.EmailField(unique=True)
    services = models.ManyToManyField(Service, related_name="subscribers")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email"]
        indexes = [
            models.Index(
                fields=["id"],
                name="subscriber_active_idx",
                condition=Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class UpdateFanout(models.Model):
    """A public update that has been fanned out: its messages are in the outbox."""

    update = models.OneToOneField(OutageUpdate, on_delete=models.CASCADE, related_name="+")
    done_at = models.DateTimeField()
    messages = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"update {self.update_id} ({self.messages} messages)"
