"""Reads of the audit log (staff only: it spans every customer)."""

from __future__ import annotations

from django.db.models import QuerySet

from audit.models import AuditEntry


def audit_entries(
    *, object_type: str = "", object_id: str = "", actor_id: int | None = None
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor").order_by("-at", "-pk")
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    return entries


def audit_object_types() -> list[str]:
    return list(
        AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
