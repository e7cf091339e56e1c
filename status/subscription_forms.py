"""The subscription forms: parse what was sent; the rules live in ``status.subscriptions``."""

from __future__ import annotations

from django import forms

from contracts.models import Service


def _services_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label="Services",
        queryset=Service.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="You get an e-mail for each update of an incident or a maintenance "
        "window on these services.",
        error_messages={"required": "Choose at least one service."},
    )


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="We send a link to this address; nothing else until you follow it.",
        error_messages={
            "required": "Enter your e-mail address.",
            "invalid": "Enter a valid e-mail address.",
        },
    )
    services = _services_field()


class ServicesForm(forms.Form):
    services = _services_field()
