"""GET /api/v1/contracts/{id}/availability/?month=YYYY-MM: a contract's live figures for a
month, exact, with the working; only for those who may see the contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contracts import services
from contracts.models import SLAPolicy
from outages import services as outage_services
from slaportal.months import format_month, next_month
from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerUserFactory, ServiceFactory, StaffFactory

JUNE = datetime(2026, 6, 1, 4, tzinfo=UTC)  # 2026-06-01 00:00 in New York (EDT)
RECORDED = datetime(2026, 6, 30, 12, tzinfo=UTC)  # while June was still running


def url(contract, month: str | None = "2026-06") -> str:
    query = "" if month is None else f"?month={month}"
    return f"{API}contracts/{contract.pk}/availability/{query}"


@pytest.fixture
def heretto(catalog, customer):
    """A contract on the tiered Heretto CCMS policy: 24x7, months in America/New_York."""
    return services.contract_create(
        customer=customer,
        policy=SLAPolicy.objects.get(code="heretto-ccms"),
        reference="HER-1",
        start_date=date(2026, 1, 1),
        currency="USD",
        lines=[(ServiceFactory(name="CCMS"), Decimal("2000.00"))],
    )


@pytest.fixture
def june_outages(heretto):
    service = heretto.lines.get().service
    internal = outage_services.outage_record(
        service=service,
        started_at=JUNE + timedelta(days=9, hours=10),  # June 10, 10:00–13:00 EDT
        ended_at=JUNE + timedelta(days=9, hours=13),
        category="internal",
        title="Editor down",
        actor=None,
        now=RECORDED,
    )
    maintenance = outage_services.outage_record(
        service=service,
        started_at=JUNE + timedelta(days=19, hours=1),  # June 20, 01:00–05:00 EDT
        ended_at=JUNE + timedelta(days=19, hours=5),
        category="scheduled_maintenance",
        title="Database upgrade",
        actor=None,
        now=RECORDED,
    )
    return internal, maintenance


def test_worked_example_tiered_june_with_maintenance_removed_from_the_denominator(
    customer_user, heretto, june_outages
):
    internal, maintenance = june_outages
    response = client_for(customer_user).get(url(heretto))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("contract", "month", "policy", "policy_version")} == {
        "contract": heretto.pk,
        "month": "2026-06",
        "policy": "heretto-ccms",
        "policy_version": 1,
    }
    assert (body["target_availability"], body["time_zone"], body["complete"]) == (
        "99.500",
        "America/New_York",
        True,
    )
    [figures] = body["services"]
    service = heretto.lines.get().service
    assert (figures["service"], figures["service_name"]) == (service.pk, "CCMS")
    # June = 30 × 1440 = 43,200 minutes; Required Monthly Availability removes the 4 h
    # of scheduled maintenance: 42,960 minutes, of which 180 were down.
    assert figures["denominator_minutes"] == "42960.00"
    assert figures["downtime_minutes"] == "180.00"
    assert figures["removed_minutes"] == "240.00"
    assert (figures["denominator_seconds"], figures["downtime_seconds"]) == (2_577_600, 10_800)
    exact = Fraction(42960 - 180, 42960) * 100
    assert figures["availability_pct"] == str(Decimal(floor(exact * 10**6)).scaleb(-6))
    assert figures["availability_pct"] == "99.581005"
    assert figures["display"] == "99.581 %"
    assert figures["period_start"] == "2026-06-01T04:00:00Z"
    assert figures["period_end"] == "2026-07-01T04:00:00Z"
    assert len(figures["daily"]) == 30
    down_days = [d for d in figures["daily"] if d["downtime_minutes"] != "0.00"]
    assert down_days == [{"date": "2026-06-10", "downtime_minutes": "180.00"}]
    assert figures["counted"] == [
        {
            "outage": internal.pk,
            "title": "Editor down",
            "category": "internal",
            "minutes": "180.00",
            "note": "",
        }
    ]
    [excluded] = figures["excluded"]
    assert (excluded["outage"], excluded["code"], excluded["category"]) == (
        maintenance.pk,
        "removed_from_denominator",
        "scheduled_maintenance",
    )
    assert "removed from the month's required availability" in excluded["reason"]


def test_no_figure_is_a_float(customer_user, heretto, june_outages):
    figures = client_for(customer_user).get(url(heretto)).json()["services"][0]
    for key in ("availability_pct", "denominator_minutes", "downtime_minutes", "removed_minutes"):
        assert isinstance(figures[key], str)
    assert all(isinstance(d["downtime_minutes"], str) for d in figures["daily"])


def test_another_customers_outage_does_not_count_and_is_not_listed(
    customer_user, heretto, other_customer
):
    service = heretto.lines.get().service
    services.contract_create(
        customer=other_customer,
        policy=heretto.policy,
        reference="HER-2",
        start_date=date(2026, 1, 1),
        currency="USD",
        lines=[(service, Decimal("500.00"))],
    )
    outage_services.outage_record(
        service=service,
        started_at=JUNE + timedelta(days=2),
        ended_at=JUNE + timedelta(days=2, hours=1),
        category="internal",
        title="Only the other customer",
        scope="customers",
        customers=[other_customer],
        actor=None,
        now=RECORDED,
    )
    body = client_for(customer_user).get(url(heretto)).json()
    figures = body["services"][0]
    assert (figures["downtime_minutes"], figures["availability_pct"]) == ("0.00", "100.000000")
    assert "Only the other customer" not in str(body)


# ---------------------------------------------------------------- who may ask


def test_a_customer_asking_for_another_customers_contract_gets_a_404(heretto, june_outages):
    stranger = CustomerUserFactory()
    assert client_for(stranger).get(url(heretto)).status_code == 404
    # Even a bad month says nothing about a contract they cannot see.
    assert client_for(stranger).get(url(heretto, "2026-13")).status_code == 404


@pytest.mark.parametrize("role", ["agent", "operations", "account_manager", "admin"])
def test_every_staff_role_reads_any_contracts_availability(role, heretto, june_outages):
    response = client_for(StaffFactory(role=role)).get(url(heretto))
    assert response.status_code == 200
    assert response.json()["services"][0]["availability_pct"] == "99.581005"


def test_anonymous_and_roleless_callers_get_nothing(heretto):
    assert client_for(None).get(url(heretto)).status_code in (401, 403)
    assert client_for(StaffFactory(role="unrelated-group")).get(url(heretto)).status_code == 404


# ---------------------------------------------------------------- the month


@pytest.mark.parametrize(
    ("month", "words"),
    [
        (None, "required"),
        ("", "not a month"),
        ("2026-13", "13 is not 01–12"),
        ("abc", "use YYYY-MM"),
        ("2026-6", "use YYYY-MM"),
    ],
)
def test_a_missing_or_unreadable_month_is_a_400_saying_why(customer_user, heretto, month, words):
    response = client_for(customer_user).get(url(heretto, month))
    assert response.status_code == 400
    assert words in " ".join(response.json()["month"])


def test_a_month_that_has_not_started_is_a_400(customer_user, heretto):
    now = timezone.now()
    later = next_month(next_month(now.date().replace(day=1)))
    response = client_for(customer_user).get(url(heretto, format_month(later)))
    assert response.status_code == 400
    assert "has not started yet in America/New_York" in " ".join(response.json()["month"])


def test_the_current_month_is_measured_up_to_now(customer_user, heretto):
    service = heretto.lines.get().service
    now = timezone.now()
    outage = outage_services.outage_record(
        service=service,
        started_at=now - timedelta(minutes=30),
        category="internal",
        title="Ongoing",
        actor=None,
    )
    month = now.astimezone(ZoneInfo("America/New_York")).date().replace(day=1)
    response = client_for(customer_user).get(url(heretto, format_month(month)))
    assert response.status_code == 200, response.json()
    body = response.json()
    figures = body["services"][0]
    assert body["complete"] is False
    period_end = datetime.fromisoformat(figures["period_end"])
    # The engine counts whole seconds.
    assert now.replace(microsecond=0) <= period_end <= timezone.now()
    # The ongoing outage counts up to now, from its start (or the month's, just after
    # midnight on the 1st).
    period_start = datetime.fromisoformat(figures["period_start"])
    counted_from = max(outage.started_at.replace(microsecond=0), period_start)
    assert figures["downtime_seconds"] == (period_end - counted_from).total_seconds()
    assert 0 < figures["downtime_seconds"] <= 30 * 60 + 1
    assert [c["outage"] for c in figures["counted"]] == [outage.pk]
    measured = Decimal(figures["denominator_seconds"]) / 60
    assert Decimal(figures["denominator_minutes"]) == measured.quantize(Decimal("0.01"))
    assert measured < Decimal(31 * 1440)
