"""The REST API's contracts and invoices: creating them, policy versions, bad input refused
with nothing saved, and filters."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractLine, Invoice
from tests.support.api_helpers import API, band_tuples, client_for, errors_text
from tests.support.factories import (
    ContractFactory,
    InvoiceFactory,
    ServiceFactory,
    policy_terms,
)


@pytest.fixture
def account_manager(customer_account_manager):
    return customer_account_manager  # here, the customer's own


def contract_payload(customer, service, **changes) -> dict:
    return {
        "customer": customer.pk,
        "policy": "tiered",
        "reference": "C-API-1",
        "start_date": "2026-02-01",
        "end_date": "2027-01-31",
        "currency": "USD",
        "lines": [{"service": service.pk, "monthly_fee": "1200.00"}],
        **changes,
    }


def test_account_manager_creates_a_contract_on_the_latest_policy_version(
    account_manager, customer, policy
):
    newer = services.policy_upsert(
        terms=policy_terms(policy.measurement_calendar, version=2), bands=band_tuples()
    )
    service = ServiceFactory()
    response = client_for(account_manager).post(
        f"{API}contracts/", contract_payload(customer, service), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["policy"], body["policy_version"]) == ("tiered", 2)
    assert body["lines"] == [{"service": service.pk, "monthly_fee": "1200.00"}]
    assert Contract.objects.get().policy == newer


def test_a_contract_can_name_an_older_policy_version(admin_user, customer, policy):
    services.policy_upsert(
        terms=policy_terms(policy.measurement_calendar, version=2), bands=band_tuples()
    )
    payload = contract_payload(customer, ServiceFactory(), policy_version=1)
    response = client_for(admin_user).post(f"{API}contracts/", payload, format="json")
    assert response.status_code == 201
    assert Contract.objects.get().policy == policy


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"start_date": "2026-03-01", "end_date": "2026-02-01"},
            None,
            "The contract cannot end before it starts.",
        ),
        ({"currency": "XYZ"}, "currency", "XYZ is not a supported currency"),
        ({"policy": "nope"}, "policy", "There is no SLA policy nope."),
        ({"policy_version": 7}, "policy", "There is no SLA policy tiered v7."),
        ({"lines": []}, "lines", "at least one service line"),
    ],
)
def test_a_bad_contract_is_refused_and_nothing_saved(
    admin_user, customer, policy, changes, field, words
):
    payload = contract_payload(customer, ServiceFactory(), **changes)
    response = client_for(admin_user).post(f"{API}contracts/", payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert words in (errors_text(response) if field is None else " ".join(errors[field]))
    assert not Contract.objects.exists()
    assert not ContractLine.objects.exists()


def test_a_negative_fee_is_refused_and_nothing_saved(admin_user, customer, policy):
    service = ServiceFactory(name="Reporting")
    payload = contract_payload(customer, service)
    payload["lines"] = [{"service": service.pk, "monthly_fee": "-5.00"}]
    response = client_for(admin_user).post(f"{API}contracts/", payload, format="json")
    assert response.status_code == 400
    assert "The fee for Reporting cannot be negative." in response.json()["lines"]
    assert not Contract.objects.exists()
    assert not ContractLine.objects.exists()


def test_account_manager_creates_an_invoice_in_the_contract_currency(account_manager, contract):
    response = client_for(account_manager).post(
        f"{API}invoices/",
        {
            "contract": contract.pk,
            "number": "INV-2026-02",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "amount": "1200.00",
            "issued_on": "2026-02-01",
            "due_on": "2026-03-03",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["customer"], body["amount"], body["currency"]) == (
        contract.customer_id,
        "1200.00",
        "USD",
    )
    assert body["paid_at"] is None


def test_an_invoice_due_before_it_is_issued_is_refused(admin_user, contract):
    response = client_for(admin_user).post(
        f"{API}invoices/",
        {
            "contract": contract.pk,
            "number": "INV-BAD",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "amount": "1200.00",
            "issued_on": "2026-03-01",
            "due_on": "2026-02-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "cannot fall due before it is issued" in errors_text(response)
    assert not Invoice.objects.exists()


def test_contract_filters(agent, contract, other_contract, policy):
    ended = ContractFactory(
        customer=contract.customer,
        policy=policy,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
    )
    client = client_for(agent)

    def ids(**params) -> set[int]:
        return {c["id"] for c in client.get(f"{API}contracts/", params).json()["results"]}

    assert ids(customer=contract.customer_id) == {contract.pk, ended.pk}
    assert ids(policy="tiered") == {contract.pk, other_contract.pk, ended.pk}
    assert ids(policy="other") == set()
    assert ids(active_on="2025-12-31") == {ended.pk}
    assert ids(active_on="2026-01-01", customer=contract.customer_id) == {contract.pk}
    assert client.get(f"{API}contracts/", {"active_on": "soon"}).status_code == 400


def test_invoice_filters(admin_user, invoice, other_invoice):
    paid = InvoiceFactory(contract=invoice.contract, due_on=date(2026, 3, 31))
    paid.paid_at = timezone.now()
    paid.save()
    client = client_for(admin_user)

    def ids(**params) -> set[int]:
        return {i["id"] for i in client.get(f"{API}invoices/", params).json()["results"]}

    assert ids(customer=invoice.customer_id) == {invoice.pk, paid.pk}
    assert ids(contract=other_invoice.contract_id) == {other_invoice.pk}
    assert ids(paid="true") == {paid.pk}
    assert ids(paid="false") == {invoice.pk, other_invoice.pk}
    assert ids(due_after="2026-02-01") == {paid.pk}
    assert ids(due_before="2026-01-31", customer=invoice.customer_id) == {invoice.pk}


@pytest.mark.parametrize("value", ["-1.4e80", "9223372036854775808", "1.5", "two"])
def test_an_id_filter_that_is_no_whole_number_in_range_is_a_400_naming_it(
    admin_user, contract, value
):
    # On SQLite a huge id could not even be bound as a parameter (a 500 before).
    for path, name in (("contracts/", "customer"), ("invoices/", "contract")):
        response = client_for(admin_user).get(f"{API}{path}", {name: value})
        assert response.status_code == 400
        assert name in response.json()


def test_an_id_filter_takes_a_whole_number_written_with_a_zero_fraction(agent, contract):
    response = client_for(agent).get(f"{API}contracts/", {"customer": f"{contract.customer_id}.0"})
    assert [c["id"] for c in response.json()["results"]] == [contract.pk]
