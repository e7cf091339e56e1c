"""Alert intake: the Alertmanager webhook, operations' alerts page, and the triage of the
outages alerts open (confirm, dismiss)."""

from django.urls import path

from outages import alert_views

urlpatterns = [
    path("hooks/alertmanager/", alert_views.alertmanager_webhook, name="alerts-alertmanager"),
    path("ops/alerts/", alert_views.alerts_page, name="ops-alerts"),
    path("ops/alerts/sources/new/", alert_views.alert_source_new, name="ops-alert-source-new"),
    path(
        "ops/alerts/sources/<int:source_id>/deactivate/",
        alert_views.alert_source_deactivate,
        name="ops-alert-source-deactivate",
    ),
    path("ops/alerts/routes/new/", alert_views.alert_route_new, name="ops-alert-route-new"),
    path(
        "ops/alerts/routes/<int:route_id>/edit/",
        alert_views.alert_route_edit,
        name="ops-alert-route-edit",
    ),
    path(
        "ops/alerts/routes/<int:route_id>/delete/",
        alert_views.alert_route_delete,
        name="ops-alert-route-delete",
    ),
    path(
        "ops/outages/<int:outage_id>/confirm/",
        alert_views.outage_confirm,
        name="ops-outage-confirm",
    ),
    path(
        "ops/outages/<int:outage_id>/dismiss/",
        alert_views.outage_dismiss,
        name="ops-outage-dismiss",
    ),
]
