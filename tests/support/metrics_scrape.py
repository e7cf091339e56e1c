"""Scraping /metrics in tests: a client presenting the token, and the samples of a
scrape by name and labels (tests/portal/test_metrics*.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scraper-token-for-tests"


@pytest.fixture
def scraper(settings) -> Client:
    """Prometheus: a client presenting the configured token."""
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = None
    return Client(headers={"Authorization": f"Bearer {TOKEN}"})


def scrape(client: Client) -> dict[tuple[str, tuple], float]:
    """Every sample of one scrape, by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def series(found: dict[tuple[str, tuple], float], name: str) -> dict[tuple, float]:
    """The samples of one metric, by their labels' values (label names sorted)."""
    return {tuple(value for _, value in labels): v for (n, labels), v in found.items() if n == name}
