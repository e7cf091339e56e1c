"""Helpers shared by the REST API tests (test_api_*.py); their fixtures live in conftest.py."""

from __future__ import annotations

from rest_framework.test import APIClient

API = "/api/v1/"
ENDPOINTS = ["customers", "services", "calendars", "policies", "contracts", "invoices"]
WEEKDAY_HOURS = {day: [("03:00", "20:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
BANDS = [
    {"lower_pct": "99.500", "upper_pct": None, "credit_pct": "0.00"},
    {"lower_pct": "98.000", "upper_pct": "99.500", "credit_pct": "5.00"},
    {"lower_pct": "95.000", "upper_pct": "98.000", "credit_pct": "10.00"},
    {"lower_pct": "90.000", "upper_pct": "95.000", "credit_pct": "35.00"},
    {"lower_pct": "0.000", "upper_pct": "90.000", "credit_pct": "50.00"},
]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        # The backend that serves sessions (settings.AUTHENTICATION_BACKENDS): a login
        # through one that is not listed there leaves the request anonymous.
        client.force_login(user, backend="contracts.backends.PortalBackend")
    return client


def band_tuples() -> list[tuple]:
    return [(b["lower_pct"], b["upper_pct"], b["credit_pct"]) for b in BANDS]


def errors_text(response) -> str:
    return str(response.json())


def api_token_for(user) -> str:
    """A working API key for ``user``, made the way the product makes them (send it as
    ``Authorization: Token <key>``)."""
    from slaportal.tokens import api_token_issue

    return api_token_issue(user)[1]
