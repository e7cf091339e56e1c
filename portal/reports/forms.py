"""The attainment report's filters: the one check of a month range (pages and API), and
the pages' filter form."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from contracts.models import Customer
from portal.reports.attainment import SEVERITIES
from slaportal.months import FIRST_YEAR, month_of, parse_month

# Unless asked otherwise: the current month and the five before it.
DEFAULT_MONTHS = 6
# One report spans at most a year: a longer one costs a clock computation per ticket.
MAX_MONTHS = 12
# The first zone to reach a new day: a month that has begun nowhere has no figures.
EARLIEST_ZONE = "Pacific/Kiritimati"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def report_period(start: str, end: str, *, now: datetime, zone: str) -> tuple[date, date]:
    """The first and last month of a report from ``YYYY-MM`` texts, either or both blank
    (the last month defaults to the current one in ``zone``, the viewer's; the range to
    ``DEFAULT_MONTHS``). A ``ValidationError`` naming the field (``start``, ``end``)
    otherwise: not a month, a year outside 1900–2999, a month not begun, the months
    reversed, or more than ``MAX_MONTHS``."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, date | None] = {}
    for name, text in (("start", start), ("end", end)):
        parsed[name] = None
        if text and text.strip():
            try:
                parsed[name] = parse_month(text)
            except ValueError as exc:
                errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    latest = month_of(now, EARLIEST_ZONE)
    for name, month in parsed.items():
        if month is not None and month > latest:
            errors[name] = [f"{month:%B %Y} has not started yet: there are no figures for it."]
    if errors:
        raise ValidationError(errors)
    first, last = parsed["start"], parsed["end"]
    current = min(month_of(now, zone), latest)
    if last is None:
        last = (
            current
            if first is None
            else max(first, min(add_months(first, DEFAULT_MONTHS - 1), current))
        )
    if first is None:
        first = max(add_months(last, 1 - DEFAULT_MONTHS), date(FIRST_YEAR, 1, 1))
    if first > last:
        raise ValidationError({"end": ["The last month comes before the first."]})
    if add_months(first, MAX_MONTHS) <= last:
        raise ValidationError(
            {
                "end": [
                    f"Choose at most {MAX_MONTHS} months (from {first:%B %Y} to "
                    f"{add_months(first, MAX_MONTHS - 1):%B %Y} at the latest)."
                ]
            }
        )
    return first, last


def _month_input(label: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        label=label,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric"}),
    )


class AttainmentFilterForm(forms.Form):
    """Month range and severity; staff choose a customer among those they may see (a
    customer's people see their organisation alone, so they have no such field)."""

    start = _month_input("From")
    end = _month_input("To")
    severity = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Severity",
        choices=[("", "Every severity"), *((s, f"Severity {s}") for s in SEVERITIES)],
    )

    def __init__(
        self,
        data,
        *,
        now: datetime,
        zone: str,
        customers: QuerySet[Customer] | None = None,
    ) -> None:
        super().__init__(data)
        self.now, self.zone = now, zone
        if customers is not None:
            self.fields["customer"] = forms.ModelChoiceField(
                customers, required=False, empty_label="Every customer", label="Customer"
            )
            self.order_fields(["customer", "start", "end", "severity"])

    def clean(self) -> dict:
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        try:
            data["first"], data["last"] = report_period(
                data.get("start", ""), data.get("end", ""), now=self.now, zone=self.zone
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name, messages)
        return data
