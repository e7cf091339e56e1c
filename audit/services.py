"""The one writer of the audit log. Services call ``audit_record`` inside their own
transaction, so an action and its entry commit (or roll back) together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import timezone

from audit.models import AuditEntry
from slaportal import logging as log_context


def _plain(value: Any) -> Any:
    """A value as it reads in the log: a related row by its label and id."""
    if isinstance(value, models.Model):
        return f"{value} (#{value.pk})"
    if isinstance(value, models.QuerySet):
        value = list(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as they are now, for a before/after comparison."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Only the fields whose value differs, as ``{field: {"before": …, "after": …}}``."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in after
        if before.get(name) != after.get(name)
        and not (_blank(before.get(name)) and _blank(after.get(name)))
    }


def _blank(value: Any) -> bool:
    # A new row's empty description is no change from "no row": None, "" and [] agree.
    return value is None or value == "" or value == []


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    label: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry: ``actor`` did ``action`` to ``obj``. ``changes`` maps each
    changed field to ``{"before": …, "after": …}`` (see ``changed``)."""
    return AuditEntry.objects.create(
        at=at or timezone.now(),
        actor=actor,
        actor_label=getattr(actor, "email", "") or "",
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_label=(label if label is not None else str(obj))[:300],
        changes=dict(changes or {}),
        reason=(reason or "").strip(),
        request_id=log_context.request_id.get() or "",
    )
