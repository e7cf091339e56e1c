"""Query filters of the credits API (django-filter)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from credits.models import Balance, Credit, LedgerEntry
from slaportal.filters import IdFilter, UTCDateTimeFilter
from slaportal.months import parse_month


class CreditFilter(filters.FilterSet):
    # Plain ids rather than model choices: a customer person asking about another
    # organisation's id gets an empty list, not a 400 that would confirm it exists.
    customer = IdFilter(field_name="contract__customer_id")
    contract = IdFilter(field_name="contract_id")
    service = IdFilter(field_name="service_id")
    month = filters.CharFilter(method="filter_month", help_text="The month credited, YYYY-MM.")

    class Meta:
        model = Credit
        fields = ["status", "customer", "contract", "service", "month", "currency"]

    def filter_month(self, queryset: QuerySet[Credit], name: str, value: str):
        try:
            return queryset.filter(month=parse_month(value))
        except ValueError as exc:
            raise ValidationError({"month": [str(exc)]}) from exc


class LedgerFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    contract = IdFilter(field_name="contract_id")
    credit = IdFilter(field_name="credit_id")
    invoice = IdFilter(
        field_name="invoice_line__invoice_id", help_text="Entries applied to this invoice."
    )
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = LedgerEntry
        fields = [
            "customer",
            "contract",
            "kind",
            "currency",
            "credit",
            "invoice",
            "created_after",
            "created_before",
        ]


class BalanceFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")

    class Meta:
        model = Balance
        fields = ["customer", "currency"]
