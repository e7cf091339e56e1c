"""The REST API's lists: every list is paginated, page sizes, and a query count that does
not grow with the rows."""

from __future__ import annotations

import pytest

from tests.support.api_helpers import API, ENDPOINTS, client_for
from tests.support.factories import ContractFactory, ContractLineFactory, ServiceFactory


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_every_list_is_paginated(kind, admin_user, invoice):
    body = client_for(admin_user).get(f"{API}{kind}/").json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == len(body["results"]) >= 1


def test_page_size_can_be_asked_for_up_to_200(admin_user):
    for _ in range(3):
        ServiceFactory()
    client = client_for(admin_user)
    body = client.get(f"{API}services/", {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert "page=2" in body["next"]
    assert len(client.get(body["next"]).json()["results"]) == 1


def test_lists_default_to_pages_of_50_and_cap_page_size_at_200(admin_user):
    ServiceFactory.create_batch(201)
    client = client_for(admin_user)
    assert len(client.get(f"{API}services/").json()["results"]) == 50
    assert len(client.get(f"{API}services/", {"page_size": 500}).json()["results"]) == 200


def test_list_queries_do_not_grow_with_the_rows(
    admin_user, contract, other_contract, invoice, django_assert_max_num_queries
):
    client = client_for(admin_user)
    for _ in range(5):
        ContractLineFactory(contract=ContractFactory(policy=contract.policy))
    # session, user, roles, count, page, then one query per prefetched relation
    for kind, most in (("contracts", 7), ("policies", 8), ("customers", 6), ("calendars", 7)):
        with django_assert_max_num_queries(most):
            assert client.get(f"{API}{kind}/").status_code == 200
