"""Shape of ``GET /api/v1/contracts/{id}/availability/?month=YYYY-MM``: a contract's live
availability figures for one month, per service, with the working.

Every figure is exact or says how it is cut: the engine counts whole seconds and keeps
availability as a fraction; here they become decimal strings (never floats), cut once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from rest_framework import serializers

from contracts.models import Contract, DowntimeCategory
from outages.selectors import ServiceMonth
from slaportal.formatting import MINUTE_PLACES, minutes_decimal, percent_cut
from slaportal.months import format_month, month_bounds, month_has_ended, parse_month

PCT_PLACES = 6


def percent(value: Fraction) -> Decimal:
    """A percentage cut down (never up) to 6 places, so a shortfall never shows as met."""
    return percent_cut(value, PCT_PLACES)


def minutes(seconds: int) -> Decimal:
    return minutes_decimal(Fraction(seconds, 60))


class AvailabilityQuerySerializer(serializers.Serializer):
    month = serializers.CharField(
        allow_blank=True,  # parse_month says what is wrong with it, blank included
        help_text="The month, YYYY-MM, in the policy's time zone. The current month is "
        "measured up to now; a month that has not started yet is refused.",
    )

    def validate_month(self, text: str) -> date:
        try:
            month = parse_month(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        zone = self.context["zone"]
        if month_bounds(month, zone)[0] > self.context["now"]:
            raise serializers.ValidationError(
                f"{format_month(month)} has not started yet in {zone}; there are no figures for it."
            )
        return month


class DailyDowntimeSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A local day of the month in the policy's zone.")
    downtime_minutes = serializers.DecimalField(
        max_digits=12, decimal_places=MINUTE_PLACES, help_text="Counted downtime that day."
    )


class CountedOutageSerializer(serializers.Serializer):
    outage = serializers.IntegerField(help_text="Outage id.")
    title = serializers.CharField()
    category = serializers.ChoiceField(choices=DowntimeCategory.choices)
    minutes = serializers.DecimalField(
        max_digits=12,
        decimal_places=MINUTE_PLACES,
        help_text="Downtime this outage added (time already counted is not counted twice).",
    )
    note = serializers.CharField(
        allow_blank=True, help_text="Any part left out, e.g. before confirmation."
    )


class ExcludedOutageSerializer(serializers.Serializer):
    outage = serializers.IntegerField(help_text="Outage id.")
    title = serializers.CharField()
    category = serializers.ChoiceField(choices=DowntimeCategory.choices)
    reason = serializers.CharField(help_text="Why it does not count, in words.")
    code = serializers.CharField(
        help_text="Machine-readable reason: excluded_category, removed_from_denominator, "
        "non_critical_service, below_significant_subset, not_confirmed, "
        "before_confirmation, outside_month, outside_contract_period, "
        "outside_measured_hours, overlap, overlap_removed."
    )


class ServiceAvailabilitySerializer(serializers.Serializer):
    service = serializers.IntegerField(help_text="Service id.")
    service_name = serializers.CharField()
    availability_pct = serializers.DecimalField(
        max_digits=9,
        decimal_places=PCT_PLACES,
        help_text="(denominator − downtime) / denominator × 100, from exact whole seconds, "
        "cut to 6 decimal places with ROUND_DOWN (never rounded up).",
    )
    display = serializers.CharField(help_text="For people: 3 places, rounded down, e.g. 99.581 %.")
    denominator_minutes = serializers.DecimalField(
        max_digits=12,
        decimal_places=MINUTE_PLACES,
        help_text="Minutes the service had to be available: the measured period less the "
        "time the policy removes (e.g. scheduled maintenance). Seconds / 60, to 2 places "
        "(half-up); exact in denominator_seconds.",
    )
    downtime_minutes = serializers.DecimalField(
        max_digits=12,
        decimal_places=MINUTE_PLACES,
        help_text="Counted downtime (overlaps counted once). Seconds / 60, 2 places (half-up).",
    )
    removed_minutes = serializers.DecimalField(
        max_digits=12,
        decimal_places=MINUTE_PLACES,
        help_text="Time removed from the denominator. Seconds / 60, 2 places (half-up).",
    )
    denominator_seconds = serializers.IntegerField()
    downtime_seconds = serializers.IntegerField()
    removed_seconds = serializers.IntegerField()
    period_start = serializers.DateTimeField(
        help_text="Start of the measured period: the month, clipped to the contract."
    )
    period_end = serializers.DateTimeField(
        help_text="End of the measured period; now, for the month still running."
    )
    daily = DailyDowntimeSerializer(many=True)
    counted = CountedOutageSerializer(many=True)
    excluded = ExcludedOutageSerializer(many=True)


class ContractAvailabilitySerializer(serializers.Serializer):
    contract = serializers.IntegerField(help_text="Contract id.")
    month = serializers.CharField(help_text="YYYY-MM.")
    time_zone = serializers.CharField(help_text="The policy's zone, where the month is measured.")
    complete = serializers.BooleanField(
        help_text="Whether the month has ended; false: figures up to now, still changing."
    )
    policy = serializers.CharField(help_text="SLA policy code.")
    policy_version = serializers.IntegerField()
    target_availability = serializers.DecimalField(max_digits=6, decimal_places=3)
    services = ServiceAvailabilitySerializer(many=True)


def _service(row: ServiceMonth) -> dict[str, Any]:
    result = row.result
    verdicts = result.verdicts
    return {
        "service": row.service.pk,
        "service_name": row.service.name,
        "availability_pct": percent(result.availability),
        "display": result.display,
        "denominator_minutes": minutes(result.denominator_seconds),
        "downtime_minutes": minutes(result.downtime_seconds),
        "removed_minutes": minutes(result.removed_seconds),
        "denominator_seconds": result.denominator_seconds,
        "downtime_seconds": result.downtime_seconds,
        "removed_seconds": result.removed_seconds,
        "period_start": result.period_start,
        "period_end": result.period_end,
        "daily": [
            {"date": d.day, "downtime_minutes": minutes(d.downtime_seconds)} for d in result.days
        ],
        "counted": [
            {
                "outage": v.outage_id,
                "title": v.title,
                "category": v.category,
                "minutes": minutes(v.seconds),
                "note": v.reason,
            }
            for v in verdicts
            if v.counted
        ],
        "excluded": [
            {
                "outage": v.outage_id,
                "title": v.title,
                "category": v.category,
                "reason": v.reason,
                "code": v.code,
            }
            for v in verdicts
            if not v.counted
        ],
    }


def availability_data(
    contract: Contract, month: date, rows: list[ServiceMonth], *, now: datetime
) -> dict[str, Any]:
    zone = contract.policy.measurement_calendar.time_zone
    return {
        "contract": contract.pk,
        "month": format_month(month),
        "time_zone": zone,
        "complete": month_has_ended(month, zone, now),
        "policy": contract.policy.code,
        "policy_version": contract.policy.version,
        "target_availability": contract.policy.target_availability,
        "services": [_service(row) for row in rows],
    }
