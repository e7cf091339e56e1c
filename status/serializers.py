"""The Statuspage-shaped bodies (``status.statuspage``) as serializers: they render each
body and document it in the OpenAPI schema, so the two cannot drift apart. Output only."""

from __future__ import annotations

from rest_framework import serializers

from outages.models import INCIDENT_STAGES, MAINTENANCE_STAGES
from status.statuspage import COMPONENT_STATUS, IMPACT, INDICATOR, MAINTENANCE_IMPACT

POSTMORTEM = "postmortem"  # a Statuspage status we never give (no postmortems here)
INCIDENT_STATUSES = [*(s.value for s in INCIDENT_STAGES), POSTMORTEM]
MAINTENANCE_STATUSES = [s.value for s in MAINTENANCE_STAGES]
AT = "UTC, ISO 8601."


def _at(help_text: str, *, null: bool = False) -> serializers.DateTimeField:
    return serializers.DateTimeField(allow_null=null, help_text=f"{help_text} {AT}")


class StatuspagePageSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The page's id (from the provider's name).")
    name = serializers.CharField(help_text="The provider's name.")
    url = serializers.URLField(help_text="The HTML status page.")
    time_zone = serializers.CharField(help_text="Always Etc/UTC: every time here is UTC.")
    updated_at = _at("When anything on the page last changed (now, if nothing ever did).")


class StatuspageStatusSerializer(serializers.Serializer):
    indicator = serializers.ChoiceField(
        choices=list(dict.fromkeys(INDICATOR.values())),
        help_text="The worst state of any service: none (all operational), maintenance, "
        "minor (degraded), major (partial outage), critical (major outage).",
    )
    description = serializers.CharField(help_text="The status page's banner, in words.")


class StatuspageComponentSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=list(COMPONENT_STATUS.values()),
        help_text="The service's state now: the worst impact of its ongoing incidents, or "
        "under_maintenance during a maintenance window.",
    )
    created_at = _at("Not recorded: always null.", null=True)
    updated_at = _at("When the service's state last changed (null: never).", null=True)
    position = serializers.IntegerField(help_text="1 for the first service, by name.")
    description = serializers.CharField(allow_null=True)
    showcase = serializers.BooleanField()
    group_id = serializers.CharField(allow_null=True, help_text="Groups are not used: null.")
    page_id = serializers.CharField()
    group = serializers.BooleanField(help_text="Always false: every component is a service.")
    only_show_if_degraded = serializers.BooleanField()
    start_date = serializers.DateField(allow_null=True, help_text="Not recorded: always null.")


class StatuspageIncidentUpdateSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[*INCIDENT_STATUSES, *MAINTENANCE_STATUSES],
        help_text="The stage given with the update (a maintenance window's for maintenance).",
    )
    body = serializers.CharField(help_text="The update's public text.")
    incident_id = serializers.CharField()
    created_at = _at("When it was posted.")
    updated_at = _at("When it was posted (updates are not edited).")
    display_at = _at("When it was posted.")
    affected_components = serializers.ListField(
        child=serializers.DictField(),
        allow_null=True,
        help_text="Not recorded per update: always null.",
    )
    deliver_notifications = serializers.BooleanField(
        help_text="Always true: subscribers are sent every public update."
    )


class _IncidentFields(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    created_at = _at("When it was first published.")
    updated_at = _at("When it last changed.")
    monitoring_at = _at("When it was first put under monitoring (verifying).", null=True)
    resolved_at = _at("When it ended (null while it lasts).", null=True)
    started_at = _at("When it started (or starts).")
    shortlink = serializers.URLField(help_text="Its page on the status page.")
    page_id = serializers.CharField()
    incident_updates = StatuspageIncidentUpdateSerializer(
        many=True, help_text="Its public updates, newest first."
    )
    components = StatuspageComponentSerializer(many=True, help_text="The affected service.")


class StatuspageIncidentSerializer(_IncidentFields):
    status = serializers.ChoiceField(
        choices=INCIDENT_STATUSES, help_text="Its stage now (postmortem is never given)."
    )
    impact = serializers.ChoiceField(
        choices=[*dict.fromkeys(IMPACT.values())],
        help_text="minor (degraded performance), major (partial outage) or critical "
        "(major outage).",
    )


class StatuspageScheduledMaintenanceSerializer(_IncidentFields):
    status = serializers.ChoiceField(choices=MAINTENANCE_STATUSES, help_text="Its stage now.")
    impact = serializers.ChoiceField(choices=[MAINTENANCE_IMPACT])
    scheduled_for = _at("When the window starts.")
    scheduled_until = _at("When the window is planned to end (null: not given).", null=True)


class StatuspageSummarySerializer(serializers.Serializer):
    page = StatuspagePageSerializer()
    components = StatuspageComponentSerializer(many=True)
    incidents = StatuspageIncidentSerializer(many=True, help_text="The unresolved incidents.")
    scheduled_maintenances = StatuspageScheduledMaintenanceSerializer(
        many=True, help_text="Maintenance in progress or verifying, then upcoming, soonest first."
    )
    status = StatuspageStatusSerializer()


class StatuspageStatusBodySerializer(serializers.Serializer):
    page = StatuspagePageSerializer()
    status = StatuspageStatusSerializer()


class StatuspageComponentsSerializer(serializers.Serializer):
    page = StatuspagePageSerializer()
    components = StatuspageComponentSerializer(many=True)


class StatuspageIncidentsSerializer(serializers.Serializer):
    page = StatuspagePageSerializer()
    incidents = StatuspageIncidentSerializer(many=True)


class StatuspageScheduledMaintenancesSerializer(serializers.Serializer):
    page = StatuspagePageSerializer()
    scheduled_maintenances = StatuspageScheduledMaintenanceSerializer(many=True)
