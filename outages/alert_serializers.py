"""The shape of Prometheus Alertmanager's webhook payload (version 4), parsed before
anything is written: a payload that does not have it is a 400 naming the fields, and
nothing of it is stored.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from outages.serializers import AwareDateTimeField


class AlertTimeField(AwareDateTimeField):
    """An ISO 8601 time as Alertmanager writes it (nanoseconds are cut to microseconds).
    Go's zero time, ``0001-01-01T00:00:00Z``, is how it says "none" (a firing alert's
    ``endsAt``)."""

    def to_internal_value(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # the parent's message names the format
            if parsed is not None and parsed.year == 1:
                return None
        return super().to_internal_value(value)


class LabelsField(serializers.DictField):
    """Label (or annotation) names to string values, as Prometheus makes them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.CharField(allow_blank=True, trim_whitespace=False))
        super().__init__(**kwargs)


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["firing", "resolved"])
    labels = LabelsField()
    annotations = LabelsField(required=False, default=dict)
    startsAt = AlertTimeField()
    endsAt = AlertTimeField(required=False, allow_null=True, default=None)
    generatorURL = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, trim_whitespace=False
    )
    fingerprint = serializers.CharField(max_length=100)

    def validate_startsAt(self, value: datetime | None) -> datetime:
        if value is None:
            raise serializers.ValidationError("An alert gives the time it started firing.")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["status"] == "resolved" and data.get("endsAt") is None:
            raise serializers.ValidationError({"endsAt": ["A resolved alert gives its end."]})
        return data


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """The fields the portal reads; the rest of the payload (receiver, groupLabels,
    commonLabels, commonAnnotations, externalURL, truncatedAlerts) is accepted and left."""

    version = serializers.ChoiceField(
        choices=["4"], error_messages={"invalid_choice": "Only version 4 payloads are read."}
    )
    groupKey = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    status = serializers.ChoiceField(choices=["firing", "resolved"], required=False)
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=True)
