"""Forms of the statement pages, and the one check of a month asked to be generated
(shared with the API's ``statements/generate/``)."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from contracts.models import Contract, Customer
from slaportal.months import month_has_ended, parse_month
from statements.models import Statement

# The first zone to reach a new day: a month no zone has finished is not ended anywhere.
EARLIEST_ZONE = "Pacific/Kiritimati"


def month_to_generate(text: str, now: datetime | None = None) -> date:
    """``YYYY-MM`` of a month that has ended somewhere; a ValidationError otherwise."""
    try:
        month = parse_month(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    now = now or timezone.now()
    if month > now.date().replace(day=1):
        raise ValidationError(f"{month:%B %Y} is in the future.")
    if not month_has_ended(month, EARLIEST_ZONE, now):
        raise ValidationError(f"{month:%B %Y} has not ended yet; preview it as a draft.")
    return month


def _contracts():
    return Contract.objects.select_related("customer").order_by("customer__name", "reference")


class StatementFilterForm(forms.Form):
    month = forms.CharField(
        required=False, label="Month", widget=forms.TextInput(attrs={"placeholder": "YYYY-MM"})
    )
    customer = forms.ModelChoiceField(
        Customer.objects.order_by("name"), required=False, empty_label="All customers"
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Statement.Status.choices]
    )

    def clean_month(self) -> date | None:
        text = self.cleaned_data["month"]
        if not text:
            return None
        try:
            return parse_month(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class GenerateForm(forms.Form):
    """Generate a month's statements (all owed, or one contract's), or preview a draft."""

    month = forms.CharField(label="Month", widget=forms.TextInput(attrs={"placeholder": "YYYY-MM"}))
    contract = forms.ModelChoiceField(
        _contracts(), required=False, empty_label="Every contract owed one"
    )

    def __init__(self, *args, draft: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft

    def clean_month(self) -> date:
        text = self.cleaned_data["month"]
        if self.draft:  # a preview may show a month still running
            try:
                return parse_month(text)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
        return month_to_generate(text)

    def clean(self) -> dict:
        data = super().clean()
        if self.draft and not data.get("contract"):
            self.add_error("contract", "Choose the contract to preview.")
        return data


class ReissueForm(forms.Form):
    reason = forms.CharField(
        max_length=250,
        label="Reason",
        help_text="Shown on the new revision and in its e-mail.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Outage of 12 June re-categorised"}),
    )
    force = forms.BooleanField(
        required=False, label="Re-issue even if the figures have not changed"
    )


class DismissReissueForm(forms.Form):
    # Not required here: the service refuses an empty reason with its own message, so
    # the page and any other caller say the same thing.
    note = forms.CharField(
        label="Reason for dismissing",
        required=False,
        max_length=300,
        help_text="Required. Kept with the request and in the audit log.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Only the description changed"}),
    )
