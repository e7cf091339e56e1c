"""Query filters shared by the API's filter sets (django-filter)."""

from __future__ import annotations

from datetime import UTC

import django_filters as filters


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC.

    Python accepts offsets up to ±23:59, PostgreSQL only up to ±15:59; converting first
    means any valid time the client sends is a query, never a database error (500).
    """

    def filter(self, qs, value):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)
