"""What makes intake safe to repeat, and what an agent keeps of the desk."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tickets.models.tickets import Ticket


class IdempotencyKey(models.Model):
    """A filing's key: the form's one-time token, or the API's ``Idempotency-Key``
    header. The same person filing with the same key again gets the first ticket back
    instead of a second one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.ticket_id}"


class SavedFilter(models.Model):
    """A desk query an agent named, to open again from the queue."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_filter_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name
