"""The API throttles each client: past the rate, a 429 with Retry-After (DRF's throttles,
counted in the cache). A bad rate in the environment stops start-up."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tests.support.api_helpers import API, client_for
from tests.support.processes import manage


@pytest.fixture
def low_rates(monkeypatch):
    # DRF reads the rates into the class when it is defined: set them there.
    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {"user": "5/minute", "anon": "3/minute"}
    )
    monkeypatch.setattr(
        AnonRateThrottle, "THROTTLE_RATES", {"user": "5/minute", "anon": "3/minute"}
    )
    cache.clear()
    yield
    cache.clear()


def test_a_signed_in_client_past_its_rate_gets_a_429_with_retry_after(low_rates, agent):
    client = client_for(agent)
    answers = [client.get(f"{API}services/").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    refused = client.get(f"{API}services/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"].lower()


def test_anonymous_callers_have_a_rate_of_their_own(low_rates, customer_user):
    """The one operation open to anonymous callers, exchanging a password for a token."""
    client = APIClient()
    body = {"username": customer_user.email, "password": "not-the-password"}
    answers = [client.post(f"{API}auth/token/", body, format="json") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [400] * 3, [a.content for a in answers]
    assert answers[3].status_code == 429
    assert "throttled" in answers[3].json()["detail"].lower()


def test_a_rate_that_is_not_a_rate_stops_start_up():
    result = manage("check", DEBUG="1", API_THROTTLE_USER="lots")
    assert result.returncode != 0
    assert "API_THROTTLE_USER='lots' is not a rate like 600/minute." in result.stderr
