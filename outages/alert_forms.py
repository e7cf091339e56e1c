"""Forms of alert intake's pages and of the triage of an alert's outage. They parse input
only; the rules live in ``outages.alert_config`` and ``outages.triage``."""

from __future__ import annotations

from typing import Any

from django import forms

from contracts.models import DowntimeCategory, Service
from outages.alert_config import RouteSpec
from outages.forms import LocalDateTimeField, ZonedForm
from outages.models import AlertRoute, AlertSource, Outage

CONFIRM_PREFIX, DISMISS_PREFIX = "confirm", "dismiss"


class AlertSourceForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Which monitoring system sends with it, e.g. “Alertmanager (prod)”.",
    )


class AlertRouteForm(forms.Form):
    label = forms.CharField(
        label="Label", max_length=100, initial="service", help_text="An alert label's name."
    )
    value = forms.CharField(
        label="Value", max_length=200, help_text="Alerts whose label has this value match."
    )
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.order_by("name"),
        empty_label="Choose a service",
        help_text="The service a matching alert is about.",
    )
    category = forms.ChoiceField(
        label="Cause",
        choices=DowntimeCategory.choices,
        initial=DowntimeCategory.INTERNAL,
        help_text="The outage's cause until operations say otherwise.",
    )
    impact = forms.ChoiceField(
        label="Impact",
        choices=[("", "From the cause"), *Outage.Impact.choices],
        required=False,
    )
    source = forms.ModelChoiceField(
        label="Source",
        queryset=AlertSource.objects.order_by("name"),
        required=False,
        empty_label="Any source",
        help_text="Only alerts from this source, or from any.",
    )
    position = forms.IntegerField(
        label="Position",
        min_value=0,
        max_value=2_147_483_647,
        initial=100,
        help_text="Routes are tried from the lowest position; the first match wins.",
    )

    def __init__(self, *args: Any, route: AlertRoute | None = None, **kwargs: Any) -> None:
        if route is not None:
            kwargs.setdefault("initial", {name: getattr(route, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)

    def spec(self) -> RouteSpec:
        return RouteSpec.of(self.cleaned_data)


class ConfirmForm(ZonedForm):
    confirmed_at = LocalDateTimeField(
        label="Confirmed at",
        help_text="When the service was confirmed unavailable; some policies count from here.",
    )
    category = forms.ChoiceField(label="Cause", choices=DowntimeCategory.choices)
    impact = forms.ChoiceField(label="Impact", choices=Outage.Impact.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", CONFIRM_PREFIX)
        super().__init__(*args, **kwargs)


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why is it a false alarm?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the outage and in the audit log. It will never count.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", DISMISS_PREFIX)
        super().__init__(*args, **kwargs)
