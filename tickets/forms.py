"""Forms of the ticket pages (customer portal and support desk; the desk queue's search,
filters and saved filters: ``tickets.queue_forms``). They parse input only: the rules
(subject, severity, attachments, who may do what, times received) live in
``tickets.services``, whose ``ValidationError`` the views put back on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from contracts.models import Customer, Service, User
from outages.forms import LocalDateTimeField, ZonedForm
from tickets.models import Channel, Ticket, ticket_pk_from_reference
from tickets.selectors import SeverityOption

SEVERITY_CHOICES = [(str(level), f"Severity {level}") for level in (1, 2, 3, 4)]
STATUS_CHOICES = list(Ticket.Status.choices)


def allowed_types_text() -> str:
    return ", ".join(sorted(settings.TICKET_ATTACHMENT_TYPES))


def attachment_help() -> str:
    limit = settings.TICKET_ATTACHMENT_MAX_BYTES // (1024 * 1024)
    count = settings.TICKET_ATTACHMENTS_PER_MESSAGE
    return f"Up to {count} files, {limit} MB each. Allowed types: {allowed_types_text()}."


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; cleans to a list (empty when none were chosen).
    Size and type are the services' to judge, so every entry point says the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        accept = ",".join(sorted(settings.TICKET_ATTACHMENT_TYPES))
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attachments")
        kwargs.setdefault("help_text", attachment_help())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def files_of(request_files, name: str = "attachments") -> dict:
    """``request.FILES`` as a form's files, every file of a multiple input kept."""
    return {name: request_files.getlist(name)} if request_files else {}


# ---------------------------------------------------------------- customer portal


class TicketFileForm(forms.Form):
    """A customer person files a ticket. ``severity_options`` are the contract's own
    words for each level (shown beside the radio buttons).

    Fields are optional here: the service says what is missing (an empty subject, no
    description, no severity), in the same words as the API and inbound e-mail.
    """

    subject = forms.CharField(label="Subject", max_length=200, required=False)
    service = forms.ModelChoiceField(
        label="Affected service",
        queryset=Service.objects.none(),
        empty_label="Choose a service",
        required=False,
    )
    # A plain field: an unknown level gets the services' message, like an empty one.
    severity = forms.CharField(
        label="Severity", required=False, widget=forms.RadioSelect(choices=SEVERITY_CHOICES)
    )
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="What happened, what you expected, and since when. Error messages help.",
    )
    attachments = MultipleFileField()
    # One-time token of this form: submitting it again (Back, then Send) files nothing new.
    form_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        services: QuerySet[Service],
        severity_options: list[SeverityOption],
        severity_targets: dict[int, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.severity_options = severity_options
        self.severity_targets = severity_targets or {}

    def radios(self) -> list[dict[str, Any]]:
        """Each severity's radio button with the contract's name, description and targets."""
        options = {str(o.severity): o for o in self.severity_options}
        return [
            {
                "radio": radio,
                "option": options.get(str(radio.data["value"])),
                "targets": self.severity_targets.get(int(radio.data["value"]), ""),
            }
            for radio in self["severity"]
        ]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField()


class TicketListFilterForm(forms.Form):
    """The customer's ticket list filters (GET)."""

    STATE_CHOICES = [("", "All tickets"), ("open", "Open"), ("closed", "Resolved or closed")]

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject or T-000123"}),
    )
    state = forms.ChoiceField(label="Open / closed", choices=STATE_CHOICES, required=False)
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any status"), *STATUS_CHOICES], required=False
    )
    severity = forms.ChoiceField(
        label="Severity", choices=[("", "Any severity"), *SEVERITY_CHOICES], required=False
    )
    service = forms.ModelChoiceField(
        label="Service", queryset=Service.objects.none(), required=False, empty_label="All services"
    )

    def __init__(self, *args: Any, services: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def apply(self, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if not self.is_valid():
            return tickets.none()
        data = self.cleaned_data
        if data["q"]:
            pk = ticket_pk_from_reference(data["q"].upper())
            tickets = tickets.filter(pk=pk) if pk else tickets.filter(subject__icontains=data["q"])
        if data["state"] == "open":
            tickets = tickets.filter(status__in=Ticket.OPEN_STATUSES)
        elif data["state"] == "closed":
            tickets = tickets.filter(status__in=Ticket.DONE_STATUSES)
        return common_filters(tickets, data)


def common_filters(tickets: QuerySet[Ticket], data: dict[str, Any]) -> QuerySet[Ticket]:
    if data.get("status"):
        tickets = tickets.filter(status=data["status"])
    if data.get("severity"):
        tickets = tickets.filter(severity=int(data["severity"]))
    if data.get("service"):
        tickets = tickets.filter(service=data["service"])
    if data.get("customer"):
        tickets = tickets.filter(customer=data["customer"])
    return tickets


# ---------------------------------------------------------------- support desk


class DeskReplyForm(forms.Form):
    body = forms.CharField(
        label="Message", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField()


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Assignee",
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody (unassigned)",
    )

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff
        self.fields["assignee"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=STATUS_CHOICES)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A ticket never goes back to new; offering its current status would do nothing.
        self.fields["status"].choices = [("", "Choose a status")] + [
            (value, label)
            for value, label in STATUS_CHOICES
            if value not in (Ticket.Status.NEW, ticket.status)
        ]
        self.fields["status"].error_messages["required"] = "Choose the new status."


class ReclassifyForm(forms.Form):
    severity = forms.ChoiceField(label="New severity", choices=SEVERITY_CHOICES, required=False)
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the ticket's history.",
    )

    def __init__(
        self, *args: Any, severity_options: list[SeverityOption], current: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "Choose a severity")] + [
            (str(o.severity), f"{o.severity} · {o.name}")
            for o in severity_options
            if o.severity != current
        ]


