"""``GET /api/v1/reports/attainment/``: the report's figures (the same as its page), the
caller's customers only (another customer is a 404), and a 400 with a message per field
for bad input."""

from __future__ import annotations

import pytest
import time_machine

from statements.services import statement_generate
from tests.support.api_helpers import API, client_for
from tests.support.attainment import JUNE, NOW, foreign_customer, june_tickets
from tests.support.factories import (
    CustomerUserFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

URL = f"{API}reports/attainment/"
JUNE_ONLY = {"start": "2026-06", "end": "2026-06"}


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def foreign(catalog):
    return foreign_customer()


@pytest.fixture
def june(june_contract, foreign):
    june_tickets(june_contract)
    return statement_generate(contract=june_contract, month=JUNE, now=NOW)


def test_the_api_reports_the_statement_s_figures_with_the_times(june):
    person = CustomerUserFactory(customer=june.contract.customer)
    body = client_for(person).get(URL, JUNE_ONLY).json()
    assert (body["start"], body["end"], body["months"]) == ("2026-06", "2026-06", ["2026-06"])
    assert (body["severity"], body["customer"]) == (None, None)
    rows = {row["severity"]: row for row in body["rows"]}
    assert set(rows) == {1, 2}
    stored = {s["severity"]: s for s in june.snapshot["support"]["severities"]}
    for severity, row in rows.items():
        assert row["tickets"] == stored[severity]["tickets"]
        for clock in ("response", "resolution"):
            counts = {k: row[clock][k] for k in ("met", "breached", "open", "no_target")}
            assert counts == stored[severity][clock]
    two = rows[2]
    assert two["response"]["attained"] == "66.7 %"
    assert (two["responses_timed"], two["median_first_response_seconds"]) == (5, 3 * 3600)
    assert (two["p90_first_response_seconds"], two["p90_first_response"]) == (36000, "10 h")
    assert two["sources"] == [
        {"contract": "C-JUNE-1", "statement": june.number, "as_of": "2026-07-02T12:00:00Z"}
    ]
    assert "Foreign Co" not in str(body)


def test_a_customer_the_caller_may_not_see_is_a_404(june, foreign, account_manager):
    own = june.contract.customer
    person = CustomerUserFactory(customer=own)
    for user in (person, account_manager):
        client = client_for(user)
        assert client.get(URL, {"customer": foreign.pk}).status_code == 404
        assert client.get(URL, {"customer": 10**12}).status_code == 404  # none: the same
        mine = client.get(URL, {**JUNE_ONLY, "customer": own.pk}).json()
        assert {row["customer_name"] for row in mine["rows"]} == {own.name}
    staff = client_for(StaffFactory(role="operations")).get(URL, JUNE_ONLY).json()
    assert {row["customer_name"] for row in staff["rows"]} == {own.name, "Foreign Co"}
    by_manager = client_for(account_manager).get(URL, JUNE_ONLY).json()
    assert {row["customer_name"] for row in by_manager["rows"]} == {own.name}


def test_a_person_without_a_customer_or_a_role_is_refused(db):
    from tests.support.factories import UserFactory

    assert client_for(UserFactory()).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"start": "0001-01"}, "start", "give a year from 1900 to 2999"),
        ({"end": "3000-01"}, "end", "give a year from 1900 to 2999"),
        ({"start": "2026-00"}, "start", "0 is not 01–12"),
        ({"start": "last month"}, "start", "is not a month; use YYYY-MM"),
        ({"end": "2026-08"}, "end", "August 2026 has not started yet"),
        ({"start": "2026-06", "end": "2026-01"}, "end", "The last month comes before"),
        ({"start": "2025-06", "end": "2026-06"}, "end", "Choose at most 12 months"),
        ({"severity": "0"}, "severity", "greater than or equal to 1"),
        ({"severity": "two"}, "severity", "A valid integer is required"),
        ({"customer": "1.5"}, "customer", "A valid integer is required"),
        ({"customer": str(2**64)}, "customer", "less than or equal to"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(db, query, field, message):
    response = client_for(StaffFactory(role="agent")).get(URL, query)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])


def test_the_schema_documents_the_endpoint_and_its_fields():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/reports/attainment/"]["get"]
    assert operation["operationId"] == "reports_attainment_retrieve"
    assert {p["name"] for p in operation["parameters"]} == {"start", "end", "severity", "customer"}
    assert all(p.get("description") for p in operation["parameters"])
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
    row = schema["components"]["schemas"]["AttainmentRow"]["properties"]
    assert "business time" in row["median_first_response_seconds"]["description"]
