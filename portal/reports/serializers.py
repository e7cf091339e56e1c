"""Shape of ``GET /api/v1/reports/attainment/``: the SLA attainment report's query and
its figures, the same as the report's pages and downloads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers

from portal.reports.attainment import Report, Row
from portal.reports.exports import duration_cell, seconds
from portal.reports.forms import DEFAULT_MONTHS, MAX_MONTHS, report_period
from slaportal.months import FIRST_YEAR, LAST_YEAR
from statements.selectors import attainment_text

MONTH_HELP = (
    f"YYYY-MM (years {FIRST_YEAR}–{LAST_YEAR}); each contract's months are those of its SLA's "
    "time zone, as its statements'."
)


class AttainmentQuerySerializer(serializers.Serializer):
    start = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=f"First month, {MONTH_HELP} Default: {DEFAULT_MONTHS - 1} months before end.",
    )
    end = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=f"Last month (included), {MONTH_HELP} Default: the current month in your "
        f"time zone. At most {MAX_MONTHS} months from start to end; a month that has not "
        "begun is refused.",
    )
    severity = serializers.IntegerField(
        required=False, min_value=1, max_value=4, help_text="Only this severity (1–4)."
    )
    customer = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Only this customer's figures (an id among the customers you may see; "
        "another is a 404). Customers' people always get their own organisation's.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            data["first"], data["last"] = report_period(
                data.get("start", ""),
                data.get("end", ""),
                now=self.context["now"],
                zone=self.context["zone"],
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return data


class ClockSerializer(serializers.Serializer):
    met = serializers.IntegerField(help_text="Clocks stopped no later than their deadline.")
    breached = serializers.IntegerField(
        help_text="Clocks stopped after their deadline, or still running past it."
    )
    open = serializers.IntegerField(
        help_text="Clocks still running and not yet due (counted neither met nor breached)."
    )
    no_target = serializers.IntegerField(
        help_text="Tickets of a severity the SLA sets no target for."
    )
    attained = serializers.CharField(
        help_text='met / (met + breached) to one place, as the statements word it ("75.0 %"); '
        '"—" when neither.'
    )


class SourceSerializer(serializers.Serializer):
    contract = serializers.CharField(help_text="The contract's reference.")
    statement = serializers.CharField(
        allow_null=True,
        help_text="The issued statement whose support section the figures are; null: "
        "computed live (the month is running, or its statement is not issued yet).",
    )
    as_of = serializers.DateTimeField(
        help_text="When the figures stood so: the statement's generation, or now."
    )


class AttainmentRowSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="Customer id.")
    customer_name = serializers.CharField()
    month = serializers.CharField(help_text="YYYY-MM, in each contract's SLA time zone.")
    severity = serializers.IntegerField(help_text="1–4.")
    severity_name = serializers.CharField(
        help_text='The contracts\' word for the severity; "Severity N" when they differ.'
    )
    tickets = serializers.IntegerField(help_text="Tickets received in the month.")
    response = ClockSerializer(help_text="First response: the first public staff reply.")
    resolution = ClockSerializer()
    responses_timed = serializers.IntegerField(
        help_text="Tickets whose first response time is known (response clock stopped), "
        "the sample of the median and the 90th percentile."
    )
    median_first_response_seconds = serializers.IntegerField(
        allow_null=True,
        help_text="Median time to first response, in whole seconds of business time "
        "(support hours; pauses waiting on the customer left out), nearest-rank. Null when "
        "no response was timed.",
    )
    p90_first_response_seconds = serializers.IntegerField(
        allow_null=True, help_text="90th percentile (nearest-rank), as the median."
    )
    median_first_response = serializers.CharField(
        help_text='The median as the pages show it, e.g. "1 h 5 min"; "—" when none.'
    )
    p90_first_response = serializers.CharField(help_text="The 90th percentile, as the pages.")
    sources = SourceSerializer(many=True, help_text="One per contract of the customer.")


class AttainmentReportSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="First month, YYYY-MM.")
    end = serializers.CharField(help_text="Last month (included), YYYY-MM.")
    severity = serializers.IntegerField(allow_null=True, help_text="The severity asked for.")
    customer = serializers.IntegerField(allow_null=True, help_text="The customer asked for.")
    months = serializers.ListField(child=serializers.CharField(), help_text="Every month, YYYY-MM.")
    rows = AttainmentRowSerializer(
        many=True,
        help_text="Per customer, month and severity with at least one ticket received; by "
        "customer name, month and severity.",
    )


def _clock(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "attained": attainment_text(counts["met"], counts["breached"])}


def _row(row: Row) -> dict[str, Any]:
    median, p90 = row.median, row.p90
    return {
        "customer": row.customer_id,
        "customer_name": row.customer,
        "month": f"{row.month:%Y-%m}",
        "severity": row.severity,
        "severity_name": row.name,
        "tickets": row.tickets,
        "response": _clock(row.response),
        "resolution": _clock(row.resolution),
        "responses_timed": len(row.response_times),
        "median_first_response_seconds": seconds(median),
        "p90_first_response_seconds": seconds(p90),
        "median_first_response": duration_cell(median),
        "p90_first_response": duration_cell(p90),
        "sources": [
            {"contract": s.contract, "statement": s.statement, "as_of": s.as_of}
            for s in row.sources
        ],
    }


def report_data(report: Report, customer: int | None) -> dict[str, Any]:
    return {
        "start": f"{report.first:%Y-%m}",
        "end": f"{report.last:%Y-%m}",
        "severity": report.severity,
        "customer": customer,
        "months": [f"{month:%Y-%m}" for month in report.months],
        "rows": [_row(row) for row in report.rows],
    }
