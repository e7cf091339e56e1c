"""Query filters of the outages API (django-filter)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet

from contracts.models import ContractLine, DowntimeCategory
from outages.models import Outage
from slaportal.filters import IdFilter, UTCDateTimeFilter


def affecting(customer_id: int) -> Q:
    """Outages that reach a customer: every customer of a service they hold a contract
    line for, or a scope of chosen customers that names them."""
    services = ContractLine.objects.filter(contract__customer_id=customer_id).values("service_id")
    chosen = Outage.customers.through.objects.filter(customer_id=customer_id).values("outage_id")
    return Q(scope=Outage.Scope.ALL, service_id__in=services) | Q(
        scope=Outage.Scope.CUSTOMERS, pk__in=chosen
    )


class OutageFilter(filters.FilterSet):
    # Plain ids rather than model choices, as in the contracts API: an unknown id is an
    # empty list, not a 400 that would confirm whether it exists.
    service = IdFilter(field_name="service_id")
    category = filters.ChoiceFilter(choices=DowntimeCategory.choices)
    scope = filters.ChoiceFilter(choices=Outage.Scope.choices)
    customer = IdFilter(method="filter_customer", help_text="Outages that affect this customer id.")
    ongoing = filters.BooleanFilter(
        field_name="ended_at", lookup_expr="isnull", help_text="Still open (true) or ended."
    )
    started_after = UTCDateTimeFilter(
        field_name="started_at", lookup_expr="gte", help_text="Started at or after this time."
    )
    started_before = UTCDateTimeFilter(
        field_name="started_at", lookup_expr="lt", help_text="Started before this time."
    )

    class Meta:
        model = Outage
        fields = [
            "service",
            "category",
            "scope",
            "customer",
            "ongoing",
            "started_after",
            "started_before",
        ]

    def filter_customer(self, queryset: QuerySet[Outage], name: str, value: int):
        own = getattr(getattr(self.request, "user", None), "customer_id", None)
        # A customer person asking about another organisation learns nothing: which
        # services it holds or which scopes name it are that organisation's business.
        if own is not None and own != value:
            return queryset.none()
        return queryset.filter(affecting(int(value)))
