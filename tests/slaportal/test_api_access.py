"""The REST API: who may read and write what (tenancy, staff roles, anonymous callers),
and how scripts authenticate."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from contracts.models import Calendar, Contract, Customer, Invoice, SLAPolicy
from tests.support.api_helpers import API, ENDPOINTS, api_token_for, client_for
from tests.support.factories import (
    CustomerFactory,
    CustomerUserFactory,
    ServiceFactory,
    StaffFactory,
)

# ---------------------------------------------------------------- tenancy


@pytest.mark.parametrize("kind", ["customers", "contracts", "invoices"])
def test_customer_person_sees_only_their_own_organisation(
    kind, customer, other_customer, customer_user, invoice, other_invoice
):
    own = {"customers": customer, "contracts": invoice.contract, "invoices": invoice}[kind]
    foreign = {
        "customers": other_customer,
        "contracts": other_invoice.contract,
        "invoices": other_invoice,
    }[kind]
    client = client_for(customer_user)

    listed = client.get(f"{API}{kind}/").json()
    assert [row["id"] for row in listed["results"]] == [own.pk]
    assert listed["next"] is None
    assert client.get(f"{API}{kind}/{own.pk}/").status_code == 200
    assert client.get(f"{API}{kind}/{foreign.pk}/").status_code == 404


def test_customer_person_cannot_reach_another_organisation_through_filters(
    customer_user, invoice, other_invoice
):
    client = client_for(customer_user)
    other = other_invoice.customer_id
    assert client.get(f"{API}contracts/", {"customer": other}).json()["results"] == []
    assert client.get(f"{API}invoices/", {"customer": other}).json()["results"] == []
    assert client.get(f"{API}invoices/", {"contract": other_invoice.contract_id}).json() == {
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize("role", ["agent", "operations", "account_manager", "admin"])
def test_every_staff_role_reads_every_customer_and_contract(role, invoice, other_invoice):
    client = client_for(StaffFactory(role=role))
    for kind in ("customers", "contracts"):
        assert len(client.get(f"{API}{kind}/").json()["results"]) == 2


@pytest.mark.parametrize("role", ["agent", "operations"])
@pytest.mark.parametrize("kind", ["invoices", "credits", "ledger", "credit-notes"])
def test_staff_outside_billing_read_no_money(role, kind, invoice):
    """The pages refuse agents and operations the money pages; so does the API."""
    response = client_for(StaffFactory(role=role)).get(f"{API}{kind}/")
    assert response.status_code == 403, response.content


def test_an_account_manager_reads_only_the_invoices_of_customers_they_manage(
    customer, invoice, other_invoice, account_manager
):
    customer.account_managers.add(account_manager)
    client = client_for(account_manager)
    listed = client.get(f"{API}invoices/").json()
    assert [row["id"] for row in listed["results"]] == [invoice.pk]
    assert client.get(f"{API}invoices/{invoice.pk}/").status_code == 200
    assert client.get(f"{API}invoices/{other_invoice.pk}/").status_code == 404
    # An administrator reads every customer's.
    admin = client_for(StaffFactory(role="admin"))
    assert len(admin.get(f"{API}invoices/").json()["results"]) == 2


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_agents_and_customers_read_no_statement_drafts(role, customer, customer_user):
    user = customer_user if role == "customer" else StaffFactory(role=role)
    response = client_for(user).get(f"{API}statements/", {"status": "draft"})
    assert response.status_code == (403 if role == "agent" else 200)
    if role == "customer":
        assert response.json()["results"] == []


def test_a_person_with_neither_organisation_nor_role_sees_no_customer_data(invoice):
    client = client_for(StaffFactory(role="unrelated-group"))
    for kind in ("customers", "contracts", "invoices"):
        assert client.get(f"{API}{kind}/").json()["results"] == []
    assert client.get(f"{API}invoices/{invoice.pk}/").status_code == 404


def test_customers_read_the_shared_catalog_but_not_calendars(customer_user, policy):
    service = ServiceFactory()
    client = client_for(customer_user)
    assert client.get(f"{API}services/{service.pk}/").status_code == 200
    assert client.get(f"{API}policies/tiered/").status_code == 200
    assert client.get(f"{API}calendars/").status_code == 403
    assert client.get(f"{API}calendars/help-desk/").status_code == 403
    assert client_for(StaffFactory(role="agent")).get(f"{API}calendars/").status_code == 200


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_anonymous_callers_are_refused(kind, invoice):
    client = client_for()
    assert client.get(f"{API}{kind}/").status_code in (401, 403)
    assert client.post(f"{API}{kind}/", {}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_customer_people_never_write(kind, customer_user, customer_admin, contract):
    before = {m: m.objects.count() for m in (Customer, Calendar, SLAPolicy, Contract, Invoice)}
    for person in (customer_user, customer_admin):
        response = client_for(person).post(f"{API}{kind}/", {}, format="json")
        assert response.status_code == 403
    assert {m: m.objects.count() for m in before} == before


def test_customer_admin_cannot_edit_their_own_organisation(customer, customer_admin):
    response = client_for(customer_admin).patch(
        f"{API}customers/{customer.pk}/", {"name": "Renamed"}, format="json"
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name != "Renamed"


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        ("agent", "contracts", False),
        ("operations", "invoices", False),
        ("account_manager", "customers", False),
        ("account_manager", "policies", False),
        ("account_manager", "contracts", True),
        ("account_manager", "invoices", True),
        ("admin", "customers", True),
    ],
)
def test_only_the_right_staff_roles_write(role, kind, allowed, customer):
    response = client_for(StaffFactory(role=role)).post(f"{API}{kind}/", {}, format="json")
    # Allowed callers get past the permission and fail on the empty payload instead.
    assert response.status_code == (400 if allowed else 403)


# ---------------------------------------------------------------- auth & schema


def test_a_script_authenticates_with_a_token(invoice):
    manager = StaffFactory(role="account_manager")
    invoice.customer.account_managers.add(manager)
    token = api_token_for(manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert len(client.get(f"{API}invoices/").json()["results"]) == 1
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(f"{API}invoices/").status_code in (401, 403)


def test_a_customer_token_is_scoped_like_the_browser(customer_user, invoice, other_invoice):
    token = api_token_for(customer_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [i["id"] for i in client.get(f"{API}invoices/").json()["results"]] == [invoice.pk]
    assert client.get(f"{API}invoices/{other_invoice.pk}/").status_code == 404


def test_schema_and_docs_are_served(db):
    client = client_for(CustomerUserFactory(customer=CustomerFactory()))
    schema = client.get(f"{API}schema/")
    assert schema.status_code == 200
    assert b"/api/v1/policies/{code}/" in schema.content
    assert client.get(f"{API}docs/").status_code == 200
