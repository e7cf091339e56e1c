"""The public status page: no login needed anywhere under /status/."""

from django.urls import path

from status import views

urlpatterns = [
    path("status/", views.status_page, name="status-page"),
    path("status/incidents/<int:outage_id>/", views.incident_page, name="status-incident"),
    path("status/feed.atom", views.incident_feed, name="status-feed"),
]
