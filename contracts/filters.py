"""Query filters of the contracts API (django-filter)."""

from __future__ import annotations

from datetime import date

import django_filters as filters
from django.db.models import QuerySet

from contracts.models import Contract, Customer, Invoice, Service, SLAPolicy
from slaportal.filters import IdFilter


class CustomerFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = ["name", "is_active"]


class ServiceFilter(filters.FilterSet):
    class Meta:
        model = Service
        fields = ["code", "critical"]


class PolicyFilter(filters.FilterSet):
    class Meta:
        model = SLAPolicy
        fields = ["code", "credit_rule"]


class ContractFilter(filters.FilterSet):
    # Plain ids rather than model choices: a customer person asking about another
    # organisation's id gets an empty list, not a 400 that would confirm it exists.
    customer = IdFilter(field_name="customer_id")
    policy = filters.CharFilter(field_name="policy__code", help_text="SLA policy code.")
    active_on = filters.DateFilter(
        method="filter_active_on",
        help_text="Contracts in force on this date (from the start to the end or termination "
        "day, inclusive).",
    )

    class Meta:
        model = Contract
        fields = ["customer", "policy", "active_on"]

    def filter_active_on(self, queryset: QuerySet[Contract], name: str, value: date):
        return queryset.in_force_on(value)


class InvoiceFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    contract = IdFilter(field_name="contract_id")
    kind = filters.ChoiceFilter(choices=Invoice.Kind.choices, help_text="What the invoice bills.")
    paid = filters.BooleanFilter(
        field_name="paid_at", lookup_expr="isnull", exclude=True, help_text="Paid (true) or not."
    )
    due_before = filters.DateFilter(
        field_name="due_on", lookup_expr="lte", help_text="Due on or before this date."
    )
    due_after = filters.DateFilter(
        field_name="due_on", lookup_expr="gte", help_text="Due on or after this date."
    )

    class Meta:
        model = Invoice
        fields = ["customer", "contract", "kind", "paid", "due_before", "due_after"]
