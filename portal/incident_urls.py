"""The customer's incidents page."""

from django.urls import path

from portal import incidents

urlpatterns = [
    path("portal/incidents/", incidents.customer_incidents, name="portal-incidents"),
]
