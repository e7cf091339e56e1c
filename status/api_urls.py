"""Machine-readable status in Statuspage's shape (``status.api``): public, read-only."""

from django.urls import path

from status import api

V2 = "status/api/v2/"

urlpatterns = [
    path(f"{V2}summary.json", api.SummaryView.as_view(), name="statuspage-summary"),
    path(f"{V2}status.json", api.StatusView.as_view(), name="statuspage-status"),
    path(f"{V2}components.json", api.ComponentsView.as_view(), name="statuspage-components"),
    path(f"{V2}incidents.json", api.IncidentsView.as_view(), name="statuspage-incidents"),
    path(
        f"{V2}incidents/unresolved.json",
        api.UnresolvedIncidentsView.as_view(),
        name="statuspage-incidents-unresolved",
    ),
    path(
        f"{V2}scheduled-maintenances.json",
        api.ScheduledMaintenancesView.as_view(),
        name="statuspage-scheduled-maintenances",
    ),
    path(
        f"{V2}scheduled-maintenances/upcoming.json",
        api.UpcomingMaintenancesView.as_view(),
        name="statuspage-scheduled-maintenances-upcoming",
    ),
    path(
        f"{V2}scheduled-maintenances/active.json",
        api.ActiveMaintenancesView.as_view(),
        name="statuspage-scheduled-maintenances-active",
    ),
]
