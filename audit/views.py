"""The back-office page of the audit log (administrators)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from audit.forms import AuditFilterForm
from audit.selectors import audit_entries
from slaportal import roles
from slaportal.pages import paginate, render_zoned, viewer_zone
from slaportal.permissions import role_required

PAGE_SIZE = 50
ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")


@role_required(roles.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = AuditFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    actor = criteria.get("actor")
    entries = audit_entries(
        object_type=criteria.get("object_type", ""),
        object_id=(criteria.get("object_id") or "").strip(),
        actor_id=actor.pk if actor else None,
    )
    page, query = paginate(request, entries, PAGE_SIZE)
    with timezone.override(viewer_zone(request)):  # times in the changes, as on the page
        rows = [{"entry": entry, "changes": _changes(entry.changes)} for entry in page]
    return render_zoned(
        request,
        "audit/entries.html",
        {"filters": filters, "page": page, "rows": rows, "query": query},
    )


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, str) and ISO_DATETIME.fullmatch(value):
        # Stored as ISO 8601 (DjangoJSONEncoder); shown like the rest of the page.
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        zone = timezone.get_current_timezone()
        return f"{moment.astimezone(zone):%-d %b %Y, %H:%M} {zone.key}"
    return str(value)


def _changes(changes: dict) -> list[tuple[str, str, str]]:
    return [
        (field.replace("_", " "), _text(change.get("before")), _text(change.get("after")))
        for field, change in changes.items()
    ]
