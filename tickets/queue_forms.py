"""The desk queue's forms: its search, filters and sort (GET), and naming them as a saved
filter. They parse input only: the search is ``tickets.search``'s, the orders
``tickets.selectors.desk_queue``'s."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from contracts.models import Service, User
from tickets.forms import SEVERITY_CHOICES, STATUS_CHOICES, common_filters
from tickets.models import Ticket
from tickets.search import tickets_matching
from tickets.selectors import DESK_SORTS, customer_ids_named


class QueueFilterForm(forms.Form):
    """The agent queue's search, filters and sort (GET). Without a status the queue shows
    open tickets; without a sort, nearest deadline first."""

    ASSIGNEE_CHOICES = [("", "Anyone"), ("me", "Me"), ("none", "Unassigned")]
    QUEUE_STATUS_CHOICES = [
        ("", "Open tickets"),
        *STATUS_CHOICES,
        ("all", "Any status"),
    ]

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "T-000123, words, a name or e-mail"}
        ),
        help_text="Reference, subject, messages and notes, requester, customer.",
    )
    severity = forms.ChoiceField(
        label="Severity", choices=[("", "Any severity"), *SEVERITY_CHOICES], required=False
    )
    # A search box, not a select: a provider has thousands of customers, and a select of
    # them all was most of the queue page's time (bench/load.py). A number is a customer's
    # id (links from other pages); text matches part of the name.
    customer = forms.CharField(
        label="Customer",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name"}),
    )
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="All services",
    )
    status = forms.ChoiceField(label="Status", choices=QUEUE_STATUS_CHOICES, required=False)
    assignee = forms.ChoiceField(label="Assignee", choices=ASSIGNEE_CHOICES, required=False)
    breached = forms.BooleanField(label="Breached only", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key if key != "due" else "", label) for key, label in DESK_SORTS.items()],
        required=False,
    )

    @property
    def active(self) -> bool:
        """A search or a filter is on (a sort alone still shows the whole queue)."""
        return self.is_bound and any(self.data.get(name) for name in self.fields if name != "sort")

    def sort_key(self) -> str:
        """The sort asked for (``tickets.selectors.DESK_SORTS``)."""
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or "due"

    @classmethod
    def query_of(cls, data: QueryDict) -> str:
        """The search, filters and sort of a query string, without its page position:
        what a saved filter keeps and a sort link carries."""
        kept = QueryDict(mutable=True)
        for name in cls.base_fields:
            values = [v for v in data.getlist(name) if v.strip()]
            if values:
                kept.setlist(name, values)
        return kept.urlencode()

    def statuses(self) -> tuple[str, ...] | None:
        """The statuses asked for (None: any)."""
        status = self.cleaned_data.get("status") if self.is_valid() else ""
        if status == "all":
            return None
        return (status,) if status else tuple(Ticket.OPEN_STATUSES)

    def apply(self, tickets: QuerySet[Ticket], *, user: User) -> QuerySet[Ticket]:
        if not self.is_valid():
            return tickets.none()
        data = dict(self.cleaned_data)
        data.pop("status")  # the view chose the base queryset by status, and its order
        data.pop("sort")
        text = data.pop("q").strip()
        if text:
            tickets = tickets_matching(tickets, text, user=user)
        customer = data.pop("customer").strip()
        if customer.isdigit():
            tickets = tickets.filter(customer_id=int(customer))
        elif customer:
            tickets = tickets.filter(customer_id__in=customer_ids_named(customer))
        tickets = common_filters(tickets, data)
        if data["assignee"] == "me":
            tickets = tickets.filter(assignee=user)
        elif data["assignee"] == "none":
            tickets = tickets.filter(assignee__isnull=True)
        if data["breached"]:
            # A running deadline already passed is a breach even before the periodic
            # job stores the flag.
            tickets = tickets.filter(
                Q(response_breached=True)
                | Q(resolution_breached=True)
                | Q(next_due_at__lt=timezone.now())
            )
        return tickets


class SavedFilterForm(forms.Form):
    """Name the queue's search, filters and sort, to open them again from the queue."""

    name = forms.CharField(label="Name", max_length=80, required=False)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the filter a name.")
        return name
