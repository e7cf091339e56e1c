"""Query filters of the tickets API (django-filter)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import F, Q, QuerySet

from slaportal.filters import IdFilter, UTCDateTimeFilter
from tickets.models import Channel, Ticket

ORDERINGS = {
    "newest": ("-created_at", "-id"),
    # The agent queue's order: the nearest running deadline first, none last.
    "due": (F("next_due_at").asc(nulls_last=True), "id"),
}


class TicketFilter(filters.FilterSet):
    # Plain ids rather than model choices, as in the other APIs: a customer person asking
    # about another organisation's id gets an empty list, not a 400 confirming it exists.
    customer = IdFilter(field_name="customer_id", help_text="Staff: one customer.")
    service = IdFilter(field_name="service_id")
    assignee = IdFilter(field_name="assignee_id", help_text="Assigned to this agent.")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    severity = IdFilter()
    # No DISTINCT (django-filter's default for several values): a ticket has one status,
    # and SELECT DISTINCT sorted every matching ticket before the page was read.
    status = filters.MultipleChoiceFilter(
        choices=Ticket.Status.choices,
        distinct=False,
        help_text="One status or several (repeat the parameter).",
    )
    channel = filters.ChoiceFilter(choices=Channel.choices)
    breached = filters.BooleanFilter(
        method="filter_breached", help_text="A response or resolution target was breached."
    )
    created_after = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Entered at or after this time."
    )
    created_before = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Entered before this time."
    )
    ordering = filters.ChoiceFilter(
        choices=[("newest", "Newest first"), ("due", "Nearest deadline first")],
        method="filter_ordering",
        help_text="`newest` (the default) or `due` (the agent queue's order).",
    )

    class Meta:
        model = Ticket
        fields = [
            "customer",
            "service",
            "assignee",
            "unassigned",
            "severity",
            "status",
            "channel",
            "breached",
            "created_after",
            "created_before",
            "ordering",
        ]

    def filter_breached(self, queryset: QuerySet[Ticket], name: str, value: bool | None):
        either = Q(response_breached=True) | Q(resolution_breached=True)
        return queryset.filter(either) if value else queryset.exclude(either)

    def filter_ordering(self, queryset: QuerySet[Ticket], name: str, value: str):
        return queryset.order_by(*ORDERINGS[value]) if value else queryset
