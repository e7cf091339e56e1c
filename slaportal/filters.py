"""Query filters shared by the API's filter sets (django-filter)."""

from __future__ import annotations

from datetime import UTC

import django_filters as filters
from django import forms


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC.

    Python accepts offsets up to ±23:59, PostgreSQL only up to ±15:59; converting first
    means any valid time the client sends is a query, never a database error (500).
    """

    def filter(self, qs, value):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class IdFilter(filters.NumberFilter):
    """A row id (or another whole number): an integer within the database's 64-bit range.

    A fraction or a number past that range is a 400 naming the parameter; as a plain
    number filter it reached the database, where SQLite cannot bind it (a 500).
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
