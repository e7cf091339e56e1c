"""The REST API's customers and services: writing them, bad input, and filters."""

from __future__ import annotations

from contracts.models import Customer
from tests.support.api_helpers import API, client_for


def test_admin_creates_and_updates_a_customer_with_account_managers(admin_user, account_manager):
    client = client_for(admin_user)
    response = client.post(
        f"{API}customers/",
        {
            "name": "Acme",
            "billing_emails": ["ap@acme.test", "cfo@acme.test"],
            "time_zone": "Europe/Berlin",
            "account_managers": [account_manager.pk],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["billing_emails"] == ["ap@acme.test", "cfo@acme.test"]
    assert body["account_managers"] == [account_manager.pk]

    response = client.patch(
        f"{API}customers/{body['id']}/", {"time_zone": "Europe/London"}, format="json"
    )
    assert response.status_code == 200
    assert Customer.objects.get(name="Acme").time_zone == "Europe/London"
    assert response.json()["account_managers"] == [account_manager.pk]

    response = client.patch(
        f"{API}customers/{body['id']}/", {"account_managers": []}, format="json"
    )
    assert response.json()["account_managers"] == []
    assert not Customer.objects.get(name="Acme").account_managers.exists()


def test_account_managers_must_hold_the_role(admin_user, agent):
    response = client_for(admin_user).post(
        f"{API}customers/",
        {"name": "Acme", "billing_emails": ["ap@acme.test"], "account_managers": [agent.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "is not an account manager" in response.json()["account_managers"][0]
    assert not Customer.objects.exists()


def test_unknown_time_zone_on_a_customer_is_refused(admin_user, customer):
    client = client_for(admin_user)
    payload = {"name": "Acme", "billing_emails": ["ap@acme.test"], "time_zone": "Mars/Olympus"}
    response = client.post(f"{API}customers/", payload, format="json")
    assert response.status_code == 400
    assert "not a known IANA time zone" in response.json()["time_zone"][0]
    assert Customer.objects.count() == 1

    response = client.patch(
        f"{API}customers/{customer.pk}/", {"time_zone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.time_zone == "America/Chicago"


def test_admin_creates_a_service(admin_user):
    response = client_for(admin_user).post(
        f"{API}services/", {"code": "api", "name": "Public API"}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "code": "api",
        "name": "Public API",
        "critical": True,
        "description": "",
    }


def test_customer_filter_by_name(agent, customer, other_customer):
    listed = client_for(agent).get(f"{API}customers/", {"name": customer.name}).json()
    assert [c["id"] for c in listed["results"]] == [customer.pk]
