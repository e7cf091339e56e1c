"""The audit log of staff actions: who changed which outage, credit, adjustment or
ticket severity, what changed, why, and when.

Append-only, enforced by the database (migration 0002's triggers, as for the credits
ledger): an entry is evidence, so no code path may edit or remove one. Nothing points
at the audited row with a foreign key — the object is named by type, id and a label
copied at the time — so deleting an audited object never needs to touch its history.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEntry(models.Model):
    at = models.DateTimeField(help_text="When the action was taken (UTC).")
    # PROTECT, not SET_NULL: nulling the column would be an UPDATE, which the triggers
    # refuse; a person with a history is deactivated, not deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system (a scheduled job).",
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="E-mail at the time.")
    action = models.CharField(max_length=64, help_text="e.g. outage.change, credit.approve")
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=300)
    changes = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text='{"field": {"before": …, "after": …}} for each changed field.',
    )
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True, help_text="To find the logs.")

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["-at", "-id"], name="audit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action} {self.object_label}"
