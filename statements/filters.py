"""Query filters of the statements API (django-filter)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from slaportal.filters import IdFilter
from slaportal.months import parse_month
from statements.models import Statement


class StatementFilter(filters.FilterSet):
    # Plain ids: a customer asking about another organisation's id gets an empty list.
    customer = IdFilter(field_name="contract__customer_id")
    contract = IdFilter(field_name="contract_id")
    month = filters.CharFilter(method="filter_month", help_text="The statement's month, YYYY-MM.")

    class Meta:
        model = Statement
        fields = ["status", "customer", "contract", "month"]

    def filter_month(self, queryset: QuerySet[Statement], name: str, value: str):
        try:
            return queryset.filter(month=parse_month(value))
        except ValueError as exc:
            raise ValidationError({"month": [str(exc)]}) from exc
