"""Shapes of the outages API.

``OutageSerializer`` renders an outage for whoever asks: staff see everything; a customer
person sees the public part only — no internal notes, no internal updates, and in a
scope of chosen customers only their own organisation (never who else was affected).
Input serializers only parse types and shapes; the rules about the values (an end after
the start, no outage in the future, scoped customers holding the service) live once in
``outages.services`` and reach the client as 400s naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import Customer, DowntimeCategory, Service
from outages.models import Outage, OutageUpdate, Stage
from slaportal import roles
from slaportal.months import check_year

# What customer people never get: notes and the triage of false alarms (which they never
# see anyway: ``outages.selectors.PUBLISHED``).
STAFF_ONLY = ("internal_notes", "dismissed_at", "dismiss_reason")


class OutageUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutageUpdate
        fields = ["id", "posted_at", "text", "public", "stage"]
        read_only_fields = fields
        extra_kwargs = {
            "stage": {
                "help_text": "The incident's stage at a public update (empty on internal ones)."
            }
        }


class OutageSerializer(serializers.ModelSerializer):
    customers = serializers.SerializerMethodField(
        help_text="Customer ids of a `customers` scope (empty for `all`). A customer "
        "person sees only their own organisation here."
    )
    updates = serializers.SerializerMethodField(
        help_text="The timeline, oldest first; internal updates are shown to staff only."
    )
    # Not read-only, only so that the schema marks it optional: this serializer never
    # parses input, and customer people get no such key.
    internal_notes = serializers.CharField(
        required=False, help_text="Staff only: absent for customer people."
    )
    dismissed_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Staff only: when operations dismissed it as a false alarm (it never counts).",
    )
    dismiss_reason = serializers.CharField(required=False, help_text="Staff only: why.")

    class Meta:
        model = Outage
        fields = [
            "id",
            "service",
            "started_at",
            "ended_at",
            "confirmed_at",
            "announced_at",
            "category",
            "impact",
            "source",
            "scope",
            "customers",
            "title",
            "description",
            "internal_notes",
            "dismissed_at",
            "dismiss_reason",
            "updates",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "source": {
                "help_text": "manual: recorded by operations; alert: opened by a monitoring "
                "alert (customers see it once confirmed)."
            }
        }

    def _viewer_customer_id(self) -> int | None:
        """The requester's organisation, or None for staff."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and roles.is_staff_member(user):
            return None
        return getattr(user, "customer_id", None) or -1  # unknown viewer: show nothing private

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_customers(self, outage: Outage) -> list[int]:
        ids = [c.pk for c in outage.customers.all()]  # prefetched
        viewer = self._viewer_customer_id()
        return ids if viewer is None else [pk for pk in ids if pk == viewer]

    @extend_schema_field(OutageUpdateSerializer(many=True))
    def get_updates(self, outage: Outage) -> list[dict[str, Any]]:
        rows = outage.updates.all()  # prefetched, in timeline order
        if self._viewer_customer_id() is not None:
            rows = [u for u in rows if u.public]
        return OutageUpdateSerializer(rows, many=True).data

    def to_representation(self, outage: Outage) -> dict[str, Any]:
        data = super().to_representation(outage)
        if self._viewer_customer_id() is not None:
            for private in STAFF_ONLY:
                data.pop(private, None)
        return data


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset. A naive time is refused, not read in the server's
    zone: an outage logged an ocean away must not silently shift by hours."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            raise serializers.ValidationError("Give a time with its time zone.")
        try:
            check_year(value.year, value.isoformat())
            return super().enforce_timezone(value)
        except (ValueError, OverflowError) as exc:
            # OverflowError: year 1 or 9999 moved to UTC leaves the calendar.
            raise serializers.ValidationError(str(exc)) from exc


class OutageInputSerializer(serializers.Serializer):
    """Record an outage (operations). Times carry their zone (ISO 8601)."""

    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField(
        allow_null=True, required=False, help_text="Leave empty while ongoing."
    )
    confirmed_at = AwareDateTimeField(allow_null=True, required=False)
    announced_at = AwareDateTimeField(
        allow_null=True, required=False, help_text="Scheduled maintenance only."
    )
    category = serializers.ChoiceField(choices=DowntimeCategory.choices)
    impact = serializers.ChoiceField(
        choices=Outage.Impact.choices,
        required=False,
        help_text="What customers notice; when a new outage gives none, it follows the cause.",
    )
    scope = serializers.ChoiceField(choices=Outage.Scope.choices, default=Outage.Scope.ALL)
    customers = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Customer.objects.all(),
        required=False,
        help_text="Customer ids for scope `customers`; each must hold the service.",
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        allow_blank=True, required=False, help_text="Public: customers see this."
    )
    internal_notes = serializers.CharField(
        allow_blank=True, required=False, help_text="Staff only."
    )


class OutageChangeInputSerializer(OutageInputSerializer):
    """Change an outage (PATCH): only the fields given change. Changing a month that has
    already ended opens a re-issue request for every contract it may affect."""

    scope = serializers.ChoiceField(choices=Outage.Scope.choices, required=False)


class OutageUpdateInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    public = serializers.BooleanField(
        default=True, help_text="False: an internal note on the timeline, for staff only."
    )
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Public updates: the incident's stage (investigating, identified, monitoring, "
        "resolved; maintenance: scheduled, in_progress, verifying, completed). Empty: it "
        "stays at its stage. Internal notes give none.",
    )


class OutageCloseInputSerializer(serializers.Serializer):
    ended_at = AwareDateTimeField(help_text="When the service came back.")
    text = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="The public closing update; a standard sentence when empty.",
    )


class OutageConfirmInputSerializer(serializers.Serializer):
    """Confirm an outage a monitoring alert opened."""

    confirmed_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="When the service was confirmed unavailable; now when not given. Policies "
        "whose downtime starts at confirmation count from here.",
    )
    category = serializers.ChoiceField(
        choices=DowntimeCategory.choices, required=False, help_text="The cause, if known now."
    )
    impact = serializers.ChoiceField(
        choices=Outage.Impact.choices, required=False, help_text="The impact, if known now."
    )


class OutageDismissInputSerializer(serializers.Serializer):
    """Dismiss an unconfirmed outage a monitoring alert opened, as a false alarm."""

    reason = serializers.CharField(
        max_length=300, allow_blank=True, help_text="Why it is a false alarm (required)."
    )
