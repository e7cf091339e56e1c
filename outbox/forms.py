"""The back-office forms for webhook endpoints and the deliveries' filters."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from outbox.models import WebhookDelivery
from outbox.services.endpoints import url_problem
from outbox.webhooks import registered_events


def event_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {text}") for name, (_, text) in registered_events().items()]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where the events are POSTed: an http:// or https:// address.",
        widget=forms.URLInput(attrs={"placeholder": "https://billing.example.com/hooks/sla"}),
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="What receives them, e.g. “Lago production”."
    )
    events = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, help_text="Choose at least one event."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = event_choices()

    def clean_url(self) -> str:
        # The service checks it too; here so it shows alongside the other fields' errors.
        url = self.cleaned_data["url"].strip()
        if problem := url_problem(url):
            raise ValidationError(problem)
        return url


class EndpointEditForm(EndpointForm):
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="An inactive endpoint is sent nothing."
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *WebhookDelivery.Status.choices]
    )
    event = forms.ChoiceField(required=False, choices=())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", "Any event")] + [
            (name, name) for name in registered_events()
        ]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the matching field, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)
