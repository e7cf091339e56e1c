"""Forms of the operations pages. They parse input only; the rules live in the services.

Times are typed as ``datetime-local`` values, which carry no zone: they are read in the
viewer's own time zone (``User.time_zone``) and handed to the services as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from contracts.models import Customer, DowntimeCategory, Service
from outages.filters import affecting
from outages.models import Outage, Stage
from outages.stages import stages_for
from slaportal.months import check_year, local_midnight

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read in ``zone``; cleans to an aware UTC datetime."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)
    input_formats = [LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.zone: ZoneInfo = ZoneInfo("UTC")
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> datetime | None:
        # Django reads a naive input in the current zone and refuses a local time that
        # a DST change skips or repeats ("it may be ambiguous or it may not exist").
        try:
            with timezone.override(self.zone):
                result = super().to_python(value)
            if result is None:
                return None
            check_year(result.year, result.strftime(LOCAL_FORMAT))
            return result.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            # OverflowError: year 1 or 9999 moved to UTC leaves the calendar.
            raise forms.ValidationError(str(exc), code="out_of_range") from exc

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(self.zone):
            return super().prepare_value(value)


class ZonedForm(forms.Form):
    """A form whose ``LocalDateTimeField``s read and show times in ``zone``."""

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        for field in self.fields.values():
            if isinstance(field, LocalDateTimeField):
                field.zone = zone


class OutageForm(ZonedForm):
    title = forms.CharField(label="Title", max_length=200)
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.order_by("name"),
        empty_label="Choose a service",
        help_text="The service that was unavailable.",
    )
    category = forms.ChoiceField(
        label="Cause",
        choices=[("", "Choose a cause"), *DowntimeCategory.choices],
        help_text="Each contract's policy decides if it counts.",
    )
    impact = forms.ChoiceField(
        label="Impact",
        choices=[("", "From the cause"), *Outage.Impact.choices],
        required=False,
        help_text="What customers notice; the status page shows it.",
    )
    # One-line help on each, so the inputs of a row line up.
    started_at = LocalDateTimeField(
        label="Started", help_text="When the service became unavailable."
    )
    confirmed_at = LocalDateTimeField(
        label="Confirmed", required=False, help_text="Some policies count from here."
    )
    ended_at = LocalDateTimeField(
        label="Ended", required=False, help_text="Leave empty while it is ongoing."
    )
    announced_at = LocalDateTimeField(
        label="Announced", required=False, help_text="Scheduled maintenance only."
    )
    scope = forms.ChoiceField(
        label="Who is affected",
        choices=Outage.Scope.choices,
        initial=Outage.Scope.ALL,
        widget=forms.RadioSelect,
    )
    customers = forms.ModelMultipleChoiceField(
        label="Affected customers",
        queryset=Customer.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only when “Chosen customers only” is selected.",
    )
    description = forms.CharField(
        label="Public description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Customers see this, and it opens the timeline.",
    )
    internal_notes = forms.CharField(
        label="Internal notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Staff only.",
    )

    def __init__(self, *args: Any, outage: Outage | None = None, **kwargs: Any) -> None:
        if outage is not None:
            kwargs.setdefault("initial", initial_for(outage))
        super().__init__(*args, **kwargs)
        if outage is not None:
            # A customer deactivated since keeps appearing in the scope it was given.
            self.fields["customers"].queryset = (
                Customer.objects.filter(Q(is_active=True) | Q(outages=outage))
                .distinct()
                .order_by("name")
            )

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as ``outage_record`` / ``outage_change`` arguments."""
        data = dict(self.cleaned_data)
        # Names picked before switching the scope to everyone are not part of it.
        if data["scope"] != Outage.Scope.CUSTOMERS:
            data["customers"] = []
        data["customers"] = list(data["customers"])
        if not data.get("impact"):
            data.pop("impact", None)  # new: from the cause; a change: as it was
        return data


def initial_for(outage: Outage) -> dict[str, Any]:
    names = [name for name in OutageForm.base_fields if name != "customers"]
    initial = {name: getattr(outage, name) for name in names}
    initial["customers"] = list(outage.customers.all())
    return initial


class UpdateForm(forms.Form):
    text = forms.CharField(label="Update", widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(
        label="Public: show this update to affected customers",
        required=False,
        help_text="Leave unticked for a note only staff can read.",
    )
    stage = forms.ChoiceField(
        label="Stage",
        choices=[("", "Unchanged"), *Stage.choices],
        required=False,
        help_text="Public updates only: investigating, identified, monitoring, resolved "
        "(maintenance: scheduled, in progress, verifying, completed).",
    )

    def __init__(self, *args: Any, outage: Outage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if outage is not None:
            allowed = [(stage.value, stage.label) for stage in stages_for(outage)]
            self.fields["stage"].choices = [("", "Unchanged"), *allowed]


class CloseForm(ZonedForm):
    ended_at = LocalDateTimeField(label="Ended")
    text = forms.CharField(
        label="Closing message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Public. Empty: “Service restored. This incident is resolved.”",
    )


class OutageFilterForm(ZonedForm):
    """The outage list's filters (GET). Dates are days in the viewer's zone, inclusive."""

    STATUS_CHOICES = [("", "Any status"), ("ongoing", "Ongoing"), ("resolved", "Resolved")]

    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="All services",
    )
    category = forms.ChoiceField(
        label="Cause", choices=[("", "All causes"), *DowntimeCategory.choices], required=False
    )
    customer = forms.ModelChoiceField(
        label="Customer",
        queryset=Customer.objects.order_by("name"),
        required=False,
        empty_label="All customers",
    )
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    started_from = forms.DateField(
        label="Started from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    started_to = forms.DateField(
        label="Started to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def apply(self, outages: QuerySet[Outage]) -> QuerySet[Outage]:
        if not self.is_valid():
            return outages.none()
        data = self.cleaned_data
        if data["service"]:
            outages = outages.filter(service=data["service"])
        if data["category"]:
            outages = outages.filter(category=data["category"])
        if data["customer"]:
            outages = outages.filter(affecting(data["customer"].pk))
        if data["status"] == "ongoing":
            outages = outages.filter(ended_at__isnull=True)
        elif data["status"] == "resolved":
            outages = outages.filter(ended_at__isnull=False)
        if data["started_from"]:
            outages = outages.filter(started_at__gte=self._midnight(data["started_from"]))
        if data["started_to"]:
            following = data["started_to"] + timedelta(days=1)
            outages = outages.filter(started_at__lt=self._midnight(following))
        return outages

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def _midnight(self, day: date) -> datetime:
        return local_midnight(day, self.zone.key)