class CustomerLookupField(forms.CharField):
    """An active customer by number, by whole name, or by the one name containing it."""

    def clean(self, value: Any) -> Customer | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        active = Customer.objects.filter(is_active=True)
        if text.isdigit():
            found = list(active.filter(pk=int(text)))
        else:
            found = list(active.filter(name__iexact=text)) or list(
                active.filter(name__icontains=text).order_by("name")[:6]
            )
        if not found:
            raise forms.ValidationError(f"No active customer matches “{text}”.")
        if len(found) > 1:
            names = ", ".join(c.name for c in found[:5])
            raise forms.ValidationError(
                f"Several customers match “{text}” ({names}…): type more of the name."
            )
        return found[0]


class RequesterField(forms.EmailField):
    """A registered, active customer person, found by their e-mail address."""

    def clean(self, value: Any) -> User | None:
        email = super().clean(value)
        if not email:
            return None
        person = (
            User.objects.filter(customer__isnull=False, is_active=True, email__iexact=email)
            .select_related("customer")
            .first()
        )
        if person is None:
            raise forms.ValidationError(
                "No registered customer person has this e-mail. Leave it empty and give "
                "the caller's e-mail below."
            )
        return person


class LogTicketForm(ZonedForm):
    """Support staff log a ticket received by phone or e-mail."""

    # Text, not selects: a provider has thousands of customers and their people (a select
    # of them all made this page take most of a second and half a megabyte).
    customer = CustomerLookupField(
        label="Customer",
        required=False,
        max_length=200,
        help_text="The customer's name (or part of it), or its number.",
    )
    requester = RequesterField(
        label="Requester's e-mail",
        required=False,
        help_text="A registered person of the customer: they get the e-mails about it.",
    )
    sender_email = forms.EmailField(
        label="Caller's e-mail",
        required=False,
        help_text="When the caller has no account. The SLA makes a ticket from someone who "
        "is not a registered person of the customer Severity 4, marked unregistered.",
    )
    service = forms.ModelChoiceField(
        label="Affected service",
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="Choose a service",
    )
    channel = forms.ChoiceField(
        label="Channel",
        choices=[(Channel.PHONE, "Phone"), (Channel.EMAIL, "E-mail")],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
    )
    received_at = LocalDateTimeField(
        label="Received",
        required=False,
        help_text="When the call or e-mail came in; the clocks start then.",
    )
    severity = forms.ChoiceField(
        label="Severity", choices=[("", "Choose a severity"), *SEVERITY_CHOICES], required=False
    )
    subject = forms.CharField(label="Subject", max_length=200, required=False)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    attachments = MultipleFileField()
    # One-time token of this form: submitting it again (Back, then Log) logs nothing new.
    form_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
